"""The booking draft: what every booking step reads from the conversation's data (the expert, the rules,
the series, the time picker on top), the details form, and a fresh draft. No step is shown from here."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from core.booking_service import programme_of, session_rules_for
from core.experts import Expert
from core.recurrence import Frequency
from core.errors import InvalidSession
from core.sessions import OUTCOME_MAX, TEXT_MAX, TITLE_MAX, SessionDetails, SessionRules, validate_details
from bot.flows.base import Context
from bot.flows.errors import explain
from bot.flows.dialog import active_name, caller_data, instants
from bot.forms import Field, Form, declare
from bot.i18n import Translator
from bot.payloads import p
from bot.replies import Button
from bot.flows.typed_times import day_text
from bot.flows.time_picker import NAME as PICKER_DIALOG
from bot.flows.time_picker import TimePicker

NAME = "book"


class Act(StrEnum):
    """Every press this flow takes: readable names in the code, short wire codes (bot/payloads.py) as values."""

    PICK_EXPERT = "pick"
    SEARCH_AGAIN = "again"
    CONFIRM = "ok"
    CHANGE_TIME = "chg"
    STOP = "stop"
    FILTER = "flt"
    MORE = "more"
    LENGTH = "len"
    COUNT = "cnt"
    REPEAT = "rep"
    REPEAT_COUNT = "rcn"
    REPEAT_UNTIL = "rcu"
    DAY = "day"
    LATER_DAYS = "days"
    SLOT = "slot"
    REPEAT_ONCE = "rone"
    SERIES_OK = "sok"
    SERIES_OTHER_START = "sother"
    REPEAT_BACK = "rback"
    CHANGE_LENGTH = "chl"
    COUNT_BACK = "cntback"
    BACK = "back"
    TYPED_YES = "tyes"
    TYPED_NO = "tno"
    SKIP = "skip"
    DONE = "done"


def too_long(t: Translator, limit: object, count: int) -> str:
    return t.plural("Please keep this shorter ({max} character at most); yours has {count}.",
                    "Please keep this shorter ({max} characters at most); yours has {count}.",
                    limit if isinstance(limit, int) else 0, max=limit, count=count)


def on_hold(t: Translator, held: int, available: int) -> str:
    return (t.plural("{credits} credit is on hold until it is answered.",
                     "{credits} credits are on hold until it is answered.", t.credits_n(held), credits=t.credits(held))
            + " " + t.plural("{available} credit is still available.", "{available} credits are still available.",
                             t.credits_n(available), available=t.credits(available)))


def again_button(t: Translator) -> Button:
    """"Find another expert": a new search, from anywhere (a declined or expired request, say)."""
    return Button(t("Find another expert"), p(NAME, Act.SEARCH_AGAIN))


def book_button(t: Translator) -> Button:
    """"Book a session" (the App Home): the same new search."""
    return Button(t("Book a session"), p(NAME, Act.SEARCH_AGAIN))
DIALOG = "book"  # the booking's own dialog on the conversation's stack (the time picker goes on top of it)
CHAT_MAX_MEETINGS = 10  # one request in the chat; a programme's own cap may be lower
MAX_FILES = 10
DETAIL_STEPS = ("title", "outcome", "intro", "context", "files")
FORM_STEPS = ("title", "outcome", "intro", "context")  # the steps the details form answers at once
FORM_FIELD_OF = {"title": "title", "outcome": "outcome", "intro": "intro", "context": "context"}
FILES_NEXT = "fnext"  # the details came by the form but a time had gone: after the new pick, the files step
PICKER = TimePicker(NAME)  # the booking's time picker: its buttons carry the book flow's wire codes


def picked_times(ctx: Context) -> list[datetime]:
    return instants(ctx.data.get("slots", []))


def draft_expert(ctx: Context) -> Expert | None:
    expert_id = ctx.data.get("x")
    if not isinstance(expert_id, int):
        return None
    return ctx.uow.experts.get(expert_id)


def on_marketplace(ctx: Context) -> bool:
    """A programme founder pays in programme credits: an expert's money rate would only confuse them."""
    return programme_of(ctx.uow, ctx.person) is None


def rules_of(ctx: Context) -> SessionRules:
    """The programme's session rules, looked up once per event (several steps ask)."""
    memo = ctx.__dict__.setdefault("_book_memo", {})
    if "rules" not in memo:
        memo["rules"] = session_rules_for(ctx.uow, ctx.person)
    rules: SessionRules = memo["rules"]
    return rules


def client_id(ctx: Context) -> int:
    assert ctx.person.id is not None
    return ctx.person.id


def reset(ctx: Context, step: str, **keep: Any) -> None:
    """A fresh draft (the search words and filters may be kept)."""
    ctx.goto(NAME, step)
    ctx.convo.data = dict(keep)


def filters_of(ctx: Context) -> dict[str, Any]:
    f = ctx.data.get("f")
    return f if isinstance(f, dict) else {}


def frequency_in(ctx: Context) -> Frequency | None:
    value = ctx.data.get("rep")
    return Frequency(value) if value in {f.value for f in Frequency} else None


def forget_series(ctx: Context) -> None:
    for key in ("rep", "rcnt", "rend", "first"):
        ctx.data.pop(key, None)


def typed_int(text: str) -> int | None:
    text = text.strip()
    # Typed, so any script's digits ("३"), but not "²" (isdigit() is true for it and int() fails).
    return int(text) if text.isdecimal() and len(text) <= 4 else None


def day_label(ctx: Context, day: date) -> str:
    return day_text(ctx.t, day)  # ctx.t carries the person's zone


def max_meetings(ctx: Context) -> int:
    cap = rules_of(ctx).max_meetings
    return min(cap, CHAT_MAX_MEETINGS) if cap is not None else CHAT_MAX_MEETINGS


def one_meeting(ctx: Context) -> bool:
    """The waitlist offers one time: it is offered while a one-meeting request has no time yet."""
    return int(ctx.data.get("n", 1)) == 1 and not ctx.data.get("slots") and ctx.data.get("title") is None


def picking(ctx: Context) -> bool:
    """The time picker is on top of this booking."""
    return ctx.convo.flow == NAME and active_name(ctx, DIALOG) == PICKER_DIALOG


def draft_data(ctx: Context) -> dict[str, Any]:
    """The booking's own data, also while the time picker is on top of it."""
    return (caller_data(ctx) if picking(ctx) else None) or ctx.data


def _details_form(t: Translator) -> Form:
    """The booking's text questions as one form (Slack's modal); other chats ask them step by step."""
    return Form("details", t("Session details"), t("Continue"), t("Cancel"), (
        Field("title", t("Title"), t("For example “Fundraising strategy advice”."), TITLE_MAX),
        Field("outcome", t("Desired outcome"),
              t("Something meaningful yet achievable: a clear ask is more likely to be accepted."), OUTCOME_MAX,
              multiline=True),
        Field("intro", t("Intro note (optional)"), t("Break the ice and greet your mentor."), TEXT_MAX,
              optional=True, multiline=True),
        Field("context", t("Context (optional)"),
              t("Your background, where you are now, your questions, anything to read first."), TEXT_MAX,
              optional=True, multiline=True),
    ))


def details_of(fields: dict[str, str]) -> SessionDetails:
    return SessionDetails(fields.get("title", ""), fields.get("outcome", ""), context=fields.get("context", ""),
                          intro_note=fields.get("intro", ""))


def check_details(t: Translator, fields: dict[str, str]) -> dict[str, str]:
    """The core's rules on the typed details, refused field by field; needs no state, so Slack can answer a
    refused form in its ack, before anything is stored."""
    try:
        validate_details(details_of(fields))
    except InvalidSession as error:
        field = FORM_FIELD_OF.get(error.reason.split("_", 1)[0], "title")
        if error.reason in ("intro_note_too_long", "context_too_long"):
            return {field: too_long(t, error.context.get("limit"), len(fields.get(field, "")))}
        message = explain(t, error)
        if error.reason.endswith("too_long"):
            message += " " + t("Yours has {count}.", count=len(fields.get(field, "")))
        return {field: message}
    return {}


DETAILS_FORM = declare("details", _details_form, check_details)
