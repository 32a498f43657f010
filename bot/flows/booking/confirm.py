"""The summary's buttons: Confirm sends the request (one, or a series), Change time, Cancel."""

from __future__ import annotations

from core.booking_service import request_booking
from core.credit_service import available as available_credits
from core.errors import InvalidSession, NotFound
from core.files import attach_to_booking
from core.lifecycle import BookingStatus
from core.waitlist_service import offer_taken
from core.sessions import SessionDetails
from bot.flows.base import Context
from bot.flows.booking.draft import NAME, client_id, draft_expert, frequency_in, on_hold
from bot.flows.booking.summary import meetings_of
from bot.flows.booking.times import choose_times
from bot.flows.booking.series import send_series


def summary_action(ctx: Context, action: str, draft: str) -> bool:
    """Confirm, Change time or Cancel on the summary `draft` marks; False for a summary that is not the
    current one (the caller answers it as outdated)."""
    t = ctx.t
    d = ctx.data
    current = ctx.convo.flow == NAME and ctx.convo.step == "summary" and d.get("sum") == draft
    if not current:
        if ctx.convo.flow == "" and d.get("sent") == draft:
            ctx.say(t("That request has already been sent. /sessions shows it."))
            return True
        return False
    if action == "ok" and isinstance(d.get("x"), int):
        # The request about to go locks the expert: the same statement loads the profile read next.
        ctx.uow.experts.lock(d["x"], wallets_of=client_id(ctx))
    expert = draft_expert(ctx)
    if expert is None or expert.id is None:
        raise NotFound("the expert is gone", reason="expert_not_found")
    if action == "stop":
        ctx.finish()
        ctx.say(t("Cancelled. Nothing was booked and no credits were held."))
        return True
    if action == "chg":
        d["slots"] = []
        choose_times(ctx, expert, lead=[t("Let's pick new times.")])
        return True
    details = SessionDetails(
        str(d.get("title", "")), str(d.get("outcome", "")), context=str(d.get("context", "")),
        intro_note=str(d.get("intro", "")), attachments=tuple(str(f) for f in d.get("files", [])),
    )
    if frequency_in(ctx) is not None:
        send_series(ctx, expert, details, draft)
        return True
    # Raises SlotUnavailable, InsufficientCredits, InvalidSession...: the dispatcher rolls the event back
    # and explains, and the conversation stays here, at the summary.
    booking = request_booking(ctx.uow, ctx.clock, client_id=client_id(ctx), expert_id=expert.id,
                              meetings=meetings_of(ctx), details=details, policy=ctx.policy)
    attach_to_booking(ctx.uow, booking)  # the files stored as they came now belong to the request
    offer = d.get("wo")
    if isinstance(offer, int):  # booked from a waitlist offer: the wait for this expert is over
        offer_taken(ctx.uow, ctx.clock, offer_id=offer, client_id=client_id(ctx))
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
        left = available_credits(ctx.uow, client_id(ctx))
        lines.append(on_hold(t, booking.price_milli, left))
    else:
        lines.append(t("The session is free."))
    ctx.say("\n".join(lines))
    return True
