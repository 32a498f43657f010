"""Button payloads: short, versioned strings. "1|book|day|7|2030-03-05".

The version lets a press on a message from an older release be recognised and
answered politely instead of misread. Fields never contain "|".

Only flows build payloads: each names its actions in a StrEnum whose values are these short codes, and other
modules get a flow's buttons from its builders (tests/test_wire_codes.py checks that nobody else spells them).
"""

from __future__ import annotations

from dataclasses import dataclass

VERSION = "1"
SEP = "|"


@dataclass(frozen=True, slots=True)
class Payload:
    flow: str
    action: str
    args: tuple[str, ...] = ()

    def encode(self) -> str:
        parts = (VERSION, self.flow, self.action, *self.args)
        if any(SEP in p for p in parts):
            raise ValueError(f"payload fields may not contain {SEP!r}: {parts}")
        return SEP.join(parts)


def decode(raw: str) -> Payload | None:
    """None for anything not made by this version (old releases, crafted junk)."""
    parts = raw.split(SEP)
    if len(parts) < 3 or parts[0] != VERSION or not parts[1] or not parts[2]:
        return None
    return Payload(parts[1], parts[2], tuple(parts[3:]))


def p(flow: str, action: str, *args: object) -> str:
    return Payload(flow, action, tuple(str(a) for a in args)).encode()
