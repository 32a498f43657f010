"""Choosing an expert, the length of each meeting and how many, as the programme's rules allow."""

from __future__ import annotations

from datetime import timedelta

from core.booking_service import affordability, visible_expert_ids
from core.credit_service import available as available_credits
from core.errors import NotAllowed, NotFound
from core.experts import Expert
from core.pricing import session_price
from core.recurrence import Frequency
from core.sessions import MeetingRequest, lengths_for, nudges, validate_meetings
from bot.flows.actions import ascii_int
from bot.flows.base import Context
from bot.flows.errors import out_of_credits_options
from bot.flows.series_words import CODE_OF, frequency_label
from bot.replies import rows
from bot.flows.booking.draft import (
    CHAT_MAX_MEETINGS,
    NAME,
    client_id,
    draft_data,
    draft_expert,
    max_meetings,
    reset,
    rules_of,
)
from bot.flows.booking.times import choose_times


def pick_expert(ctx: Context, expert_id: int) -> None:
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
    draft = draft_data(ctx)
    keep = {"q": draft.get("q", ""), "f": draft.get("f") if isinstance(draft.get("f"), dict) else {}} \
        if ctx.convo.flow == NAME else {"q": "", "f": {}}
    can = affordability(ctx.uow, client_id(ctx), expert.id)
    if not can.ok:
        reset(ctx, "broke", x=expert.id, **keep)
        ctx.say(
            t.plural("You have {available} credit, and the shortest session with {expert} costs {needed}.",
                     "You have {available} credits, and the shortest session with {expert} costs {needed}.",
                     t.credits_n(can.available_milli),
                     available=t.credits(can.available_milli), expert=expert.name, needed=t.credits(can.cheapest_milli))
            + "\n" + out_of_credits_options(t, ctx.person),
            ((ctx.step_button(t("Show pro-bono experts"), NAME, "flt", "pball"),),),
        )
        return
    reset(ctx, "length", x=expert.id, slots=[], **keep)
    lengths = lengths_for(expert, rules_of(ctx))
    if expert.is_pro_bono:
        ctx.data.update(len=lengths[0], n=1)
        choose_times(ctx, expert, lead=[t("{expert} is a pro-bono expert: the session is one 15-minute meeting, free. "
                                      "That is fixed, so there is nothing to choose.", expert=expert.name)])
    elif len(lengths) == 1:
        ctx.data["len"] = lengths[0]
        ask_count(ctx, expert, lead=[t.plural("Meetings with {expert} last {minutes} minute here.",
                                               "Meetings with {expert} last {minutes} minutes here.",
                                               lengths[0], expert=expert.name, minutes=lengths[0])])
    else:
        ask_length(ctx, expert)


def ask_length(ctx: Context, expert: Expert, lead: list[str] | None = None) -> None:
    t = ctx.t
    ctx.step("length")
    buttons = []
    for minutes in lengths_for(expert, rules_of(ctx)):
        price = session_price(expert, [minutes])
        buttons.append(ctx.step_button(t.plural("{minutes} min · {credits} credit",
                                                "{minutes} min · {credits} credits",
                                                t.credits_n(price.credits_milli), minutes=minutes,
                                                credits=t.credits(price.credits_milli)), NAME, "len", minutes))
    text = t("How long should each meeting with {expert} be?", expert=expert.name)
    ctx.say("\n".join([*(lead or []), text]), rows(buttons, 3))


def choose_length(ctx: Context, expert: Expert, minutes: int) -> None:
    lengths = lengths_for(expert, rules_of(ctx))
    if minutes not in lengths:
        ask_length(ctx, expert, lead=[ctx.t.plural("{minutes} minute is not offered here. Please pick one of these.",
                                                    "{minutes} minutes is not offered here. Please pick one of "
                                                    "these.",
                                                    minutes, minutes=minutes)])
        return
    ctx.data["len"] = minutes
    ask_count(ctx, expert)


def ask_count(ctx: Context, expert: Expert, lead: list[str] | None = None) -> None:
    t = ctx.t
    ctx.step("count")
    minutes = int(ctx.data["len"])
    most = max_meetings(ctx)
    buttons = [ctx.step_button(str(n), NAME, "cnt", n) for n in range(1, min(3, most) + 1)]
    if most > 3:
        buttons.append(ctx.step_button(t("More"), NAME, "cnt", "more"))
    extra = []
    if len(lengths_for(expert, rules_of(ctx))) > 1:
        extra.append(ctx.step_button(t("Change length"), NAME, "chl"))
    price = session_price(expert, [minutes])
    text = t.plural("How many meetings of {minutes} min? Each costs {credits} credit.",
                    "How many meetings of {minutes} min? Each costs {credits} credits.",
                    t.credits_n(price.credits_milli), minutes=minutes,
                    credits=t.credits(price.credits_milli))
    repeat = tuple(ctx.step_button(frequency_label(t, f), NAME, "rep", CODE_OF[f]) for f in Frequency)
    text += "\n" + t("Or make it a series: the same time every week, every two weeks or every month.")
    ctx.say("\n".join([*(lead or []), text]), (tuple(buttons), *((tuple(extra),) if extra else ()), repeat))


def ask_more(ctx: Context) -> None:
    ctx.step("count_more")
    ctx.say(ctx.t("How many meetings? Type a number up to {max}.", max=max_meetings(ctx)),
            ((ctx.step_button(ctx.t("Back to 1, 2 or 3"), NAME, "cntback"),),))


def validate_count(ctx: Context, expert: Expert, n: int) -> None:
    """The core's rules first (a pro-bono session is one meeting; a programme's cap)."""
    minutes = int(ctx.data.get("len") or lengths_for(expert, rules_of(ctx))[0])
    base = ctx.clock.now()
    meetings = [MeetingRequest(base + timedelta(minutes=minutes * i), minutes) for i in range(min(max(n, 0), CHAT_MAX_MEETINGS + 1))]  # more is refused all the same
    validate_meetings(expert, meetings, rules_of(ctx))


def choose_count(ctx: Context, expert: Expert, n: int) -> None:
    t = ctx.t
    most = max_meetings(ctx)
    if n < 1 or n > most:
        ask_count(ctx, expert, lead=[t.plural("Please choose between 1 and {max} meeting for one request.",
                                               "Please choose between 1 and {max} meetings for one request.",
                                               most, max=most)])
        return
    validate_count(ctx, expert, n)
    minutes = int(ctx.data["len"])
    price = session_price(expert, [minutes] * n).credits_milli
    available = available_credits(ctx.uow, client_id(ctx))
    if price > available:
        ask_count(ctx, expert, lead=[
            t.plural("That is {needed} credit for {count} × {minutes} min, and you have {available}. Choose fewer or "
                     "shorter meetings.",
                     "That is {needed} credits for {count} × {minutes} min, and you have {available}. Choose fewer or "
                     "shorter meetings.",
                     t.credits_n(price), count=n, minutes=minutes, needed=t.credits(price), available=t.credits(available)),
            out_of_credits_options(t, ctx.person),
        ])
        return
    ctx.data.update(n=n, slots=[])
    lead = []
    sessions = ctx.uow.bookings.sessions_between(client_id(ctx), expert.id or 0)
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
    choose_times(ctx, expert, lead=lead)


def rules_first(ctx: Context, action: str, rest: tuple[str, ...]) -> None:
    """The rules decide before the step does: a forged length or count is refused by the core's validation
    (raising), whichever step the conversation is at."""
    expert = draft_expert(ctx)
    if expert is None or len(rest) != 1:
        return
    minutes = ascii_int(rest[0], 1, 1440) if action == "len" else None
    if minutes is not None:
        validate_meetings(expert, [MeetingRequest(ctx.clock.now(), minutes)], rules_of(ctx))
    n = ascii_int(rest[0], 1, CHAT_MAX_MEETINGS) if action == "cnt" else None
    if n is not None:
        validate_count(ctx, expert, n)
