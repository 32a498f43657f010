"""Shared wording: statuses and booking summaries, translated in one place."""

from __future__ import annotations

from babel import Locale

from core.experts import Expert
from core.lifecycle import BookingStatus, MeetingStatus
from core.model import Booking, Person
from bot.i18n import Translator


def language_name(code: str, in_locale: str) -> str:
    """A language code as a word in the reader's language ("de" in English: "German")."""
    try:
        return Locale.parse(code).get_display_name(in_locale) or code
    except Exception:  # noqa: BLE001 - an odd code just shows as itself
        return code


def booking_status(t: Translator, status: BookingStatus | str) -> str:
    labels = {
        BookingStatus.AWAITING_TRIAGE: t("waiting for programme staff"),
        BookingStatus.REQUESTED: t("waiting for the expert"),
        BookingStatus.ACCEPTED: t("confirmed"),
        BookingStatus.DECLINED: t("declined"),
        BookingStatus.EXPIRED: t("expired"),
        BookingStatus.WITHDRAWN: t("withdrawn"),
        BookingStatus.COMPLETED: t("completed"),
        BookingStatus.CANCELLED: t("cancelled"),
    }
    return labels.get(BookingStatus(status), str(status))


def meeting_status(t: Translator, status: MeetingStatus | str) -> str:
    labels = {
        MeetingStatus.HELD: t("pending"),
        MeetingStatus.CONFIRMED: t("confirmed"),
        MeetingStatus.CANCELLED: t("cancelled"),
        MeetingStatus.RELEASED: t("not booked"),
        MeetingStatus.COMPLETED: t("held"),
        MeetingStatus.NO_SHOW_EXPERT: t("the expert did not show"),
        MeetingStatus.NO_SHOW_CLIENT: t("the client did not show"),
    }
    return labels.get(MeetingStatus(status), str(status))


def meetings_lines(t: Translator, booking: Booking, other_tz: str) -> list[str]:
    return [
        t("• {when}, {minutes} min", when=t.both(m.start, other_tz), minutes=m.minutes)
        + ("" if m.active else f" ({meeting_status(t, m.status)})")
        for m in booking.meetings
    ]


def price_line(t: Translator, booking: Booking) -> str:
    if booking.price_milli == 0 and booking.money_minor is None:
        return t("Price: free (pro-bono)")
    return t.plural("Price: {credits} credit",
                    "Price: {credits} credits",
                    t.credits_n(booking.price_milli), credits=t.credits(booking.price_milli))


def summary(t: Translator, booking: Booking, expert: Expert, client: Person, *, for_expert: bool) -> str:
    """The details of a session as either side sees them: their zone first, the other's for reference."""
    other_tz = client.timezone if for_expert else expert.timezone
    who = t("Client: {name}", name=client.name) if for_expert else t("Expert: {name}", name=expert.name)
    lines = [
        t("“{title}”", title=booking.details.title),
        who,
        t("Desired outcome: {outcome}", outcome=booking.details.outcome),
    ]
    if booking.details.intro_note:
        lines.append(t("Intro: {note}", note=booking.details.intro_note))
    if booking.details.context:
        lines.append(t("Context: {context}", context=booking.details.context))
    if booking.details.attachments:
        lines.append(t("Attachments: {count}", count=len(booking.details.attachments)))
    lines.append(t("Meetings:"))
    lines.extend(meetings_lines(t, booking, other_tz))
    lines.append(price_line(t, booking))
    return "\n".join(lines)
