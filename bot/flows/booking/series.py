"""A recurring series: how often, how many (or until when), a preview of every date, and the request."""

from __future__ import annotations

from datetime import date

from core.booking_service import preview_series, request_series
from core.credit_service import available as available_credits
from core.experts import Expert
from core.lifecycle import BookingStatus
from core.pricing import session_price
from core.recurrence import MAX_OCCURRENCES, OccurrenceCheck
from core.sessions import SessionDetails
from bot.flows.base import Context
from bot.flows.pickers import local_day, parse_day_arg, parse_slot_arg, slot_arg
from bot.flows.series_words import (
    COUNT_BUTTONS,
    count_ok,
    free_starts,
    frequency_label,
    how_often,
    month_ends,
    moves_for_reader,
    preview_lines,
    read_count,
    strip_until,
)
from bot.flows.typed_times import Passed, Refuse, ShowDay, Take, meaning
from bot.flows.typed_times import read as read_typed
from bot.replies import rows
from bot.flows.booking.draft import NAME, DETAILS_FORM, client_id, day_label, forget_series, frequency_in, on_hold
from bot.flows.booking.summary import show_summary
from bot.flows.booking.details import ask_detail
from bot.flows.booking.times import choose_times
from bot.flows.booking.choose import choose_count


def ask_series_count(ctx: Context, expert: Expert, lead: list[str] | None = None) -> None:
    """How many sessions (buttons 2-12, or typed), or until which date (a button or typed in words)."""
    t = ctx.t
    frequency = frequency_in(ctx)
    assert frequency is not None
    ctx.step("rcount")
    # "1" first, so a chat that numbers its buttons (the console) numbers each count as itself.
    counts = [ctx.step_button("1", NAME, "rone")] + [ctx.step_button(str(n), NAME, "rcn", n) for n in COUNT_BUTTONS]
    today = local_day(ctx.clock.now(), ctx.person.timezone)
    ends = [ctx.step_button(t("Until {day}", day=day_label(ctx, d)), NAME, "rcu", d.isoformat()) for d in month_ends(today)]
    text = t("{label}: how many sessions? Pick a number or type one (1 is a single session), or type the date of "
             "the last one, like “30 April”.", label=frequency_label(t, frequency))
    ctx.say("\n".join([*(lead or []), text]), (
        *rows(counts, 6), tuple(ends),
        (ctx.step_button(t("Change length"), NAME, "chl"),),
    ))


def typed_series_count(ctx: Context, expert: Expert, text: str) -> None:
    """A number of sessions, or a last date read like any typed time (a day, or a day and time)."""
    t = ctx.t
    n = read_count(text)
    if n is not None:
        choose_series(ctx, expert, count=n)
        return
    found = meaning(t, text, read_typed(ctx, strip_until(text)), lambda at: True)
    if isinstance(found, ShowDay):
        choose_series(ctx, expert, until=found.day)
    elif isinstance(found, Take):
        choose_series(ctx, expert, until=local_day(found.at, ctx.person.timezone))
    elif isinstance(found, Passed):
        ask_series_count(ctx, expert, lead=[t("{day} has already passed. Please pick a day ahead.",
                                               day=day_label(ctx, found.day))])
    elif isinstance(found, Refuse):
        ask_series_count(ctx, expert, lead=[found.text])
    else:
        ask_series_count(ctx, expert, lead=[found.question])


def choose_series(ctx: Context, expert: Expert, *, count: int | None = None, until: date | None = None) -> None:
    t = ctx.t
    if count == 1:  # one session after all: the ordinary booking
        forget_series(ctx)
        choose_count(ctx, expert, 1)
        return
    if count is not None and not count_ok(count):
        ask_series_count(ctx, expert, lead=[t.plural("Please choose between 2 and {max} session.",
                                                      "Please choose between 2 and {max} sessions.",
                                                      MAX_OCCURRENCES, max=MAX_OCCURRENCES)])
        return
    if until is not None and until <= local_day(ctx.clock.now(), ctx.person.timezone):
        ask_series_count(ctx, expert, lead=[t("{day} has already passed. Please pick a day ahead.",
                                               day=day_label(ctx, until))])
        return
    ctx.data.pop("rcnt", None)
    ctx.data.pop("rend", None)
    if count is not None:
        ctx.data["rcnt"] = count
    elif until is not None:
        ctx.data["rend"] = until.isoformat()
    ctx.data.update(n=1, slots=[])
    choose_times(ctx, expert)


def _series_checks(ctx: Context, expert: Expert) -> list[OccurrenceCheck] | None:
    """The core's verdict on each date of the series (None: the end date is before the first session)."""
    frequency = frequency_in(ctx)
    first = parse_slot_arg(str(ctx.data.get("first", "")))
    assert frequency is not None and first is not None and expert.id is not None
    count = ctx.data.get("rcnt")
    until = parse_day_arg(str(ctx.data.get("rend", ""))) if count is None else None
    if count is None and (until is None or until < local_day(first, expert.timezone)):
        return None
    return preview_series(ctx.uow, ctx.clock, expert_id=expert.id, first_start=first,
                          minutes=int(ctx.data["len"]), frequency=frequency,
                          count=int(count) if count is not None else None, until=until)


def series_preview(ctx: Context, expert: Expert, lead: list[str] | None = None) -> None:
    """Every date, free or clashing, before anything is held; the free ones can go ahead."""
    t = ctx.t
    checks = _series_checks(ctx, expert)
    frequency = frequency_in(ctx)
    assert frequency is not None
    if checks is None:
        ctx.data["slots"] = []
        ask_series_count(ctx, expert, lead=[t("The last date is before the first session. Please choose again.")])
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
    available = available_credits(ctx.uow, client_id(ctx))
    buttons = []
    if clashes:
        lines.append(t.plural("{n} date clashes and would be left out.", "{n} dates clash and would be left out.",
                              clashes))
    if each * len(free) > available:
        lines.append(t.plural("The free dates cost {needed} credit and you have {available}. Choose fewer sessions.",
                              "The free dates cost {needed} credits and you have {available}. Choose fewer sessions.",
                              t.credits_n(each * len(free)),
                              needed=t.credits(each * len(free)), available=t.credits(available)))
    elif free:
        lines.append(t.plural("Nothing is held yet. The free dates cost {needed} credit ({each} each), held when "
                              "you send the request.",
                              "Nothing is held yet. The free dates cost {needed} credits ({each} each), held when "
                              "you send the request.",
                              t.credits_n(each * len(free)), needed=t.credits(each * len(free)), each=t.credits(each)))
        label = (t.plural("Go ahead with the {n} free date", "Go ahead with the {n} free dates", len(free))
                 if clashes else t("Go ahead"))
        buttons.append(ctx.step_button(label, NAME, "sok", form=DETAILS_FORM))
    buttons += [ctx.step_button(t("Pick another start"), NAME, "sother"),
                ctx.step_button(t("Change how many"), NAME, "rback")]
    ctx.say("\n".join(lines), rows(buttons, 3))


def series_go_ahead(ctx: Context, expert: Expert) -> None:
    """The free dates become this draft's times; the details come next (or the summary, if already written)."""
    t = ctx.t
    if not ctx.data.get("slots"):
        series_preview(ctx, expert)
        return
    noted = t.plural("{n} session planned.", "{n} sessions planned.", len(ctx.data["slots"]))
    if ctx.data.get("title") and ctx.data.get("outcome"):
        show_summary(ctx, expert, lead=[noted])
    else:
        ask_detail(ctx, expert, "title", lead=[noted])


def send_series(ctx: Context, expert: Expert, details: SessionDetails, draft: str) -> None:
    """One request for the whole series, checked again: a date taken since the preview is shown, not dropped."""
    t = ctx.t
    checks = _series_checks(ctx, expert)
    frequency = frequency_in(ctx)
    first = parse_slot_arg(str(ctx.data.get("first", "")))
    assert checks is not None and frequency is not None and first is not None and expert.id is not None
    if sorted(int(slot_arg(s)) for s in free_starts(checks)) != sorted(int(s) for s in ctx.data.get("slots", [])):
        series_preview(ctx, expert, lead=[t("The dates changed since you saw them:")])
        return
    count = ctx.data.get("rcnt")
    result = request_series(ctx.uow, ctx.clock, client_id=client_id(ctx), expert_id=expert.id, first_start=first,
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
        lines.append(on_hold(t, held, available_credits(ctx.uow, client_id(ctx))))
    ctx.say("\n".join(lines))
