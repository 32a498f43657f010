"""The core's events are classes; each keeps the name the outbox keys were built with (a key that changed would
send a retried step's notices again), and notifications know what to do with every kind of booking event."""

from __future__ import annotations

from core import events as ev
from bot import notifications

# The names outbox keys carry ("{prefix}:e{n}:{name}:{person}"): fixed for good.
NAMES = {
    "booking_requested", "booking_triage", "booking_accepted", "booking_declined", "booking_withdrawn",
    "booking_expired", "times_proposed", "proposal_declined", "series_requested", "meeting_cancelled",
    "meeting_rescheduled", "meeting_completed", "no_show_reported", "staff_no_show", "staff_refund",
    "review_left", "review_answered", "time_freed", "waitlist_offer", "credit_request_created",
    "credit_request_granted", "credit_request_declined",
}
BASES = (ev.Event, ev.BookingEvent, ev.MeetingEvent)


def _kinds() -> list[type[ev.Event]]:
    return [k for k in vars(ev).values() if isinstance(k, type) and issubclass(k, ev.Event) and k not in BASES]


def test_every_kind_keeps_its_own_name() -> None:
    names = [k.name for k in _kinds()]
    assert sorted(names) == sorted(NAMES)  # one kind per name, none renamed, none new without a pin


def test_every_booking_event_has_a_renderer_or_is_known_to_tell_nobody_alone() -> None:
    silent = {ev.SeriesRequested, ev.StaffRefund}  # a series request speaks only for its group; a refund: the log
    booking_kinds = {k for k in _kinds() if issubclass(k, ev.BookingEvent)}
    assert booking_kinds - silent == set(notifications._RENDER)
    assert set(notifications._SERIES_RENDER) <= booking_kinds
