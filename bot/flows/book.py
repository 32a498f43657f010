"""Find and book: search by intent with filters, expert cards, length and number of meetings as the
rules allow, the time picker (a sub-dialog) for each meeting, the details, then a summary with price and
balance before anything is held.

The steps are declared here (BOOK) over the dialog engine (bot/flows/dialog.py); what each does lives in
bot/flows/booking/, one concept per module. Nothing is written until Confirm: every step keeps its state in
the conversation's data, so /cancel leaves nothing behind and any process can continue the conversation.
The core re-checks everything at Confirm.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.experts import Expert
from core.recurrence import MAX_OCCURRENCES
from core.sessions import lengths_for
from bot.flows.actions import ID_MAX, Choice, Day, Either, Id, Int, Opt, Slot, Stamp, Text, ascii_int
from bot.flows.base import Context
from bot.flows.booking.choose import (
    ask_count,
    ask_length,
    ask_more,
    choose_count,
    choose_length,
    pick_expert,
    rules_first,
)
from bot.flows.booking.confirm import summary_action
from bot.flows.booking.details import ask_detail, next_detail, take_detail, take_form
from bot.flows.booking.draft import (
    CHAT_MAX_MEETINGS,
    Act,
    DETAIL_STEPS,
    DETAILS_FORM,
    DIALOG,
    FILES_NEXT,
    FORM_STEPS,
    MAX_FILES,
    NAME,
    PICKER,
    again_button,
    book_button,
    draft_data,
    draft_expert,
    forget_series,
    one_meeting,
    picking,
    reset,
    rules_of,
    typed_int,
)
from bot.flows.booking.search import ask_intent, apply_filter, open_deep_link, search
from bot.flows.booking.series import ask_series_count, choose_series, series_go_ahead, series_preview, \
    typed_series_count
from bot.flows.booking.summary import show_summary, summary_buttons
from bot.flows.booking.times import adopt_saved_draft, book_offered, choose_times, show_days_again, times_again
from bot.flows.dialog import Dialog, DialogFlow, PressHandler, Prompt, Step, TextHandler
from bot.flows.pickers import parse_day_arg
from bot.flows.series_words import FREQUENCY_CODES, frequency_of
from bot.flows.waitlist import join_button, show_entries

__all__ = ["DETAILS_FORM", "Act", "BookFlow", "again_button", "book_button", "book_offered", "open_deep_link",
           "show_days_again"]

_SEARCH_STEPS = ("intent", "results", "broke", "nofree", "")  # typed words there are a new search


# ---------------------------------------------------------------- what the steps do with the expert


def _expert(ctx: Context) -> Expert:
    """The draft's expert; BookFlow answers a press or text without one before any step runs."""
    expert = draft_expert(ctx)
    assert expert is not None
    return expert


def _shown(show: Any) -> Prompt:
    """A step shown again with the draft's expert (nothing when the expert is gone)."""
    def prompt(ctx: Context) -> None:
        expert = draft_expert(ctx)
        if expert is not None:
            show(ctx, expert)
    return prompt


def _nothing(ctx: Context) -> None:
    """Steps with nothing to show again: the message on screen stays as it is."""


def _results_again(ctx: Context) -> None:
    search(ctx, page=int(ctx.data.get("page") or 0))


def _summary_again(ctx: Context) -> None:
    if draft_expert(ctx) is not None:
        ctx.say(ctx.t("Your request is ready to send:"), summary_buttons(ctx, str(ctx.data.get("sum", ""))))


def _detail_again(ctx: Context) -> None:
    expert = draft_expert(ctx)
    if expert is not None:
        ask_detail(ctx, expert, ctx.convo.step)


# ---------------------------------------------------------------- presses, by step


def _length(ctx: Context, rest: tuple[str, ...]) -> None:
    minutes = ascii_int(rest[0], 1, 1440)
    if minutes is None:
        BOOK.stale(ctx)
        return
    choose_length(ctx, _expert(ctx), minutes)


def _count(ctx: Context, rest: tuple[str, ...]) -> None:
    if rest[0] == "more":
        if ctx.convo.step != "count":
            BOOK.stale(ctx)
            return
        ask_more(ctx)
        return
    n = ascii_int(rest[0], 1, CHAT_MAX_MEETINGS)  # bounded before a list of n meetings is built
    if n is None:
        BOOK.stale(ctx)
        return
    choose_count(ctx, _expert(ctx), n)  # validated first by rules_first


def _repeat(ctx: Context, rest: tuple[str, ...]) -> None:
    expert = _expert(ctx)
    frequency = frequency_of(rest[0])
    if expert.is_pro_bono or frequency is None:
        BOOK.stale(ctx)
        return
    ctx.data.update(rep=frequency.value, n=1, slots=[])
    ask_series_count(ctx, expert)


def _change_length(ctx: Context, rest: tuple[str, ...]) -> None:
    expert = _expert(ctx)
    if expert.is_pro_bono:
        BOOK.stale(ctx)
        return
    ctx.data["slots"] = []
    forget_series(ctx)
    if len(lengths_for(expert, rules_of(ctx))) > 1:
        ask_length(ctx, expert)
    else:
        ask_count(ctx, expert)


def _series_count(ctx: Context, rest: tuple[str, ...]) -> None:
    count = ascii_int(rest[0], 1, MAX_OCCURRENCES)
    if not count:
        BOOK.stale(ctx)
        return
    choose_series(ctx, _expert(ctx), count=count)


def _series_until(ctx: Context, rest: tuple[str, ...]) -> None:
    until = parse_day_arg(rest[0])
    if until is None:
        BOOK.stale(ctx)
        return
    choose_series(ctx, _expert(ctx), until=until)


def _other_start(ctx: Context, rest: tuple[str, ...]) -> None:
    ctx.data["slots"] = []
    choose_times(ctx, _expert(ctx), lead=[ctx.t("Pick another start for the series.")])


def _series_back(ctx: Context, rest: tuple[str, ...]) -> None:
    ctx.data["slots"] = []
    ask_series_count(ctx, _expert(ctx))


def _skip(ctx: Context, rest: tuple[str, ...]) -> None:
    step = ctx.convo.step
    ctx.data[step] = ""
    next_detail(ctx, _expert(ctx), step)


def _expert_step(handler: Any) -> PressHandler:
    """A press that needs only the draft's expert."""
    return lambda ctx, rest: handler(ctx, _expert(ctx))


# ---------------------------------------------------------------- typed words, by step


def _new_search(ctx: Context, text: str) -> None:
    if not text:
        ask_intent(ctx)
        return
    ctx.data.update(q=text[:200], page=0)
    search(ctx)


def _typed_length(ctx: Context, text: str) -> None:
    expert = _expert(ctx)
    minutes = typed_int(text.lower().replace("minutes", "").replace("min", ""))
    if minutes is None:
        ask_length(ctx, expert, lead=[ctx.t("Please pick a length with the buttons, or type the minutes "
                                            "(for example 30).")])
        return
    choose_length(ctx, expert, minutes)


def _typed_count(ctx: Context, text: str) -> None:
    expert = _expert(ctx)
    n = typed_int(text)
    if n is None:
        ask_count(ctx, expert, lead=[ctx.t("Please type the number of meetings as a number, for example 2, or use "
                                           "the buttons.")])
        return
    choose_count(ctx, expert, n)


def _typed_preview(ctx: Context, text: str) -> None:
    series_preview(ctx, _expert(ctx), lead=[ctx.t("Please use the buttons: go ahead with the free dates, or pick "
                                                  "another start.")])


def _typed_detail(ctx: Context, text: str) -> None:
    take_detail(ctx, _expert(ctx), ctx.convo.step, text)


def _typed_files(ctx: Context, text: str) -> None:
    ctx.say(ctx.t("Send a file to attach it, or press Done when you have added everything."),
            ((BOOK.button(ctx, ctx.t("Done"), "done"),),))


def _typed_summary(ctx: Context, text: str) -> None:
    ctx.say(ctx.t("Please use the buttons: Confirm sends the request; Change time picks other times; "
                  "Cancel stops without booking."), summary_buttons(ctx, str(ctx.data.get("sum", ""))))


# ---------------------------------------------------------------- the time picker's result


def _times_chosen(ctx: Context, result: Mapping[str, Any]) -> None:
    t = ctx.t
    expert = draft_expert(ctx)
    if result.get("gone") or expert is None:  # the expert disappeared meanwhile: start over, politely
        reset(ctx, "intent")
        ctx.say(t("I could not find that expert any more."))
        ask_intent(ctx)
    elif result.get("exit") == "chl":
        _change_length(ctx, ())
    elif result.get("none"):
        minutes = int(ctx.data["len"])
        ctx.step("nofree")
        lines = [*result.get("lead", []), t("{expert} has no free {minutes}-minute time within their booking "
                                            "window. Please choose another expert.", expert=expert.name,
                                            minutes=minutes)]
        wait = (join_button(ctx, expert, minutes),) if one_meeting(ctx) else ()
        ctx.say("\n".join(lines), ((*wait, ctx.button(t("Find another expert"), NAME, "again")),))
    elif "first" in result:
        ctx.data["first"] = int(result["first"])
        series_preview(ctx, expert)
    else:
        ctx.data["slots"] = [int(s) for s in result["slots"]]
        if ctx.data.pop(FILES_NEXT, None):  # picked again after the details form: its files step comes next
            ask_detail(ctx, expert, "files", lead=list(result["lead"]))
        elif ctx.data.get("title") and ctx.data.get("outcome"):
            show_summary(ctx, expert, lead=list(result["lead"]))  # times changed from the summary: details kept
        else:
            ask_detail(ctx, expert, "title", lead=list(result["lead"]))


# ---------------------------------------------------------------- the steps

_COUNTING = {"cnt": _count, "rep": _repeat, "chl": _change_length}
_DETAIL_TEXT: TextHandler = _typed_detail

BOOK = Dialog(DIALOG, NAME, [
    Step("intent", _nothing, text=_new_search),
    Step("results", _results_again, text=_new_search),
    Step("broke", _nothing, text=_new_search),
    Step("nofree", _nothing, text=_new_search),
    Step("length", _shown(ask_length), {"len": _length}, text=_typed_length),
    Step("count", _shown(ask_count), _COUNTING, text=_typed_count),
    Step("count_more", ask_more, {**_COUNTING, "cntback": _expert_step(ask_count)}, text=_typed_count),
    Step("rcount", _shown(ask_series_count),
         {"rcn": _series_count, "rcu": _series_until, "rone": lambda ctx, rest: choose_series(ctx, _expert(ctx), count=1),
          "chl": _change_length}, text=lambda ctx, text: typed_series_count(ctx, _expert(ctx), text)),
    Step("sprev", _shown(series_preview),
         {"sok": _expert_step(series_go_ahead), "sother": _other_start, "rback": _series_back}, text=_typed_preview),
    Step("times", times_again, on_result=_times_chosen),  # the time picker is on top (bot/flows/time_picker.py)
    Step("title", _detail_again, text=_DETAIL_TEXT, form=DETAILS_FORM, next="outcome"),
    Step("outcome", _detail_again, text=_DETAIL_TEXT, next="intro"),
    Step("intro", _detail_again, {"skip": _skip}, text=_DETAIL_TEXT, next="context"),
    Step("context", _detail_again, {"skip": _skip}, text=_DETAIL_TEXT, next="files"),
    Step("files", _detail_again, {"done": _expert_step(show_summary)}, text=_typed_files),
    Step("summary", _summary_again, text=_typed_summary),
])
PICKER.callers[BOOK.name] = BOOK
assert set(DETAIL_STEPS) <= set(BOOK.steps)


class BookFlow(DialogFlow):
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

    def __init__(self) -> None:
        # Action buttons (no stamp): checked against the database and the draft, not the conversation version.
        super().__init__([BOOK, PICKER.dialog], free={
            "pick": self._pick, "again": lambda ctx, args: self.start(ctx, ""),
            "ok": lambda ctx, args: self._summary(ctx, "ok", args),
            "chg": lambda ctx, args: self._summary(ctx, "chg", args),
            "stop": lambda ctx, args: self._summary(ctx, "stop", args),
        })

    def start(self, ctx: Context, args: str) -> None:
        """/book [topic], or plain words typed outside any flow."""
        reset(ctx, "intent")
        intent = args.strip()
        if intent:
            ctx.data["q"] = intent[:200]
            search(ctx)
        else:
            ask_intent(ctx)
            show_entries(ctx)  # "You are on Eve's waitlist", with Leave

    def _pick(self, ctx: Context, args: tuple[str, ...]) -> None:
        expert_id = ascii_int(args[0], 1, ID_MAX) if len(args) == 1 else None
        if expert_id is None:
            self.stale(ctx)
            return
        pick_expert(ctx, expert_id)

    def _summary(self, ctx: Context, action: str, args: tuple[str, ...]) -> None:
        if len(args) != 1 or not summary_action(ctx, action, args[0]):
            self.stale(ctx)

    def on_press(self, ctx: Context, action: str, args: tuple[str, ...]) -> None:
        adopt_saved_draft(ctx)
        if action not in self.free and ctx.pressed_current(NAME, args):
            rest = args[1:]
            if not picking(ctx):
                # Search buttons work at any step of the booking's own dialog.
                if action == "flt":
                    if not apply_filter(ctx, rest):
                        self.stale(ctx)
                    return
                page = ascii_int(rest[0], 0, 999) if action == "more" and len(rest) == 1 else None
                if page is not None:
                    search(ctx, page=page)
                    return
                if draft_expert(ctx) is None:
                    self.stale(ctx)
                    return
            rules_first(ctx, action, rest)  # the rules decide before the step does (raises when broken)
        super().on_press(ctx, action, args)

    def on_text(self, ctx: Context, text: str) -> None:
        adopt_saved_draft(ctx)
        if ctx.convo.flow == NAME and not picking(ctx) and ctx.convo.step not in _SEARCH_STEPS \
                and draft_expert(ctx) is None:  # the expert disappeared meanwhile: start over, politely
            reset(ctx, "intent")
            ctx.say(ctx.t("I could not find that expert any more."))
            ask_intent(ctx)
            return
        super().on_text(ctx, text if picking(ctx) else text.strip())

    def on_file(self, ctx: Context, ref: str) -> None:
        """Attachments go with the request: accepted once an expert is chosen, kept until Confirm."""
        if ctx.convo.flow != NAME or not isinstance(ctx.data.get("x"), int) or not ref:
            super().on_file(ctx, ref)
            return
        adopt_saved_draft(ctx)
        draft = draft_data(ctx)
        files: list[str] = list(draft.get("files", []))
        if len(files) >= MAX_FILES:
            ctx.say(ctx.t.plural("That is {max} file already, the most one request takes.",
                                 "That is {max} files already, the most one request takes.",
                                 MAX_FILES, max=MAX_FILES))
            return
        files.append(ref[:500])
        draft["files"] = files
        if ctx.convo.step == "files":
            ctx.say(ctx.t("Attached ({count} so far). Send more, or press Done.", count=len(files)),
                    ((BOOK.button(ctx, ctx.t("Done"), "done"),),))
        elif ctx.convo.step == "summary":
            expert = draft_expert(ctx)
            if expert is not None:
                show_summary(ctx, expert, lead=[ctx.t("Attached ({count} so far).", count=len(files))])
        else:
            # Attaching saves the draft, which makes the step's buttons on screen stale: show them again.
            ctx.say(ctx.t("Attached ({count} so far). It goes with your request.", count=len(files)))
            self.again(ctx)

    def on_form(self, ctx: Context, fields: dict[str, str]) -> None:
        """The details form at once (Slack's modal): bot/flows/booking/details.py."""
        expert = draft_expert(ctx)
        if ctx.convo.flow != NAME or ctx.convo.step not in FORM_STEPS or expert is None:
            super().on_form(ctx, fields)
            return
        take_form(ctx, expert, fields)
