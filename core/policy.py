"""Reschedule, cancellation and no-show policy. Defaults from the programme guide; all settable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core.errors import PolicyViolation


class Initiator(StrEnum):
    CLIENT = "client"
    EXPERT = "expert"
    STAFF = "staff"


class CancelReason(StrEnum):
    PERSONAL = "personal"
    TECHNICAL = "technical"  # refunded by staff, whoever asks


@dataclass(frozen=True, slots=True)
class Policy:
    free_change_window: timedelta = timedelta(hours=24)
    max_reschedules: int = 2
    forfeit_on_late_reschedule: bool = True  # programme policy: late client reschedules forfeit
    no_show_report_after: timedelta = timedelta(minutes=10)
    no_show_report_within: timedelta = timedelta(days=7)
    request_expiry: timedelta = timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class Consequence:
    """What a change does to the credits, shown to the person before they confirm."""

    allowed: bool
    refund_milli: int
    code: str  # "free", "late_forfeit", "late_no_refund", "expert_initiated", "technical", "limit_reached"


def cancellation(
    policy: Policy, *, meeting_start: datetime, price_milli: int, now: datetime,
    by: Initiator, reason: CancelReason = CancelReason.PERSONAL,
) -> Consequence:
    if now >= meeting_start:
        return Consequence(False, 0, "already_started")
    if by is Initiator.EXPERT:
        return Consequence(True, price_milli, "expert_initiated")
    if reason is CancelReason.TECHNICAL and by is Initiator.STAFF:
        return Consequence(True, price_milli, "technical")
    if by is Initiator.STAFF:
        return Consequence(True, price_milli, "staff")
    if meeting_start - now >= policy.free_change_window:
        return Consequence(True, price_milli, "free")
    return Consequence(True, 0, "late_no_refund")


def reschedule(
    policy: Policy, *, meeting_start: datetime, price_milli: int, reschedules_so_far: int,
    now: datetime, by: Initiator,
) -> Consequence:
    """refund_milli here is what the client keeps; a late client move may forfeit it."""
    if now >= meeting_start:
        return Consequence(False, 0, "already_started")
    if by is Initiator.EXPERT or by is Initiator.STAFF:
        return Consequence(True, price_milli, "expert_initiated")
    if reschedules_so_far >= policy.max_reschedules:
        return Consequence(False, 0, "limit_reached")
    if meeting_start - now >= policy.free_change_window:
        return Consequence(True, price_milli, "free")
    if policy.forfeit_on_late_reschedule:
        return Consequence(True, 0, "late_forfeit")
    return Consequence(True, price_milli, "free")


class NoShowParty(StrEnum):
    EXPERT = "expert"
    CLIENT = "client"


def no_show(policy: Policy, *, meeting_start: datetime, price_milli: int, now: datetime, absent: NoShowParty) -> Consequence:
    """The expert missing refunds in full; the client missing spends the credits."""
    if now < meeting_start + policy.no_show_report_after:
        raise PolicyViolation(
            "a no-show can be reported 10 minutes after the start", reason="no_show_too_early",
            available_at=meeting_start + policy.no_show_report_after,
        )
    if now > meeting_start + policy.no_show_report_within:
        raise PolicyViolation("a no-show is reported within 7 days of the meeting", reason="no_show_too_late",
                              deadline=meeting_start + policy.no_show_report_within)
    if absent is NoShowParty.EXPERT:
        return Consequence(True, price_milli, "expert_no_show")
    return Consequence(True, 0, "client_no_show")


EXPIRY_GRACE = timedelta(hours=1)


def expiry_deadline(
    policy: Policy, *, requested_at: datetime, first_meeting_start: datetime, min_notice: timedelta
) -> datetime:
    """A request lapses after 48 h, or once the first meeting is inside the expert's notice.

    A request made right at the notice boundary still gets an hour for the
    expert to answer (never past the meeting's start), rather than lapsing at once.
    """
    by_notice = max(first_meeting_start - min_notice, min(requested_at + EXPIRY_GRACE, first_meeting_start))
    return min(requested_at + policy.request_expiry, by_notice)
