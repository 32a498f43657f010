"""Forms a flow declares once: fields with labels, hints and limits, in the reader's language.

A chat that can show a form at once (Slack's modal) builds it from the declaration; every other chat asks the
fields one at a time in the flow's own steps, and both end in the flow's same checks (Flow.on_form). Adapters
look a form up by name here, so they never import a flow: a flow declares its forms when it is imported, and
marks the buttons and replies that lead to one (Button.form, Reply.form)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.i18n import Translator


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    label: str
    hint: str
    max_length: int
    optional: bool = False
    multiline: bool = False


@dataclass(frozen=True, slots=True)
class Form:
    name: str
    title: str
    submit: str
    cancel: str
    fields: tuple[Field, ...]


FormBuilder = Callable[[Translator], Form]
FormCheck = Callable[[Translator, dict[str, str]], dict[str, str]]
_DECLARED: dict[str, FormBuilder] = {}
_CHECKS: dict[str, FormCheck] = {}


def declare(name: str, builder: FormBuilder, check: FormCheck | None = None) -> str:
    """Called by the flow that owns the form, at import; returns the name to put on buttons and replies.
    check: the form's own rules on what was typed (field -> why), pure, so a chat can refuse a form before
    it is stored, in the ack (Slack's 3 s); the flow applies the same rules again when it takes the form."""
    _DECLARED[name] = builder
    if check is not None:
        _CHECKS[name] = check
    return name


def check(name: str, t: Translator, fields: dict[str, str]) -> dict[str, str]:
    """A form's answers against its own rules, without any state: {} when they pass (or it declares none)."""
    rules = _CHECKS.get(name)
    return rules(t, fields) if rules is not None else {}


def build(name: str, t: Translator) -> Form | None:
    builder = _DECLARED.get(name)
    return builder(t) if builder is not None else None
