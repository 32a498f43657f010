"""Find and book: search by intent with filters, expert cards, length and number of meetings as the
rules allow, a day and a slot (or a time typed in words) for each meeting, the details, then a summary
with price and balance before anything is held.

Nothing is written until Confirm: every step keeps its state in ctx.data, so /cancel leaves nothing
behind and any process can continue the conversation. The core re-checks everything at Confirm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from core.availability import check_slot, first_free_slot, free_slots, local_day_bounds
from core.booking_service import (
    affordability,
    preview_series,
    programme_of,
    request_booking,
    request_series,
    session_rules_for,
    visible_expert_ids,
)
from core.credit_service import available as available_credits
from core.discovery import SearchFilters, SearchQuery
from core.discovery_service import Match, search_experts
from core.errors import InvalidSession, NotAllowed, NotFound
from core.files import attach_to_booking
from core.experts import Expert
from core.lifecycle import BookingStatus
from core.pricing import session_price
from core.recurrence import MAX_OCCURRENCES, Frequency, OccurrenceCheck
from core.review_service import latest_reviews
from core.waitlist_service import offer_taken
from core.schedule import Busy, Schedule, SlotProblem
from core.sessions import (
    OUTCOME_MAX,
    TEXT_MAX,
    TITLE_MAX,
    MeetingRequest,
    SessionDetails,
    SessionRules,
    lengths_for,
    nudges,
    validate_details,
    validate_meetings,
)
from bot.flows.actions import ID_MAX, Choice, Day, Either, Id, Int, Opt, Slot, Stamp, Text, ascii_int
from bot.flows.base import Context, Flow, outdated
from bot.forms import Field, Form, declare
from bot.i18n import Translator
from bot.flows.errors import explain, out_of_credits_options
from bot.flows.pickers import (
    between_hint,
    day_buttons,
    later_days_start,
    local_day,
    nearest,
    on_day,
    parse_day_arg,
    parse_slot_arg,
    slot_arg,
    slot_buttons,
    slots_text,
    thin,
)
from bot.flows.series_words import (
    CODE_OF,
    COUNT_BUTTONS,
    FREQUENCY_CODES,
    count_ok,
    free_starts,
    frequency_label,
    frequency_of,
    how_often,
    month_ends,
    moves_for_reader,
    preview_lines,
    read_count,
    strip_until,
)
from bot.flows.typed_times import OUTSIDE_HOURS, Ask, Passed, Refuse, ShowDay, Take, day_text, meaning
from bot.flows.typed_times import read as read_typed
from bot.flows.waitlist import join_button, show_entries
from bot.replies import Button, rows
from bot.review_notices import clip, quoted
from bot.words import language_name

NAME = "book"
CARD_CLIP = 200  # a review on an expert's card is cut here (the whole text stays stored)
PAGE = 5  # expert cards per message
CHAT_MAX_MEETINGS = 10  # one request in the chat; a programme's own cap may be lower
MAX_FILES = 10
NEAREST = 6  # free slots offered around a time that did not work
LIST_STEP = timedelta(minutes=30)  # the grid shown as buttons; typed times may use any quarter hour
NEAR_STEP = timedelta(minutes=15)
_MARGIN = timedelta(days=1)  # busy time around the horizon, for buffers and the daily cap

# Steps where a time is being chosen: slot presses and typed times are accepted in all of them.
_TIME_STEPS = frozenset({"day", "slot", "typed"})
_DETAIL_STEPS = ("title", "outcome", "intro", "context", "files")
FORM_STEPS = ("title", "outcome", "intro", "context")  # the steps the details form answers at once


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


DETAILS_FORM = declare("details", _details_form)
_FORM_FIELD_OF = {"title": "title", "outcome": "outcome", "intro": "intro", "context": "context"}


# ---------------------------------------------------------------- what one event needs about the expert


@dataclass(frozen=True, slots=True)
class _Availability:
    """The expert's schedule and busy time, loaded once per event (one query), plus this draft's picks."""

    schedule: Schedule
    busy: list[Busy]
    now: datetime

    def free(self, minutes: int, *, step: timedelta = LIST_STEP, start: datetime | None = None,
             end: datetime | None = None) -> list[datetime]:
        return free_slots(self.schedule, self.busy, timedelta(minutes=minutes), self.now, start=start, end=end,
                          step=step)

    def problem(self, at: datetime, minutes: int) -> SlotProblem | None:
        return check_slot(self.schedule, self.busy, at, timedelta(minutes=minutes), self.now)


def _availability(ctx: Context, expert: Expert) -> _Availability:
    assert expert.id is not None
    now = ctx.clock.now()
    schedule, busy = ctx.uow.experts.availability_ahead(expert.id, now, _MARGIN)  # one round trip
    minutes = int(ctx.data.get("len") or 0)
    for start in _picked(ctx):  # this draft's own meetings block their time too
        busy.append(Busy(start, start + timedelta(minutes=minutes)))
    return _Availability(schedule, busy, now)


def _picked(ctx: Context) -> list[datetime]:
    out = []
    for arg in ctx.data.get("slots", []):
        at = parse_slot_arg(str(arg))
        if at is not None:
            out.append(at)
    return out


def _expert(ctx: Context) -> Expert | None:
    expert_id = ctx.data.get("x")
    if not isinstance(expert_id, int):
        return None
    return ctx.uow.experts.get(expert_id)


def _on_marketplace(ctx: Context) -> bool:
    """A programme founder pays in programme credits: an expert's money rate would only confuse them."""
    return programme_of(ctx.uow, ctx.person) is None


def _rules(ctx: Context) -> SessionRules:
    """The programme's session rules, looked up once per event (several steps ask)."""
    memo = ctx.__dict__.setdefault("_book_memo", {})
    if "rules" not in memo:
        memo["rules"] = session_rules_for(ctx.uow, ctx.person)
    rules: SessionRules = memo["rules"]
    return rules


def _client_id(ctx: Context) -> int:
    assert ctx.person.id is not None
    return ctx.person.id


# ---------------------------------------------------------------- the flow


class BookFlow(Flow):
    name = NAME
    commands = ("book",)
    actions = {
        "pick": (Id(),), "again": (Opt(Stamp()),),
        "ok": (Stamp(),), "chg": (Stamp(),), "stop": (Stamp(),),  # the summary's draft is its stamp
        "flt": (Stamp(), Choice(("pb", "pball", "paid", "week", "clear", "anylang", "lang")), Opt(Text(8))),
        "more": (Stamp(), Int(0, 999)),
        "len": (Stamp(), Int(1, 1440)),
        "cnt": (Stamp(), Either((Choice(("more",)), Int(1, CHAT_MAX_MEETINGS)))),
        "rep": (Stamp(), Choice(tuple(FREQUENCY_CODES))),
        "rcn": (Stamp(), Int(1, MAX_OCCURRENCES)), "rcu": (Stamp(), Day()),
        "day": (Stamp(), Day()), "days": (Stamp(), Day()), "slot": (Stamp(), Slot()),
        **{a: (Stamp(),) for a in ("rone", "sok", "sother", "rback", "chl", "cntback", "back", "tyes", "tno",
                                   "skip", "done")},
    }

    def start(self, ctx: Context, args: str) -> None:
        """/book [topic], or plain words typed outside any flow."""
        _reset(ctx, "intent")
        intent = args.strip()
        if intent:
            ctx.data["q"] = intent[:200]
            _search(ctx)
        else:
            _ask_intent(ctx)
            show_entries(ctx)  # "You are on Eve's waitlist", with Leave

    # ---- typing

    def on_text(self, ctx: Context, text: str) -> None:
        step = ctx.convo.step
        text = text.strip()
        if step in ("intent", "results", "broke", "nofree", ""):
            if not text:
                _ask_intent(ctx)
                return
            ctx.data.update(q=text[:200], page=0)
            _search(ctx)
            return
        expert = _expert(ctx)
        if expert is None:  # the expert disappeared meanwhile: start over, politely
            _reset(ctx, "intent")
            ctx.say(ctx.t("I could not find that expert any more."))
            _ask_intent(ctx)
            return
        if step == "length":
            minutes = _int(text.lower().replace("minutes", "").replace("min", ""))
            if minutes is None:
                _ask_length(ctx, expert, lead=[ctx.t("Please pick a length with the buttons, or type the minutes "
                                                     "(for example 30).")])
                return
            _choose_length(ctx, expert, minutes)
        elif step in ("count", "count_more"):
            n = _int(text)
            if n is None:
                _ask_count(ctx, expert, lead=[ctx.t("Please type the number of meetings as a number, for example "
                                                    "2, or use the buttons.")])
                return
            _choose_count(ctx, expert, n)
        elif step == "rcount":
            _typed_series_count(ctx, expert, text)
        elif step == "sprev":
            _series_preview(ctx, expert, lead=[ctx.t("Please use the buttons: go ahead with the free dates, or pick "
                                                     "another start.")])
        elif step in _TIME_STEPS:
            _typed_time(ctx, expert, text)
        elif step in ("title", "outcome", "intro", "context"):
            _detail(ctx, expert, step, text)
        elif step == "files":
            ctx.say(ctx.t("Send a file to attach it, or press Done when you have added everything."),
                    ((ctx.step_button(ctx.t("Done"), NAME, "done"),),))
        elif step == "summary":
            ctx.say(ctx.t("Please use the buttons: Confirm sends the request; Change time picks other times; "
                          "Cancel stops without booking."), _summary_buttons(ctx, str(ctx.data.get("sum", ""))))
        else:
            super().on_text(ctx, text)

    def on_file(self, ctx: Context, ref: str) -> None:
        """Attachments go with the request: accepted once an expert is chosen, kept until Confirm."""
        if ctx.convo.flow != NAME or not isinstance(ctx.data.get("x"), int) or not ref:
            super().on_file(ctx, ref)
            return
        files: list[str] = list(ctx.data.get("files", []))
        if len(files) >= MAX_FILES:
            ctx.say(ctx.t("That is {max} files already, the most one request takes.", max=MAX_FILES))
            return
        files.append(ref[:500])
        ctx.data["files"] = files
        if ctx.convo.step == "files":
            ctx.say(ctx.t("Attached ({count} so far). Send more, or press Done.", count=len(files)),
                    ((ctx.step_button(ctx.t("Done"), NAME, "done"),),))
        elif ctx.convo.step == "summary":
            expert = _expert(ctx)
            if expert is not None:
                _summary(ctx, expert, lead=[ctx.t("Attached ({count} so far).", count=len(files))])
        else:
            # Attaching saves the draft, which makes the step's buttons on screen stale: show them again.
            ctx.say(ctx.t("Attached ({count} so far). It goes with your request.", count=len(files)))
            _again(ctx)

    def on_form(self, ctx: Context, fields: dict[str, str]) -> None:
        """Title, outcome, intro and context at once (Slack's modal): the same rules as typing them one by
        one, refused field by field, and the chosen times checked again, since they may have gone meanwhile."""
        t = ctx.t
        expert = _expert(ctx)
        if ctx.convo.flow != NAME or ctx.convo.step not in FORM_STEPS or expert is None:
            super().on_form(ctx, fields)
            return
        draft = SessionDetails(fields.get("title", ""), fields.get("outcome", ""),
                               context=fields.get("context", ""), intro_note=fields.get("intro", ""))
        try:
            clean = validate_details(draft)
        except InvalidSession as error:
            field = _FORM_FIELD_OF.get(error.reason.split("_", 1)[0], "title")
            message = explain(t, error, ctx.person)
            if error.reason in ("intro_note_too_long", "context_too_long"):
                message = t("Please keep this shorter ({max} characters at most); yours has {count}.",
                            max=error.context.get("limit"), count=len(fields.get(field, "")))
            ctx.form_errors[field] = message
            return
        gone = _times_gone(ctx, expert)
        if gone:
            ctx.form_errors["title"] = t("Sorry, {when} was just taken. Close this form to pick another time.",
                                         when=t.both(gone, expert.timezone))
            return
        ctx.data.update(title=clean.title, outcome=clean.outcome, intro=clean.intro_note, context=clean.context)
        _ask_detail(ctx, expert, "files", lead=[t("Thanks, the details are in: “{title}”.", title=clean.title)])

    # ---- pressing

    def on_press(self, ctx: Context, action: str, args: tuple[str, ...]) -> None:
        # Action buttons: checked against the database and the draft, not the conversation version.
        expert_id = ascii_int(args[0], 1, ID_MAX) if action == "pick" and len(args) == 1 else None
        if expert_id is not None:
            _pick(ctx, expert_id)
            return
        if action == "again":
            self.start(ctx, "")
            return
        if action in ("ok", "chg", "stop") and len(args) == 1:
            _summary_action(ctx, action, args[0])
            return
        # Wizard buttons: valid only on the latest message.
        if not ctx.pressed_current(NAME, args):
            _stale(ctx)
            return
        rest = args[1:]
        if action == "flt" and rest:
            _filter(ctx, rest)
            return
        page = ascii_int(rest[0], 0, 999) if action == "more" and len(rest) == 1 else None
        if page is not None:
            _search(ctx, page=page)
            return
        expert = _expert(ctx)
        if expert is None:
            _stale(ctx)
            return
        step = ctx.convo.step
        minutes = ascii_int(rest[0], 1, 1440) if action == "len" and len(rest) == 1 else None
        if minutes is not None:
            # The rules decide before the step does: a forged length is refused by the core's validation.
            validate_meetings(expert, [MeetingRequest(ctx.clock.now(), minutes)], _rules(ctx))
            if step != "length":
                _stale(ctx)
                return
            _choose_length(ctx, expert, minutes)
        elif action == "cnt" and len(rest) == 1:
            if rest[0] == "more":
                if step != "count":
                    _stale(ctx)
                    return
                _ask_more(ctx)
                return
            n = ascii_int(rest[0], 1, CHAT_MAX_MEETINGS)  # bounded before a list of n meetings is built
            if n is None:
                _stale(ctx)
                return
            _validate_count(ctx, expert, n)
            if step not in ("count", "count_more"):
                _stale(ctx)
                return
            _choose_count(ctx, expert, n)
        elif action == "rep" and len(rest) == 1 and step in ("count", "count_more") and not expert.is_pro_bono:
            frequency = frequency_of(rest[0])
            if frequency is None:
                _stale(ctx)
                return
            ctx.data.update(rep=frequency.value, n=1, slots=[])
            _ask_series_count(ctx, expert)
        elif action == "rcn" and len(rest) == 1 and step == "rcount" and ascii_int(rest[0], 1, MAX_OCCURRENCES):
            _choose_series(ctx, expert, count=ascii_int(rest[0], 1, MAX_OCCURRENCES))
        elif action == "rcu" and len(rest) == 1 and step == "rcount" and parse_day_arg(rest[0]):
            _choose_series(ctx, expert, until=parse_day_arg(rest[0]))
        elif action == "rone" and step == "rcount":
            _choose_series(ctx, expert, count=1)
        elif action == "sok" and step == "sprev":
            _series_go_ahead(ctx, expert)
        elif action == "sother" and step == "sprev":
            ctx.data["slots"] = []
            _ask_day(ctx, expert, lead=[ctx.t("Pick another start for the series.")])
        elif action == "rback" and step == "sprev":
            ctx.data["slots"] = []
            _ask_series_count(ctx, expert)
        elif action == "chl" and step in _TIME_STEPS | {"count", "count_more", "rcount"} and not expert.is_pro_bono:
            ctx.data["slots"] = []
            _forget_series(ctx)
            if len(lengths_for(expert, _rules(ctx))) > 1:
                _ask_length(ctx, expert)
            else:
                _ask_count(ctx, expert)
        elif action == "cntback" and step == "count_more":
            _ask_count(ctx, expert)
        elif action == "day" and len(rest) == 1 and step in _TIME_STEPS:
            day = parse_day_arg(rest[0])
            if day is None:
                _stale(ctx)
                return
            _ask_slot(ctx, expert, day)
        elif action == "days" and len(rest) == 1 and step in _TIME_STEPS:
            _ask_day(ctx, expert, start_from=parse_day_arg(rest[0]))
        elif action == "back" and step in _TIME_STEPS:
            _ask_day(ctx, expert)
        elif action == "slot" and len(rest) == 1 and step in _TIME_STEPS:
            at = parse_slot_arg(rest[0])
            if at is None:
                _stale(ctx)
                return
            _take_slot(ctx, expert, at)
        elif action == "tyes" and step == "typed":
            at = parse_slot_arg(str(ctx.data.get("typed", "")))
            if at is None:
                _stale(ctx)
                return
            _take_slot(ctx, expert, at)
        elif action == "tno" and step == "typed":
            ctx.data.pop("typed", None)
            _ask_day(ctx, expert, lead=[ctx.t("No problem. Pick a day, or type another time.")])
        elif action == "skip" and step in ("intro", "context"):
            ctx.data["intro" if step == "intro" else "context"] = ""
            _next_detail(ctx, expert, step)
        elif action == "done" and step == "files":
            _summary(ctx, expert)
        else:
            _stale(ctx)


def _stale(ctx: Context) -> None:
    """A press from an earlier message: say so, change nothing, and show the current step again.

    This answer moves the conversation on too, so the buttons on screen would be stale as well; showing
    the current step again gives the client fresh ones instead of a dead end.
    """
    outdated(ctx)
    _again(ctx)


def _again(ctx: Context) -> None:
    """Show the current step again, with buttons stamped for the version this answer saves."""
    if ctx.convo.flow != NAME:
        return
    step = ctx.convo.step
    expert = _expert(ctx)
    if step == "results":
        _search(ctx, page=int(ctx.data.get("page") or 0))
    elif expert is None:
        return
    elif step == "length":
        _ask_length(ctx, expert)
    elif step == "count":
        _ask_count(ctx, expert)
    elif step == "count_more":
        _ask_more(ctx)
    elif step == "rcount":
        _ask_series_count(ctx, expert)
    elif step == "sprev":
        _series_preview(ctx, expert)
    elif step in ("day", "typed"):
        _ask_day(ctx, expert)
    elif step == "slot":
        _keep_time_step(ctx, expert, [])
    elif step in _DETAIL_STEPS:
        _ask_detail(ctx, expert, step)
    elif step == "summary":
        ctx.say(ctx.t("Your request is ready to send:"), _summary_buttons(ctx, str(ctx.data.get("sum", ""))))


# ---------------------------------------------------------------- searching


def _reset(ctx: Context, step: str, **keep: Any) -> None:
    """A fresh draft (the search words and filters may be kept)."""
    ctx.goto(NAME, step)
    ctx.convo.data = dict(keep)


def _ask_intent(ctx: Context) -> None:
    ctx.step("intent")
    ctx.say(ctx.t("What do you need help with? Type a few words, for example “fundraising”, “pricing for B2B SaaS” "
                  "or “term sheet”."))


def _filters(ctx: Context) -> dict[str, Any]:
    f = ctx.data.get("f")
    return f if isinstance(f, dict) else {}


def _search(ctx: Context, page: int = 0, *, fallback_all: bool = False) -> None:
    """Up to PAGE cards, best match first; the filters and More as buttons."""
    t = ctx.t
    intent = str(ctx.data.get("q", ""))
    f = _filters(ctx)
    visible = visible_expert_ids(ctx.uow, ctx.person)
    filters = SearchFilters(
        pro_bono={"pb": True, "paid": False}.get(str(f.get("kind", ""))),
        language=f.get("lang") or None,
        free_within_days=7 if f.get("week") else None,
        only_expert_ids=visible,
    )
    matches = search_experts(ctx.uow.experts, ctx.clock, SearchQuery(intent, filters, limit=PAGE + 1, offset=page * PAGE))
    lead: list[str] = []
    if not matches and fallback_all and intent:
        lead.append(t("No pro-bono expert matches “{intent}”, so here are all pro-bono experts.", intent=intent))
        intent = ""
        ctx.data["q"] = ""
        matches = search_experts(ctx.uow.experts, ctx.clock, SearchQuery("", filters, limit=PAGE + 1, offset=0))
        page = 0
    matches = [m for m in matches if m.expert.person_id != ctx.person.id]  # nobody books themselves
    ctx.step("results", page=page)
    if not matches:
        _no_results(ctx, intent, f, visible, lead)
        return
    more = len(matches) > PAGE
    matches = matches[:PAGE]
    if intent:
        head = t("Experts for “{intent}”:", intent=intent)
    else:
        head = t("Experts you can book:")
    if _describe_filters(ctx, f):
        head += " " + t("(filters: {filters})", filters=_describe_filters(ctx, f))
    lines = [*lead, head, ""]
    for n, match in enumerate(matches, start=page * PAGE + 1):
        lines.append(_card(ctx, match.expert, match.hit.next_free, n))
        lines.append("")
    lines.append(t("Press Book to choose an expert, use a filter, or type other words to search again."))
    book = [ctx.button(t("Book {name}", name=m.expert.name[:60]), NAME, "pick", m.expert.id) for m in matches]
    buttons: list[tuple[Button, ...]] = [tuple(book[i:i + 2]) for i in range(0, len(book), 2)]
    buttons.extend(_filter_buttons(ctx, f, matches))
    if more:
        buttons.append((ctx.step_button(t("More"), NAME, "more", page + 1),))
    ctx.say("\n".join(lines).rstrip(), tuple(buttons))


def _no_results(ctx: Context, intent: str, f: dict[str, Any], visible: frozenset[int] | None, lead: list[str]) -> None:
    t = ctx.t
    if visible is not None and not visible:
        ctx.say(t("Your programme has not assigned any experts to your company yet. Please ask your programme staff."))
        return
    lines = list(lead)
    if intent:
        lines.append(t("No expert matches “{intent}”.", intent=intent) + (
            " " + t("(filters: {filters})", filters=_describe_filters(ctx, f)) if _describe_filters(ctx, f) else ""))
        lines.append(t("Try fewer or other words (for example “fundraising” or “pricing”), or look at the pro-bono "
                       "experts: their 15-minute sessions are free."))
    else:
        lines.append(t("No expert is available with these filters."))
    buttons = []
    if f.get("kind") != "pb" or intent:
        buttons.append(ctx.step_button(t("Show pro-bono experts"), NAME, "flt", "pball"))
    if f:
        buttons.append(ctx.step_button(t("Clear filters"), NAME, "flt", "clear"))
    ctx.say("\n".join(lines), rows(buttons, 2))


def _describe_filters(ctx: Context, f: dict[str, Any]) -> str:
    t = ctx.t
    parts = []
    if f.get("kind") == "pb":
        parts.append(t("pro-bono only"))
    elif f.get("kind") == "paid":
        parts.append(t("paid only"))
    if f.get("week"):
        parts.append(t("free this week"))
    if f.get("lang"):
        parts.append(t("speaks {language}", language=language_name(str(f["lang"]), ctx.t.locale)))
    return ", ".join(parts)


def _filter_buttons(ctx: Context, f: dict[str, Any], matches: list[Match]) -> list[tuple[Button, ...]]:
    t = ctx.t
    row = []
    if f.get("kind") != "pb":
        row.append(ctx.step_button(t("Pro-bono only"), NAME, "flt", "pb"))
    if f.get("kind") != "paid":
        row.append(ctx.step_button(t("Paid only"), NAME, "flt", "paid"))
    if not f.get("week"):
        row.append(ctx.step_button(t("Free this week"), NAME, "flt", "week"))
    if f:
        row.append(ctx.step_button(t("Clear filters"), NAME, "flt", "clear"))
    out: list[tuple[Button, ...]] = [tuple(row[:2]), tuple(row[2:])] if len(row) > 2 else [tuple(row)]
    # A language filter is useful only when it narrows what is shown: languages not every expert here speaks.
    if f.get("lang"):
        out.append((ctx.step_button(t("Any language"), NAME, "flt", "anylang"),))
    else:
        counts: dict[str, int] = {}
        for m in matches:
            for code in dict.fromkeys(m.expert.languages):
                counts[code] = counts.get(code, 0) + 1
        codes = sorted((c for c in counts if counts[c] < len(matches)), key=lambda c: (-counts[c], c))[:3]
        out.append(tuple(
            ctx.step_button(t("Speaks {language}", language=language_name(code, ctx.t.locale))[:75], NAME, "flt",
                            "lang", code)
            for code in codes if code.isalnum() and len(code) <= 8
        ))
    return [r for r in out if r]


def _filter(ctx: Context, args: tuple[str, ...]) -> None:
    f = dict(_filters(ctx))
    kind = args[0]
    fallback = False
    if kind == "pb":
        f["kind"] = "pb"
    elif kind == "pball":  # from "out of credits" or "no result": pro-bono, any topic if none matches
        f = {"kind": "pb"}
        fallback = True
    elif kind == "paid":
        f["kind"] = "paid"
    elif kind == "week":
        f["week"] = True
    elif kind == "clear":
        f = {}
    elif kind == "anylang":
        f.pop("lang", None)
    elif kind == "lang" and len(args) == 2 and args[1].isascii() and args[1].isalnum() and len(args[1]) <= 8:
        f["lang"] = args[1].lower()
    else:
        _stale(ctx)
        return
    ctx.data["f"] = f
    _search(ctx, fallback_all=fallback)


def _card(ctx: Context, expert: Expert, next_free: datetime | None, n: int | None = None) -> str:
    """Name, headline, topics, rating or "new", price, next free slot in both zones."""
    t = ctx.t
    title = f"{n}. {expert.name}" if n is not None else expert.name
    lines = [f"{title} — {expert.headline}" if expert.headline else title]
    if expert.topics:
        lines.append(t("Topics: {topics}", topics=", ".join(expert.topics)))
    average = expert.rating.average
    if average is None:
        lines.append(t("Rating: new"))
    else:
        lines.append(t.plural("Rating: {stars} ★ ({n} review)", "Rating: {stars} ★ ({n} reviews)", expert.rating.count,
                              stars=average))
    lines.extend(_review_lines(ctx, expert))
    if expert.is_pro_bono:
        lines.append(t("Pro-bono: a free 15-minute session"))
    else:
        price = session_price(expert, [30])
        text = t("{credits} credits per 30 min", credits=t.credits(price.credits_milli))
        if price.money is not None and _on_marketplace(ctx):
            text += " " + t("({money} per 30 min)", money=t.money(price.money))
        lines.append(text)
    if next_free is not None:
        lines.append(t("Next free: {when}", when=t.both(next_free, expert.timezone)))
    else:
        lines.append(t("No free time in the next two weeks."))
    return "\n".join(lines)


def _review_lines(ctx: Context, expert: Expert) -> list[str]:
    """The latest public review texts (never a private note, never a hidden review), each with the expert's
    answer under it."""
    t = ctx.t
    lines = []
    for review in latest_reviews(ctx.uow, expert.id or 0):
        lines.append("   " + quoted(review, CARD_CLIP))
        if review.answer:
            lines.append("      " + t("Answer from {name}: “{text}”", name=expert.name, text=clip(review.answer, CARD_CLIP)))
    return lines


def open_deep_link(ctx: Context, args: str) -> bool:
    """/start e_<handle>: open that expert's card with a Book button. False for anything else."""
    if not args.startswith("e_") or len(args) < 3:
        return False
    key = args[2:]
    expert = ctx.uow.experts.by_handle(key)
    if expert is None and ascii_int(key, 1, ID_MAX) is not None:
        expert = ctx.uow.experts.get(int(key))
    if expert is None or expert.id is None:
        return False
    now = ctx.clock.now()
    schedule = ctx.uow.experts.schedule(expert.id)
    busy = ctx.uow.experts.busy(expert.id, now - _MARGIN, now + timedelta(days=15))
    nxt = first_free_slot(schedule, busy, timedelta(minutes=15), now)
    if nxt is not None and nxt > now + timedelta(days=14):
        nxt = None
    _reset(ctx, "results")
    buttons = [ctx.button(ctx.t("Book {name}", name=expert.name[:60]), NAME, "pick", expert.id),
               ctx.button(ctx.t("Find other experts"), NAME, "again")]
    ctx.say(_card(ctx, expert, nxt), (tuple(buttons),))
    return True


# ---------------------------------------------------------------- choosing an expert, length and number


def _pick(ctx: Context, expert_id: int) -> None:
    """Who may book whom is checked here and again at Confirm; credits are checked before any detail."""
    t = ctx.t
    expert = ctx.uow.experts.get(expert_id)
    if expert is None or expert.id is None:
        raise NotFound(f"no expert {expert_id}", reason="expert_not_found")
    if expert.person_id == ctx.person.id:
        raise NotAllowed("experts cannot book themselves", reason="self_booking")
    visible = visible_expert_ids(ctx.uow, ctx.person)
    if visible is not None and expert.id not in visible:
        raise NotAllowed("not assigned to this company", reason="not_assigned")
    keep = {"q": ctx.data.get("q", ""), "f": _filters(ctx)} if ctx.convo.flow == NAME else {"q": "", "f": {}}
    can = affordability(ctx.uow, _client_id(ctx), expert.id)
    if not can.ok:
        _reset(ctx, "broke", x=expert.id, **keep)
        ctx.say(
            t("You have {available} credits, and the shortest session with {expert} costs {needed}.",
              available=t.credits(can.available_milli), expert=expert.name, needed=t.credits(can.cheapest_milli))
            + "\n" + out_of_credits_options(t, ctx.person),
            ((ctx.step_button(t("Show pro-bono experts"), NAME, "flt", "pball"),),),
        )
        return
    _reset(ctx, "length", x=expert.id, slots=[], **keep)
    lengths = lengths_for(expert, _rules(ctx))
    if expert.is_pro_bono:
        ctx.data.update(len=lengths[0], n=1)
        _ask_day(ctx, expert, lead=[t("{expert} is a pro-bono expert: the session is one 15-minute meeting, free. "
                                      "That is fixed, so there is nothing to choose.", expert=expert.name)])
    elif len(lengths) == 1:
        ctx.data["len"] = lengths[0]
        _ask_count(ctx, expert, lead=[t("Meetings with {expert} last {minutes} minutes here.", expert=expert.name,
                                        minutes=lengths[0])])
    else:
        _ask_length(ctx, expert)


def _ask_length(ctx: Context, expert: Expert, lead: list[str] | None = None) -> None:
    t = ctx.t
    ctx.step("length")
    buttons = []
    for minutes in lengths_for(expert, _rules(ctx)):
        price = session_price(expert, [minutes])
        buttons.append(ctx.step_button(t("{minutes} min · {credits} credits", minutes=minutes,
                                         credits=t.credits(price.credits_milli)), NAME, "len", minutes))
    text = t("How long should each meeting with {expert} be?", expert=expert.name)
    ctx.say("\n".join([*(lead or []), text]), rows(buttons, 3))


def _choose_length(ctx: Context, expert: Expert, minutes: int) -> None:
    lengths = lengths_for(expert, _rules(ctx))
    if minutes not in lengths:
        _ask_length(ctx, expert, lead=[ctx.t("{minutes} minutes is not offered here. Please pick one of these.",
                                             minutes=minutes)])
        return
    ctx.data["len"] = minutes
    _ask_count(ctx, expert)


def _max_meetings(ctx: Context) -> int:
    cap = _rules(ctx).max_meetings
    return min(cap, CHAT_MAX_MEETINGS) if cap is not None else CHAT_MAX_MEETINGS


def _ask_count(ctx: Context, expert: Expert, lead: list[str] | None = None) -> None:
    t = ctx.t
    ctx.step("count")
    minutes = int(ctx.data["len"])
    most = _max_meetings(ctx)
    buttons = [ctx.step_button(str(n), NAME, "cnt", n) for n in range(1, min(3, most) + 1)]
    if most > 3:
        buttons.append(ctx.step_button(t("More"), NAME, "cnt", "more"))
    extra = []
    if len(lengths_for(expert, _rules(ctx))) > 1:
        extra.append(ctx.step_button(t("Change length"), NAME, "chl"))
    price = session_price(expert, [minutes])
    text = t("How many meetings of {minutes} min? Each costs {credits} credits.", minutes=minutes,
             credits=t.credits(price.credits_milli))
    repeat = tuple(ctx.step_button(frequency_label(t, f), NAME, "rep", CODE_OF[f]) for f in Frequency)
    text += "\n" + t("Or make it a series: the same time every week, every two weeks or every month.")
    ctx.say("\n".join([*(lead or []), text]), (tuple(buttons), *((tuple(extra),) if extra else ()), repeat))


def _ask_more(ctx: Context) -> None:
    ctx.step("count_more")
    ctx.say(ctx.t("How many meetings? Type a number up to {max}.", max=_max_meetings(ctx)),
            ((ctx.step_button(ctx.t("Back to 1, 2 or 3"), NAME, "cntback"),),))


def _validate_count(ctx: Context, expert: Expert, n: int) -> None:
    """The core's rules first (a pro-bono session is one meeting; a programme's cap)."""
    minutes = int(ctx.data.get("len") or lengths_for(expert, _rules(ctx))[0])
    base = ctx.clock.now()
    meetings = [MeetingRequest(base + timedelta(minutes=minutes * i), minutes) for i in range(min(max(n, 0), CHAT_MAX_MEETINGS + 1))]  # more is refused all the same
    validate_meetings(expert, meetings, _rules(ctx))


def _choose_count(ctx: Context, expert: Expert, n: int) -> None:
    t = ctx.t
    most = _max_meetings(ctx)
    if n < 1 or n > most:
        _ask_count(ctx, expert, lead=[t("Please choose between 1 and {max} meetings for one request.", max=most)])
        return
    _validate_count(ctx, expert, n)
    minutes = int(ctx.data["len"])
    price = session_price(expert, [minutes] * n).credits_milli
    available = available_credits(ctx.uow, _client_id(ctx))
    if price > available:
        _ask_count(ctx, expert, lead=[
            t("{n} meetings of {minutes} min cost {needed} credits and you have {available}. Choose fewer or shorter "
              "meetings.", n=n, minutes=minutes, needed=t.credits(price), available=t.credits(available)),
            out_of_credits_options(t, ctx.person),
        ])
        return
    ctx.data.update(n=n, slots=[])
    lead = []
    sessions = ctx.uow.bookings.sessions_between(_client_id(ctx), expert.id or 0)
    base = ctx.clock.now()
    planned = [MeetingRequest(base + timedelta(minutes=minutes * i), minutes) for i in range(n)]
    for nudge in nudges(expert, planned, sessions):
        if nudge.code == "fewer_meetings":
            lead.append(t("New to {expert}? The marketplace recommends starting with fewer meetings: you get good "
                          "value for limited fees, and you can book more once you know they are right for you.",
                          expert=expert.name))
        elif nudge.code == "shorter_meetings":
            lead.append(t("Tip: shorter meetings are recommended for a first session. They give great value for "
                          "limited fees and keep both sides energetic."))
    _ask_day(ctx, expert, lead=lead)


# ---------------------------------------------------------------- times


def _meeting_label(ctx: Context, expert: Expert) -> str:
    if ctx.data.get("rep"):
        return ctx.t("The first session of the series ({minutes} min) with {expert}; the others follow at the same "
                     "time in {expert}'s zone.", minutes=int(ctx.data.get("len", 15)), expert=expert.name)
    n = int(ctx.data.get("n", 1))
    i = len(ctx.data.get("slots", [])) + 1
    minutes = int(ctx.data.get("len", 15))
    if n > 1:
        return ctx.t("Meeting {i} of {n} ({minutes} min) with {expert}.", i=i, n=n, minutes=minutes, expert=expert.name)
    return ctx.t("A {minutes}-minute meeting with {expert}.", minutes=minutes, expert=expert.name)


def _ask_day(ctx: Context, expert: Expert, lead: list[str] | None = None, start_from: date | None = None,
             avail: _Availability | None = None) -> None:
    t = ctx.t
    tz = ctx.person.timezone
    ctx.step("day")
    ctx.data.pop("typed", None)
    avail = avail or _availability(ctx, expert)
    minutes = int(ctx.data["len"])
    slots = avail.free(minutes)
    lines = list(lead or [])
    if not slots:
        ctx.step("nofree")
        lines.append(t("{expert} has no free {minutes}-minute time within their booking window. Please choose "
                       "another expert.", expert=expert.name, minutes=minutes))
        wait = (join_button(ctx, expert, minutes),) if _one_meeting(ctx) else ()
        ctx.say("\n".join(lines), ((*wait, ctx.button(t("Find another expert"), NAME, "again")),))
        return
    earliest = slots[0]
    if start_from is not None:
        later = [s for s in slots if local_day(s, tz) >= start_from]
        slots = later or slots
    buttons = list(day_buttons(ctx, NAME, "day", slots))
    extra = []
    next_days = later_days_start(slots, tz)
    if next_days is not None:
        extra.append(ctx.step_button(t("Later days"), NAME, "days", local_day(next_days, tz).isoformat()))
    if start_from is not None:
        extra.append(ctx.step_button(t("Earliest days"), NAME, "back"))
    if not expert.is_pro_bono and not ctx.data.get("slots") and ctx.data.get("title") is None:
        extra.append(ctx.step_button(t("Change length or number"), NAME, "chl"))
    if extra:
        buttons.append(tuple(extra))
    if _one_meeting(ctx):  # none of these suits: the waitlist for an earlier time
        buttons.append((join_button(ctx, expert, minutes, before=earliest),))
    lines.append(_meeting_label(ctx, expert))
    lines.append(t("Pick a day (in your timezone, {zone}), or type a time in words, like “tomorrow 3pm”.", zone=tz))
    ctx.say("\n".join(lines), tuple(buttons))


def _one_meeting(ctx: Context) -> bool:
    """The waitlist offers one time: it is offered while a one-meeting request has no time yet."""
    return int(ctx.data.get("n", 1)) == 1 and not ctx.data.get("slots") and ctx.data.get("title") is None


def show_days_again(ctx: Context, expert_id: int) -> None:
    """After joining the waitlist from the day picker, the picker again (with fresh buttons): a later time
    may still do meanwhile."""
    expert = _expert(ctx)
    if ctx.convo.flow != NAME or ctx.convo.step not in _TIME_STEPS or expert is None or expert.id != expert_id:
        return
    _ask_day(ctx, expert)


def book_offered(ctx: Context, expert: Expert, minutes: int, at: datetime, *, offer_id: int) -> None:
    """A waitlist offer's Book: the normal booking, with the expert, the length and the time already chosen.
    The time is checked again now and at Confirm, like any time picked from the list."""
    t = ctx.t
    assert expert.id is not None
    if expert.person_id == ctx.person.id:
        raise NotAllowed("experts cannot book themselves", reason="self_booking")
    can = affordability(ctx.uow, _client_id(ctx), expert.id)
    if not can.ok:
        _reset(ctx, "broke", x=expert.id, q="", f={})
        ctx.say(t("You have {available} credits, and the shortest session with {expert} costs {needed}.",
                  available=t.credits(can.available_milli), expert=expert.name, needed=t.credits(can.cheapest_milli))
                + "\n" + out_of_credits_options(t, ctx.person))
        return
    _reset(ctx, "day", x=expert.id, len=minutes, n=1, slots=[], wo=offer_id, q="", f={})
    _take_slot(ctx, expert, at)


def _ask_slot(ctx: Context, expert: Expert, day: date, lead: list[str] | None = None,
              avail: _Availability | None = None) -> None:
    t = ctx.t
    tz = ctx.person.timezone
    avail = avail or _availability(ctx, expert)
    start, end = local_day_bounds(tz, day)
    slots = on_day(avail.free(int(ctx.data["len"]), start=start, end=end), tz, day)
    if not slots:
        _ask_day(ctx, expert, avail=avail, lead=[*(lead or []), t("There is no free time left on {day} ({zone}). "
                                                                 "Please pick another day.", day=_day(ctx, day), zone=tz)])
        return
    shown = thin(slots, tz)
    ctx.step("slot", day=day.isoformat())
    lines = list(lead or [])
    lines.append(_meeting_label(ctx, expert))
    lines.append(t("Free times on {day}, in your time ({zone}) with {expert}'s for reference:", day=_day(ctx, day),
                   zone=tz, expert=expert.name))
    lines.append(slots_text(ctx, shown, expert.timezone))
    hint = between_hint(ctx, slots, shown)
    if hint:
        lines.append(hint)
    lines.append(t("Pick a time, or type one in words."))
    buttons = list(slot_buttons(ctx, NAME, "slot", shown, form=DETAILS_FORM))
    buttons.append((ctx.step_button(t("Other day"), NAME, "back"),))
    ctx.say("\n".join(lines), tuple(buttons))


def _day(ctx: Context, day: date) -> str:
    return day_text(ctx.t, day)  # ctx.t carries the person's zone


def _problem_text(ctx: Context, expert: Expert, problem: SlotProblem, schedule: Schedule) -> str:
    t = ctx.t
    if problem is SlotProblem.PAST:
        return t("That time has already passed.")
    if problem is SlotProblem.TOO_SOON:
        hours = int(schedule.rules.min_notice.total_seconds() // 3600)
        if hours >= 1:
            notice = t.plural("{n} hour", "{n} hours", hours)
        else:
            notice = t.plural("{n} minute", "{n} minutes", int(schedule.rules.min_notice.total_seconds() // 60))
        return t("That is too soon: {expert} needs {notice} notice.", expert=expert.name, notice=notice)
    if problem is SlotProblem.BEYOND_HORIZON:
        return t.plural("That is too far ahead: {expert} takes bookings up to {n} day ahead.",
                        "That is too far ahead: {expert} takes bookings up to {n} days ahead.",
                        schedule.rules.horizon.days, expert=expert.name)
    if problem is SlotProblem.OUTSIDE_AVAILABILITY:
        return t("{expert} is not available then.", expert=expert.name)
    if problem is SlotProblem.OFF_GRID:
        return t("Meetings start on the quarter hour (:00, :15, :30, :45), so that time cannot be booked.")
    if problem is SlotProblem.DAY_FULL:
        return t("{expert}'s day is already full.", expert=expert.name)
    return t("{expert} already has a meeting then.", expert=expert.name)


def _offer_nearest(ctx: Context, expert: Expert, target: datetime, lead: list[str], avail: _Availability) -> None:
    """A time that did not work: say why (in lead) and offer the free slots closest to it as buttons."""
    t = ctx.t
    slots = avail.free(int(ctx.data["len"]), step=NEAR_STEP)
    if not slots:
        _ask_day(ctx, expert, lead=lead, avail=avail)
        return
    closest = nearest(slots, target, NEAREST)
    lines = [*lead, t("The nearest free times, in your time with {expert}'s for reference:", expert=expert.name),
             slots_text(ctx, closest, expert.timezone), t("Pick one, type another time, or choose a day.")]
    buttons = [ctx.step_button(f"{t.day(s)} {t.time(s)}", NAME, "slot", slot_arg(s), form=DETAILS_FORM)
               for s in closest]
    ctx.step("day")
    ctx.data.pop("typed", None)
    ctx.say("\n".join(lines), (*rows(buttons, 3), (ctx.step_button(t("Other day"), NAME, "back"),)))


def _typed_time(ctx: Context, expert: Expert, text: str) -> None:
    """A time in words: read in the client's zone and language; anything ambiguous is asked, the rest echoed."""
    t = ctx.t
    if not text:
        _keep_time_step(ctx, expert, [t("Please pick a day, or type a time like “tomorrow 3pm”.")])
        return
    on_screen = parse_day_arg(str(ctx.data.get("day", ""))) if ctx.convo.step == "slot" else None
    avail = _availability(ctx, expert)
    minutes = int(ctx.data["len"])
    found = meaning(t, text, read_typed(ctx, text, on_screen),
                    lambda at: avail.problem(at, minutes) not in OUTSIDE_HOURS)
    if isinstance(found, Refuse):
        _keep_time_step(ctx, expert, [found.text])
    elif isinstance(found, ShowDay):
        if found.day < local_day(ctx.clock.now(), ctx.person.timezone):
            _ask_day(ctx, expert, lead=[t("{day} has already passed. Please pick a day ahead.", day=_day(ctx, found.day))])
            return
        _ask_slot(ctx, expert, found.day, avail=avail,
                  lead=[t("“{text}” is a day without a time. At what time? Pick one of the free times, or type one "
                          "like “{text} 3pm”.", text=text)])
    elif isinstance(found, Passed):
        if found.at is None:
            _ask_day(ctx, expert, lead=[t("{day} has already passed. Please pick a day ahead.", day=_day(ctx, found.day))])
            return
        _offer_nearest(ctx, expert, ctx.clock.now(), [t("{when} has already passed. Please choose a time ahead.",
                                                        when=t.when(found.at))], avail)
    elif isinstance(found, Ask):
        buttons = [ctx.step_button(c.label, NAME, "slot", slot_arg(c.at), form=DETAILS_FORM) if c.at is not None
                   else ctx.step_button(c.label, NAME, "day", c.day.isoformat() if c.day else "") for c in found.choices]
        ctx.data.pop("typed", None)
        ctx.say(found.question, (tuple(buttons), (ctx.step_button(t("Other day"), NAME, "back"),)))
    else:
        _echo_typed(ctx, expert, found.at, found.notes, avail)


def _echo_typed(ctx: Context, expert: Expert, at: datetime, notes: list[str], avail: _Availability) -> None:
    """Say back the one time we read, with the other side's clock; Yes takes it (checked again at the press)."""
    t = ctx.t
    minutes = int(ctx.data["len"])
    echo = " ".join([*notes, t("You mean {when}?", when=t.both(at, expert.timezone))])
    own = _overlaps_own(ctx, at, minutes)
    if own is not None:
        _offer_nearest(ctx, expert, at, [echo, t("That overlaps meeting {n} of this request.", n=own)], avail)
        return
    problem = avail.problem(at, minutes)
    if problem is not None:
        _offer_nearest(ctx, expert, at, [echo, _problem_text(ctx, expert, problem, avail.schedule)], avail)
        return
    ctx.step("typed", typed=slot_arg(at))
    ctx.say(echo, ((ctx.step_button(t("Yes"), NAME, "tyes", form=DETAILS_FORM), ctx.step_button(t("No"), NAME, "tno")),))


def _keep_time_step(ctx: Context, expert: Expert, lead: list[str]) -> None:
    """Bad input while choosing a time: say what was wrong and show the same choices again."""
    day = parse_day_arg(str(ctx.data.get("day", ""))) if ctx.convo.step == "slot" else None
    if day is not None:
        _ask_slot(ctx, expert, day, lead=lead)
    else:
        _ask_day(ctx, expert, lead=lead)


def _overlaps_own(ctx: Context, at: datetime, minutes: int) -> int | None:
    """Which meeting of this draft (1-based) a new one would overlap, if any."""
    length = timedelta(minutes=minutes)
    for n, start in enumerate(_picked(ctx), start=1):
        if at < start + length and start < at + length:
            return n
    return None


def _take_slot(ctx: Context, expert: Expert, at: datetime) -> None:
    """Re-checked at press time: someone may have booked it since it was shown."""
    t = ctx.t
    minutes = int(ctx.data["len"])
    avail = _availability(ctx, expert)
    own = _overlaps_own(ctx, at, minutes)
    if own is not None:
        _offer_nearest(ctx, expert, at, [t("That overlaps meeting {n} of this request.", n=own)], avail)
        return
    problem = avail.problem(at, minutes)
    if problem is not None:
        _offer_nearest(ctx, expert, at, [_problem_text(ctx, expert, problem, avail.schedule)], avail)
        return
    if ctx.data.get("rep"):
        ctx.data.pop("typed", None)
        ctx.data.pop("day", None)
        ctx.data["first"] = int(slot_arg(at))
        _series_preview(ctx, expert)
        return
    picked = [int(s) for s in ctx.data.get("slots", [])] + [int(slot_arg(at))]
    ctx.data["slots"] = picked
    ctx.data.pop("typed", None)
    ctx.data.pop("day", None)
    n = int(ctx.data.get("n", 1))
    noted = t("Meeting {i}: {when}.", i=len(picked), when=t.both(at, expert.timezone)) if n > 1 else \
        t("Time: {when}.", when=t.both(at, expert.timezone))
    if len(picked) < n:
        avail.busy.append(Busy(at, at + timedelta(minutes=minutes)))
        _ask_day(ctx, expert, lead=[noted], avail=avail)
    elif ctx.data.get("title") and ctx.data.get("outcome"):
        _summary(ctx, expert, lead=[noted])  # times changed from the summary: details are kept
    else:
        _ask_detail(ctx, expert, "title", lead=[noted])


# ---------------------------------------------------------------- a recurring series


def _frequency(ctx: Context) -> Frequency | None:
    value = ctx.data.get("rep")
    return Frequency(value) if value in {f.value for f in Frequency} else None


def _forget_series(ctx: Context) -> None:
    for key in ("rep", "rcnt", "rend", "first"):
        ctx.data.pop(key, None)


def _ask_series_count(ctx: Context, expert: Expert, lead: list[str] | None = None) -> None:
    """How many sessions (buttons 2-12, or typed), or until which date (a button or typed in words)."""
    t = ctx.t
    frequency = _frequency(ctx)
    assert frequency is not None
    ctx.step("rcount")
    # "1" first, so a chat that numbers its buttons (the console) numbers each count as itself.
    counts = [ctx.step_button("1", NAME, "rone")] + [ctx.step_button(str(n), NAME, "rcn", n) for n in COUNT_BUTTONS]
    today = local_day(ctx.clock.now(), ctx.person.timezone)
    ends = [ctx.step_button(t("Until {day}", day=_day(ctx, d)), NAME, "rcu", d.isoformat()) for d in month_ends(today)]
    text = t("{label}: how many sessions? Pick a number or type one (1 is a single session), or type the date of "
             "the last one, like “30 April”.", label=frequency_label(t, frequency))
    ctx.say("\n".join([*(lead or []), text]), (
        *rows(counts, 6), tuple(ends),
        (ctx.step_button(t("Change length"), NAME, "chl"),),
    ))


def _typed_series_count(ctx: Context, expert: Expert, text: str) -> None:
    """A number of sessions, or a last date read like any typed time (a day, or a day and time)."""
    t = ctx.t
    n = read_count(text)
    if n is not None:
        _choose_series(ctx, expert, count=n)
        return
    found = meaning(t, text, read_typed(ctx, strip_until(text)), lambda at: True)
    if isinstance(found, ShowDay):
        _choose_series(ctx, expert, until=found.day)
    elif isinstance(found, Take):
        _choose_series(ctx, expert, until=local_day(found.at, ctx.person.timezone))
    elif isinstance(found, Passed):
        _ask_series_count(ctx, expert, lead=[t("{day} has already passed. Please pick a day ahead.",
                                               day=_day(ctx, found.day))])
    elif isinstance(found, Refuse):
        _ask_series_count(ctx, expert, lead=[found.text])
    else:
        _ask_series_count(ctx, expert, lead=[found.question])


def _choose_series(ctx: Context, expert: Expert, *, count: int | None = None, until: date | None = None) -> None:
    t = ctx.t
    if count == 1:  # one session after all: the ordinary booking
        _forget_series(ctx)
        _choose_count(ctx, expert, 1)
        return
    if count is not None and not count_ok(count):
        _ask_series_count(ctx, expert, lead=[t("Please choose between 2 and {max} sessions.", max=MAX_OCCURRENCES)])
        return
    if until is not None and until <= local_day(ctx.clock.now(), ctx.person.timezone):
        _ask_series_count(ctx, expert, lead=[t("{day} has already passed. Please pick a day ahead.",
                                               day=_day(ctx, until))])
        return
    ctx.data.pop("rcnt", None)
    ctx.data.pop("rend", None)
    if count is not None:
        ctx.data["rcnt"] = count
    elif until is not None:
        ctx.data["rend"] = until.isoformat()
    ctx.data.update(n=1, slots=[])
    _ask_day(ctx, expert)


def _series_checks(ctx: Context, expert: Expert) -> list[OccurrenceCheck] | None:
    """The core's verdict on each date of the series (None: the end date is before the first session)."""
    frequency = _frequency(ctx)
    first = parse_slot_arg(str(ctx.data.get("first", "")))
    assert frequency is not None and first is not None and expert.id is not None
    count = ctx.data.get("rcnt")
    until = parse_day_arg(str(ctx.data.get("rend", ""))) if count is None else None
    if count is None and (until is None or until < local_day(first, expert.timezone)):
        return None
    return preview_series(ctx.uow, ctx.clock, expert_id=expert.id, first_start=first,
                          minutes=int(ctx.data["len"]), frequency=frequency,
                          count=int(count) if count is not None else None, until=until)


def _series_preview(ctx: Context, expert: Expert, lead: list[str] | None = None) -> None:
    """Every date, free or clashing, before anything is held; the free ones can go ahead."""
    t = ctx.t
    checks = _series_checks(ctx, expert)
    frequency = _frequency(ctx)
    assert frequency is not None
    if checks is None:
        ctx.data["slots"] = []
        _ask_series_count(ctx, expert, lead=[t("The last date is before the first session. Please choose again.")])
        return
    free = free_starts(checks)
    clashes = len(checks) - len(free)
    minutes = int(ctx.data["len"])
    ctx.step("sprev", slots=[int(slot_arg(s)) for s in free])
    lines = list(lead or [])
    lines.append(t("Your series with {expert}, {how}, {minutes} min each (your time, with {expert}'s for "
                   "reference):", expert=expert.name, how=how_often(t, frequency, len(checks)), minutes=minutes))
    lines.extend(preview_lines(t, checks, expert.timezone, expert.name))
    if moves_for_reader([c.start for c in checks], ctx.person.timezone):
        lines.append(t("The sessions stay at {time} in {expert}'s zone ({zone}); in yours the time moves when the "
                       "clocks change.", time=t.time(checks[0].start, expert.timezone), expert=expert.name,
                       zone=expert.timezone))
    each = session_price(expert, [minutes]).credits_milli
    available = available_credits(ctx.uow, _client_id(ctx))
    buttons = []
    if clashes:
        lines.append(t.plural("{n} date clashes and would be left out.", "{n} dates clash and would be left out.",
                              clashes))
    if each * len(free) > available:
        lines.append(t("The free dates cost {needed} credits and you have {available}. Choose fewer sessions.",
                       needed=t.credits(each * len(free)), available=t.credits(available)))
    elif free:
        lines.append(t("Nothing is held yet. The free dates cost {needed} credits ({each} each), held when you send "
                       "the request.", needed=t.credits(each * len(free)), each=t.credits(each)))
        label = (t.plural("Go ahead with the {n} free date", "Go ahead with the {n} free dates", len(free))
                 if clashes else t("Go ahead"))
        buttons.append(ctx.step_button(label, NAME, "sok", form=DETAILS_FORM))
    buttons += [ctx.step_button(t("Pick another start"), NAME, "sother"),
                ctx.step_button(t("Change how many"), NAME, "rback")]
    ctx.say("\n".join(lines), rows(buttons, 3))


def _series_go_ahead(ctx: Context, expert: Expert) -> None:
    """The free dates become this draft's times; the details come next (or the summary, if already written)."""
    t = ctx.t
    if not ctx.data.get("slots"):
        _series_preview(ctx, expert)
        return
    noted = t.plural("{n} session planned.", "{n} sessions planned.", len(ctx.data["slots"]))
    if ctx.data.get("title") and ctx.data.get("outcome"):
        _summary(ctx, expert, lead=[noted])
    else:
        _ask_detail(ctx, expert, "title", lead=[noted])


def _send_series(ctx: Context, expert: Expert, details: SessionDetails, draft: str) -> None:
    """One request for the whole series, checked again: a date taken since the preview is shown, not dropped."""
    t = ctx.t
    checks = _series_checks(ctx, expert)
    frequency = _frequency(ctx)
    first = parse_slot_arg(str(ctx.data.get("first", "")))
    assert checks is not None and frequency is not None and first is not None and expert.id is not None
    if sorted(int(slot_arg(s)) for s in free_starts(checks)) != sorted(int(s) for s in ctx.data.get("slots", [])):
        _series_preview(ctx, expert, lead=[t("The dates changed since you saw them:")])
        return
    count = ctx.data.get("rcnt")
    result = request_series(ctx.uow, ctx.clock, client_id=_client_id(ctx), expert_id=expert.id, first_start=first,
                            minutes=int(ctx.data["len"]), frequency=frequency, details=details,
                            count=int(count) if count is not None else None,
                            until=None if count is not None else parse_day_arg(str(ctx.data.get("rend", ""))),
                            policy=ctx.policy)
    ctx.finish()
    ctx.convo.data["sent"] = draft
    how = how_often(t, frequency, len(result.bookings))
    if result.bookings[0].status is BookingStatus.AWAITING_TRIAGE:
        lines = [t("Request sent ({how}). Your programme staff look at it first; then it goes to {expert}.",
                   how=how, expert=expert.name)]
    else:
        lines = [t("Request sent to {expert}: {how}. They answer for the whole series at once; I will tell you as "
                   "soon as they do.", expert=expert.name, how=how)]
    held = sum(b.price_milli for b in result.bookings)
    if held:
        lines.append(t("{credits} credits are on hold until it is answered; {available} credits are still "
                       "available.", credits=t.credits(held), available=t.credits(available_credits(ctx.uow, _client_id(ctx)))))
    ctx.say("\n".join(lines))


# ---------------------------------------------------------------- details


def _ask_detail(ctx: Context, expert: Expert, step: str, lead: list[str] | None = None) -> None:
    t = ctx.t
    ctx.step(step)
    lines = list(lead or [])
    buttons: tuple[tuple[Button, ...], ...] = ()
    if step == "title":
        lines.append(t("Give the session a short title (at most 80 characters), for example “Fundraising strategy "
                       "advice” or “Product roadmap review”."))
    elif step == "outcome":
        lines.append(t("What outcome do you want from it? Aim for something meaningful yet achievable: a request with "
                       "a clear, reasonable ask is more likely to be accepted and to deliver."))
    elif step == "intro":
        lines.append(t("Optional: an intro note for {expert}. It is a good way to break the ice and greet your mentor.",
                       expert=expert.name))
        buttons = ((ctx.step_button(t("Skip"), NAME, "skip"),),)
    elif step == "context":
        lines.append(t("Optional: context for {expert}: your background, where you are now, the questions you have, "
                       "anything to read beforehand. Clear context helps them prepare.", expert=expert.name))
        buttons = ((ctx.step_button(t("Skip"), NAME, "skip"),),)
    else:
        lines.append(t("Optional: attach files (pitch deck, CV, screenshots) by sending them now. Press Done when "
                       "you have added everything, or if there is nothing to attach."))
        buttons = ((ctx.step_button(t("Done"), NAME, "done"),),)
    ctx.say("\n".join(lines), buttons, form=DETAILS_FORM if step == FORM_STEPS[0] else "")


def _times_gone(ctx: Context, expert: Expert) -> datetime | None:
    """The first chosen time another booking has taken since it was picked, if any."""
    assert expert.id is not None
    now = ctx.clock.now()
    schedule, busy = ctx.uow.experts.availability_ahead(expert.id, now, _MARGIN)  # one round trip
    minutes = timedelta(minutes=int(ctx.data.get("len") or 0))
    for at in sorted(_picked(ctx)):
        if check_slot(schedule, busy, at, minutes, now) is not None:
            return at
    return None


def _next_detail(ctx: Context, expert: Expert, step: str) -> None:
    following = _DETAIL_STEPS[_DETAIL_STEPS.index(step) + 1]
    _ask_detail(ctx, expert, following)


def _detail(ctx: Context, expert: Expert, step: str, text: str) -> None:
    """Validated by the core's rules; a refusal says why and keeps everything typed so far."""
    t = ctx.t
    title = str(ctx.data.get("title") or "-")
    outcome = str(ctx.data.get("outcome") or "-")
    draft = {
        "title": SessionDetails(text, outcome),
        "outcome": SessionDetails(title, text),
        "intro": SessionDetails(title, outcome, intro_note=text),
        "context": SessionDetails(title, outcome, context=text),
    }[step]
    try:
        clean = validate_details(draft)
    except InvalidSession as error:
        if error.reason in ("intro_note_too_long", "context_too_long"):
            message = t("Please keep this shorter ({max} characters at most); yours has {count}.", max=error.context.get("limit"),
                        count=len(text))
        else:
            message = explain(t, error, ctx.person)
            if text and error.reason.endswith("too_long"):
                message += " " + t("Yours has {count}.", count=len(text))
        _ask_detail(ctx, expert, step, lead=[message])
        return
    value = {"title": clean.title, "outcome": clean.outcome, "intro": clean.intro_note, "context": clean.context}[step]
    ctx.data[step] = value
    _next_detail(ctx, expert, step)


# ---------------------------------------------------------------- summary and confirm


def _meetings(ctx: Context) -> list[MeetingRequest]:
    minutes = int(ctx.data.get("len", 0))
    return [MeetingRequest(at, minutes) for at in sorted(_picked(ctx))]


def _summary_buttons(ctx: Context, draft: str, *, can_confirm: bool = True) -> tuple[tuple[Button, ...], ...]:
    t = ctx.t
    row = []
    if can_confirm:
        row.append(ctx.button(t("Confirm"), NAME, "ok", draft))
    row += [ctx.button(t("Change time"), NAME, "chg", draft), ctx.button(t("Cancel"), NAME, "stop", draft)]
    return (tuple(row),)


def _summary(ctx: Context, expert: Expert, lead: list[str] | None = None) -> None:
    """Everything the request will say, the price and the balance, before anything is held.

    The buttons carry a draft mark (the stamp of this summary), not the conversation version: a refusal
    at Confirm rolls back and bumps the version, and the client must still be able to press Change time.
    """
    t = ctx.t
    d = ctx.data
    meetings = _meetings(ctx)
    price = session_price(expert, [m.minutes for m in meetings])
    series = _frequency(ctx)
    available = available_credits(ctx.uow, _client_id(ctx))
    lines = list(lead or [])
    lines.append(t("Please check your request to {expert}:", expert=expert.name))
    lines.append(t("“{title}”", title=d.get("title", "")))
    lines.append(t("Desired outcome: {outcome}", outcome=d.get("outcome", "")))
    if d.get("intro"):
        lines.append(t("Intro: {note}", note=d["intro"]))
    if d.get("context"):
        lines.append(t("Context: {context}", context=d["context"]))
    if d.get("files"):
        lines.append(t("Attachments: {count}", count=len(d["files"])))
    if series is not None:
        lines.append(t("Sessions, {how} (your time, with {expert}'s for reference):",
                       how=how_often(t, series, len(meetings)), expert=expert.name))
    else:
        lines.append(t("Meetings (your time, with {expert}'s for reference):", expert=expert.name))
    lines.extend(t("• {when}, {minutes} min", when=t.both(m.start, expert.timezone), minutes=m.minutes)
                 for m in meetings)
    affordable = price.credits_milli <= available
    if expert.is_pro_bono:
        lines.append(t("Price: free (pro-bono). Nothing is taken from your balance ({available} credits).",
                       available=t.credits(available)))
    else:
        text = t("Price: {credits} credits", credits=t.credits(price.credits_milli))
        if price.money is not None and _on_marketplace(ctx):
            text += " " + t("({money})", money=t.money(price.money))
        lines.append(text)
        lines.append(t("Your balance: {available} credits available. The price is held when you confirm and spent "
                       "only if {expert} accepts.", available=t.credits(available), expert=expert.name))
        if not affordable:
            lines.append(t("That is more than you have.") + " " + out_of_credits_options(t, ctx.person))
    draft = ctx.stamp
    ctx.step("summary", sum=draft)
    ctx.say("\n".join(lines), _summary_buttons(ctx, draft, can_confirm=affordable))


def _summary_action(ctx: Context, action: str, draft: str) -> None:
    t = ctx.t
    d = ctx.data
    current = ctx.convo.flow == NAME and ctx.convo.step == "summary" and d.get("sum") == draft
    if not current:
        if ctx.convo.flow == "" and d.get("sent") == draft:
            ctx.say(t("That request has already been sent. /sessions shows it."))
        else:
            _stale(ctx)
        return
    if action == "ok" and isinstance(d.get("x"), int):
        # The request about to go locks the expert: the same statement loads the profile read next.
        ctx.uow.experts.lock(d["x"], wallets_of=_client_id(ctx))
    expert = _expert(ctx)
    if expert is None or expert.id is None:
        raise NotFound("the expert is gone", reason="expert_not_found")
    if action == "stop":
        ctx.finish()
        ctx.say(t("Cancelled. Nothing was booked and no credits were held."))
        return
    if action == "chg":
        d["slots"] = []
        _ask_day(ctx, expert, lead=[t("Let's pick new times.")])
        return
    details = SessionDetails(
        str(d.get("title", "")), str(d.get("outcome", "")), context=str(d.get("context", "")),
        intro_note=str(d.get("intro", "")), attachments=tuple(str(f) for f in d.get("files", [])),
    )
    if _frequency(ctx) is not None:
        _send_series(ctx, expert, details, draft)
        return
    # Raises SlotUnavailable, InsufficientCredits, InvalidSession...: the dispatcher rolls the event back
    # and explains, and the conversation stays here, at the summary.
    booking = request_booking(ctx.uow, ctx.clock, client_id=_client_id(ctx), expert_id=expert.id,
                              meetings=_meetings(ctx), details=details, policy=ctx.policy)
    attach_to_booking(ctx.uow, booking)  # the files stored as they came now belong to the request
    offer = d.get("wo")
    if isinstance(offer, int):  # booked from a waitlist offer: the wait for this expert is over
        offer_taken(ctx.uow, ctx.clock, offer_id=offer, client_id=_client_id(ctx))
    ctx.finish()
    ctx.convo.data["sent"] = draft  # a second press of this Confirm is recognised
    # One message says it all (the engine's "your request is with …" notice is not sent to the one who sent it).
    if booking.status is BookingStatus.AWAITING_TRIAGE:
        lines = [t("Request sent. Your programme staff look at it first; then it goes to {expert}.",
                   expert=expert.name)]
    else:
        lines = [t("Request sent to {expert}. I will tell you as soon as they answer (by {when} at the latest).",
                   expert=expert.name, when=t.when(booking.expires_at))]
    if booking.price_milli:
        left = available_credits(ctx.uow, _client_id(ctx))
        lines.append(t("{credits} credits are on hold until it is answered; {available} credits are still "
                       "available.", credits=t.credits(booking.price_milli), available=t.credits(left)))
    else:
        lines.append(t("The session is free."))
    ctx.say("\n".join(lines))


def _int(text: str) -> int | None:
    text = text.strip()
    # Typed, so any script's digits ("३"), but not "²" (isdigit() is true for it and int() fails).
    return int(text) if text.isdecimal() and len(text) <= 4 else None
