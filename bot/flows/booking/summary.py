"""The summary before Confirm: everything the request will say, the price and the balance."""

from __future__ import annotations

from core.credit_service import available as available_credits
from core.experts import Expert
from core.pricing import session_price
from core.sessions import MeetingRequest
from bot.flows.base import Context
from bot.flows.errors import out_of_credits_options
from bot.flows.series_words import how_often
from bot.replies import Button
from bot.flows.booking.draft import NAME, client_id, frequency_in, on_marketplace, picked_times


def meetings_of(ctx: Context) -> list[MeetingRequest]:
    minutes = int(ctx.data.get("len", 0))
    return [MeetingRequest(at, minutes) for at in sorted(picked_times(ctx))]


def summary_buttons(ctx: Context, draft: str, *, can_confirm: bool = True) -> tuple[tuple[Button, ...], ...]:
    t = ctx.t
    row = []
    if can_confirm:
        row.append(ctx.button(t("Confirm"), NAME, "ok", draft))
    row += [ctx.button(t("Change time"), NAME, "chg", draft), ctx.button(t("Cancel"), NAME, "stop", draft)]
    return (tuple(row),)


def show_summary(ctx: Context, expert: Expert, lead: list[str] | None = None) -> None:
    """Everything the request will say, the price and the balance, before anything is held.

    The buttons carry a draft mark (the stamp of this summary), not the conversation version: a refusal
    at Confirm rolls back and bumps the version, and the client must still be able to press Change time.
    """
    t = ctx.t
    d = ctx.data
    meetings = meetings_of(ctx)
    price = session_price(expert, [m.minutes for m in meetings])
    series = frequency_in(ctx)
    available = available_credits(ctx.uow, client_id(ctx))
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
        lines.append(t.plural("Price: free (pro-bono). Nothing is taken from your balance ({available} credit).",
                              "Price: free (pro-bono). Nothing is taken from your balance ({available} credits).",
                              t.credits_n(available), available=t.credits(available)))
    else:
        text = t.plural("Price: {credits} credit",
                        "Price: {credits} credits",
                        t.credits_n(price.credits_milli), credits=t.credits(price.credits_milli))
        if price.money is not None and on_marketplace(ctx):
            text += " " + t("({money})", money=t.money(price.money))
        lines.append(text)
        lines.append(t.plural("Your balance: {available} credit available. The price is held when you confirm and "
                              "spent only if {expert} accepts.",
                              "Your balance: {available} credits available. The price is held when you confirm and "
                              "spent only if {expert} accepts.",
                              t.credits_n(available), available=t.credits(available), expert=expert.name))
        if not affordable:
            lines.append(t("That is more than you have.") + " " + out_of_credits_options(t, ctx.person))
    draft = ctx.stamp
    ctx.step("summary", sum=draft)
    ctx.say("\n".join(lines), summary_buttons(ctx, draft, can_confirm=affordable))
