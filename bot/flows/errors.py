"""Every refusal from the engine becomes a sentence with a way forward."""

from __future__ import annotations

from core.errors import DomainError, InsufficientCredits
from bot.i18n import Translator
from core.model import Person
from bot.words import booking_status, meeting_status


def explain(t: Translator, error: Exception, person: Person | None = None) -> str:
    reason = getattr(error, "reason", "")
    if isinstance(error, InsufficientCredits):
        needed = error.context.get("needed")
        available = error.context.get("available")
        if isinstance(needed, int) and isinstance(available, int):
            return t.plural("That needs {needed} credit and you have {available}.",
                            "That needs {needed} credits and you have {available}.",
                            t.credits_n(needed), needed=t.credits(needed),
                            available=t.credits(available)) + " " + out_of_credits_options(t, person)
        return t("There are not enough credits for that.") + " " + out_of_credits_options(t, person)
    grid = getattr(error, "context", {}).get("grid_minutes", 15)
    messages = {
        "past": t("That time has already passed. Please pick a time in the future."),
        "too_soon": t("That is too soon: this expert needs more notice. Please pick a later time."),
        "beyond_horizon": t("That is too far ahead: this expert takes bookings only so far in advance."),
        "outside_availability": t("The expert is not available then. Please pick one of their free slots."),
        "off_grid": t.plural("Meetings start every {minutes} minute from the start of the expert's hours, so that "
                             "time is between two slots. Please pick one of the free times.",
                             "Meetings start every {minutes} minutes from the start of the expert's hours, so that "
                             "time is between two slots. Please pick one of the free times.",
                             grid if isinstance(grid, int) else 15, minutes=grid),
        "taken": t("Someone else just took that time. Please pick another slot."),
        "day_full": t("The expert's day is already full. Please pick another day."),
        "series_no_fit": t("None of the dates in that series is free. Try another time or frequency."),
        "series_answered": t("Nothing in this series is waiting for your answer any more."),
        "series_not_found": t("I could not find that series."),
        "pro_bono_length": t("Sessions with pro-bono experts are one 15-minute meeting."),
        "pro_bono_one_meeting": t("Sessions with pro-bono experts are one 15-minute meeting."),
        "bad_length": t("That meeting length is not offered here."),
        "too_many_meetings": t("That is more meetings than one session allows here."),
        "meetings_overlap": t("Two meetings of this session overlap. Please pick different times."),
        "title_required": t("Please give the session a short title."),
        "title_too_long": t("Please keep the title shorter (80 characters at most)."),
        "outcome_required": t("Please say what you want to come away with: the desired outcome is required."),
        "outcome_too_long": t("Please keep the desired outcome shorter (500 characters at most)."),
        "not_the_expert": t("Only the expert this request was sent to can answer it."),
        "not_the_client": t("Only the person who made this request can do that."),
        "not_a_party": t("Only the client or the expert of this session can do that."),
        "not_staff": t("Only programme staff can do that."),
        "self_booking": t("You cannot book a session with yourself."),
        "not_assigned": t("Your programme assigns your mentors, and this one is not assigned to you. Ask your programme staff."),
        "expired": t("This request has expired, so it can no longer be accepted."),
        "awaiting_client": t("You suggested other times; the client answers now."),
        "no_proposal": t("There is no suggested time to answer."),
        "not_yet_held": t("You can review a session once a meeting has taken place."),
        "already_reviewed": t("You have already reviewed this session. Thank you!"),
        "review_not_found": t("I could not find that review."),
        "not_the_reviewed_expert": t("Only the expert a client reviewed can answer that review."),
        "already_answered": t("This review has been answered already; an answer is given once."),
        "review_hidden": t("Programme staff have hidden this review, so it cannot be answered."),
        "already_hidden": t("This review is hidden already."),
        "answer_required": t("Type a few words, or press Stop."),
        "answer_too_long": t("Please keep the answer shorter (1000 characters at most)."),
        "relay_not_confirmed": t("Messages can be sent about confirmed and past sessions only. Nothing was sent."),
        "relay_closed": t("Messages about this session have closed: I pass them on for a while after the last "
                          "meeting only."),
        "relay_daily_limit": t("You have sent as many messages about this session today as I can pass on. Please "
                               "try again tomorrow."),
        "relay_blocked": t("The other side cannot get messages from me any more (they blocked the bot or left the "
                           "chat), so I cannot pass yours on."),
        "relay_no_reason": t("Staff read a session's messages only after a no-show or a complaint was reported."),
        "relay_empty": t("Type a few words, or press Stop."),
        "relay_too_long": t("Please keep a message shorter (2000 characters at most)."),
        "bad_relay_days": t("Messages can stay open from 0 to 3650 days after the last meeting."),
        "limit_reached": t("This meeting has been moved twice already, which is the limit. You can cancel it instead."),
        "already_started": t("This meeting has already started, so it can no longer be changed."),
        "no_show_too_early": t("A no-show can be reported from 10 minutes after the start."),
        "no_show_too_late": t("A no-show can be reported up to 7 days after the meeting; this one is older."),
        "meeting_not_found": t("I could not find that meeting."),
        "bad_stars": t("Please rate from 1 to 5 stars."),
        "one_time_per_meeting": t("Please suggest one time for each meeting."),
        "concurrent_change": t("Something changed at the same moment. Nothing was lost: please try again."),
        "booking_not_found": t("I could not find that session."),
        "expert_not_found": t("I could not find that expert."),
        "offer_not_found": t("I could not find that offer."),
    }
    if reason in messages:
        return messages[reason]
    if reason.startswith("booking_") or reason.startswith("meeting_"):
        kind, _, value = reason.partition("_")
        try:
            status = booking_status(t, value) if kind == "booking" else meeting_status(t, value)
        except ValueError:
            status = value
        return t("This session has already moved on (it is {status}), so that is no longer possible.", status=status)
    if isinstance(error, DomainError):
        return t("That did not work: {detail}", detail=error.detail or reason)
    return t("Something went wrong. Nothing was changed; please try again.")


def out_of_credits_options(t: Translator, person: Person | None = None) -> str:
    """Programme founders can ask staff or their company; someone on the marketplace cannot."""
    if person is not None and person.company_id is None:
        return t("You can buy credits, or book a pro-bono expert (free 15-minute sessions).")
    return t("You can ask your programme staff for more, ask your company for a top-up, buy credits, "
             "or book a pro-bono expert (free 15-minute sessions).")
