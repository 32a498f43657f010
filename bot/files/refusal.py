"""What the sender of a refused file is told (the dispatcher says it, in their language)."""

from __future__ import annotations

from bot.i18n import Translator

TOO_BIG, NOT_ALLOWED, FAILED = "too_big", "type", "failed"


def refusal(t: Translator, problem: str, name: str) -> str:
    """What the sender is told when their file was not taken."""
    kind, _, limit = problem.partition(":")
    if kind == TOO_BIG:
        return t("“{name}” is too large: I take files up to {mb} MB. Nothing was saved; please send a smaller "
                 "file.", name=name, mb=int(limit) if limit.isdigit() else 0)
    if kind == NOT_ALLOWED:
        return t("I cannot take “{name}”: I accept PDF, images, office documents, text files and zip archives. "
                 "Nothing was saved.", name=name)
    return t("I could not fetch “{name}” just now. Please send it again.", name=name)
