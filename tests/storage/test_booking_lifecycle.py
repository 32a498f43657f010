"""The booking lifecycle end to end, through the real repositories, on SQLite and PostgreSQL.

Every test writes through committed units of work and reads back through a
fresh one, so what is asserted is what the database holds. Amounts are
millicredits. T0 is Monday 2030-03-04 06:00 UTC; Europe/London is on GMT
until 31 March 2030, so the experts' 09:00-17:00 windows are 09:00-17:00 UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.booking_service import DEFAULT_POLICY
from core import booking_service as svc
from core.availability import free_slots
from core.credit_service import balance, revoke
from core.credits import Movement, Portion, Source
from core.errors import (
    InsufficientCredits,
    InvalidSession,
    InvalidTransition,
    NotAllowed,
    PolicyViolation,
    SlotUnavailable,
)
from core.experts import Expert, Rating
from core.lifecycle import BookingStatus as BS
from core.lifecycle import MeetingStatus as MS
from core.lifecycle import PairingMode
from core.policy import CancelReason, Consequence, Policy, expiry_deadline
from core.recurrence import Frequency
from core.schedule import BookingRules, DateException, ExceptionKind, Schedule, SlotProblem, WeeklyWindow
from core.sessions import MeetingRequest, SessionDetails
from storage.models import BookingRow, CreditMovementRow, LedgerEntryRow, MeetingRow, ReviewRow, SeriesRow
from tests import factories as f
from tests.factories import T0, WEEKDAYS_9_TO_17

DETAILS = SessionDetails("Seed round", "A shortlist of investors to call")
H = timedelta(hours=1)
MIN = timedelta(minutes=1)
MON = T0.replace(hour=0)  # Monday 2030-03-04 00:00 UTC


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """Day 0 is Monday 4 March 2030; times are UTC (= London wall time in March)."""
    return MON + timedelta(days=day, hours=hour, minutes=minute)


TUE_10 = at(1, 10)
WED_10 = at(2, 10)
THU_10 = at(3, 10)
FRI_10 = at(4, 10)
NEXT_MON_10 = at(7, 10)


# ---------------------------------------------------------------- helpers


@dataclass
class World:
    client: int
    expert: Expert
    other: int  # a second client with credits of their own
    staff: int
    stranger: int  # neither party nor staff


def world(uow, *, credits: str | None = "2", paid: bool = True, multiplier: str = "1",
          rules: BookingRules | None = None, other_credits: str = "2") -> World:
    with uow() as u:
        prog = f.programme(u, "Cohort")  # staff reach only their programme's bookings: ana is a founder here
        client = f.person(u, "ana", company_id=u.people.add_company("Anaco", prog.id).id)
        ex = f.expert(u, "eve", paid=paid, multiplier=multiplier, rules=rules)
        other = f.person(u, "bo")
        staff = f.staff(u, "sam", prog.id)
        stranger = f.person(u, "zed")
        if credits is not None:
            f.credits(u, amount=credits, person_id=client.id)
        f.credits(u, amount=other_credits, person_id=other.id)
        u.commit()
    return World(client.id, ex, other.id, staff.id, stranger.id)


def request(uow, clock, client_id: int, expert_id: int, *meetings: tuple[datetime, int],
            details: SessionDetails = DETAILS):
    with uow() as u:
        booking = svc.request_booking(u, clock, client_id=client_id, expert_id=expert_id,
                                      meetings=[MeetingRequest(s, m) for s, m in meetings], details=details,
                                      policy=svc.DEFAULT_POLICY)
        u.commit()
    return booking


def act(uow, fn, *args, **kwargs):
    """Run one use case in its own unit of work and commit it."""
    with uow() as u:
        result = fn(u, *args, **kwargs)
        u.commit()
    return result


def fails(uow, exc: type[Exception], fn, *args, **kwargs):
    """The use case raises `exc`. The unit of work is then committed anyway, so a rule
    that wrote something before saying no would show in the assertions that follow."""
    with uow() as u:
        with pytest.raises(exc) as info:
            fn(u, *args, **kwargs)
        u.commit()
    return info.value


def money(uow, person_id: int) -> tuple[int, int]:
    with uow() as u:
        b = balance(u, person_id)
    return b.available, b.held


def load(uow, booking_id: int):
    with uow() as u:
        return u.bookings.get(booking_id)


def count(uow, row, *where) -> int:
    with uow() as u:
        return u.session.scalar(select(func.count()).select_from(row).where(*where))


def movements(uow, booking_id: int) -> list[tuple[str, int]]:
    with uow() as u:
        rows = u.session.execute(
            select(CreditMovementRow.kind, CreditMovementRow.amount)
            .where(CreditMovementRow.booking_id == booking_id).order_by(CreditMovementRow.id)
        ).all()
    return [(k, a) for k, a in rows]


def wallets(uow, person_id: int) -> dict[Source, tuple[int, int]]:
    with uow() as u:
        return {w.source: (w.available, w.held) for w in u.credits.wallets_for(person_id)}


def busy(uow, expert_id: int, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    with uow() as u:
        return [(b.start, b.end) for b in u.experts.busy(expert_id, start, end)]


def accepted(uow, clock, w: World, *meetings: tuple[datetime, int]):
    b = request(uow, clock, w.client, w.expert.id, *(meetings or ((THU_10, 60),)))
    act(uow, svc.accept, clock, booking_id=b.id, actor_id=w.expert.person_id)
    return load(uow, b.id)


def programme_client(uow, *, mode: PairingMode = PairingMode.SELF_SELECT, lengths=(15, 30, 45, 60, 75, 90),
                     credits: str = "2"):
    with uow() as u:
        prog = f.programme(u, "Spring", mode=mode, lengths=lengths)
        company = u.people.add_company("Acme", prog.id)
        client = f.person(u, "ana", company_id=company.id)
        staff = f.staff(u, "sam", prog.id)
        first = f.expert(u, "eve")
        second = f.expert(u, "max")
        f.credits(u, amount=credits, person_id=client.id)
        u.commit()
    return client.id, company.id, staff.id, first, second


# ---------------------------------------------------------------- requesting


def test_request_holds_the_slot_and_the_credits(uow, clock):
    w = world(uow, credits="2")
    b = request(uow, clock, w.client, w.expert.id, (TUE_10, 60),
                details=SessionDetails("  Seed   round ", "  A shortlist  ", " ctx ", " hi "))

    assert money(uow, w.client) == (1000, 1000)
    got = load(uow, b.id)
    assert got.status is BS.REQUESTED
    assert got.price_milli == 1000
    assert got.created_at == T0
    assert got.details == SessionDetails("Seed round", "A shortlist", "ctx", "hi")
    assert [(m.start, m.end, m.status, m.price_milli) for m in got.meetings] == [(TUE_10, TUE_10 + H, MS.HELD, 1000)]
    assert movements(uow, b.id) == [("hold", 1000)]
    assert busy(uow, w.expert.id, MON, at(2, 0)) == [(TUE_10, TUE_10 + H)]


def test_pro_bono_is_free_and_holds_nothing(uow, clock):
    w = world(uow, credits=None, paid=False)  # the client has no wallet at all
    with uow() as u:
        aff = svc.affordability(u, w.client, w.expert.id)
    assert (aff.cheapest_milli, aff.available_milli, aff.ok) == (0, 0, True)

    b = request(uow, clock, w.client, w.expert.id, (TUE_10, 15))
    got = load(uow, b.id)
    assert got.price_milli == 0
    assert [(m.end - m.start, m.price_milli, m.status) for m in got.meetings] == [(15 * MIN, 0, MS.HELD)]
    assert money(uow, w.client) == (0, 0)

    act(uow, svc.accept, clock, booking_id=b.id, actor_id=w.expert.person_id)
    assert load(uow, b.id).status is BS.ACCEPTED
    assert money(uow, w.client) == (0, 0)
    assert movements(uow, b.id) == []


@pytest.mark.parametrize(
    ("meetings", "reason"),
    [
        ([(TUE_10, 30)], "pro_bono_length"),
        ([(TUE_10, 60)], "pro_bono_length"),
        ([(TUE_10, 15), (WED_10, 15)], "pro_bono_one_meeting"),
        ([], "no_meetings"),
    ],
)
def test_pro_bono_is_one_meeting_of_15_minutes(uow, clock, meetings, reason):
    w = world(uow, paid=False)
    err = fails(uow, InvalidSession, svc.request_booking, clock, client_id=w.client, expert_id=w.expert.id,
                meetings=[MeetingRequest(s, m) for s, m in meetings], details=DETAILS, policy=svc.DEFAULT_POLICY)
    assert err.reason == reason
    assert count(uow, BookingRow) == 0
    assert count(uow, MeetingRow) == 0


@pytest.mark.parametrize(
    ("multiplier", "lengths", "prices"),
    [
        ("1.5", [45], [1125]),
        ("1", [30, 60, 90], [500, 1000, 1500]),
        ("1.5", [15, 30], [375, 750]),
        ("2", [15, 45], [500, 1500]),
        ("0.75", [15], [188]),  # 0.1875 credit, rounded half-up to the millicredit
    ],
)
def test_compensated_price_is_minutes_over_60_times_multiplier(uow, clock, multiplier, lengths, prices):
    w = world(uow, credits="5", multiplier=multiplier)
    starts = [TUE_10, WED_10, THU_10]
    b = request(uow, clock, w.client, w.expert.id, *zip(starts, lengths))
    got = load(uow, b.id)
    assert [m.price_milli for m in got.meetings] == prices
    assert [m.end - m.start for m in got.meetings] == [m * MIN for m in lengths]
    assert got.price_milli == sum(prices)
    assert money(uow, w.client) == (5000 - sum(prices), sum(prices))
    assert movements(uow, b.id) == [("hold", sum(prices))]


@pytest.mark.parametrize("minutes", [20, 105, 120, 0])
def test_compensated_lengths_are_15_to_90_in_15_minute_steps(uow, clock, minutes):
    w = world(uow)
    err = fails(uow, InvalidSession, svc.request_booking, clock, client_id=w.client, expert_id=w.expert.id,
                meetings=[MeetingRequest(TUE_10, minutes)], details=DETAILS, policy=svc.DEFAULT_POLICY)
    assert err.reason == "bad_length"
    assert count(uow, BookingRow) == 0
    assert money(uow, w.client) == (2000, 0)


def test_compensated_meetings_of_one_session_cannot_overlap(uow, clock):
    w = world(uow)
    err = fails(uow, InvalidSession, svc.request_booking, clock, client_id=w.client, expert_id=w.expert.id,
                meetings=[MeetingRequest(TUE_10, 60), MeetingRequest(TUE_10 + 30 * MIN, 30)], details=DETAILS,
                policy=svc.DEFAULT_POLICY)
    assert err.reason == "meetings_overlap"
    assert count(uow, BookingRow) == 0


def test_programme_narrowing_to_30_and_60_rejects_45(uow, clock):
    client, _company, _staff, ex, _ = programme_client(uow, lengths=(30, 60))
    for minutes in (45, 15, 90):
        err = fails(uow, InvalidSession, svc.request_booking, clock, client_id=client, expert_id=ex.id,
                    meetings=[MeetingRequest(TUE_10, minutes)], details=DETAILS, policy=svc.DEFAULT_POLICY)
        assert err.reason == "bad_length"
        assert tuple(err.context["allowed"]) == (30, 60)
    assert count(uow, BookingRow) == 0
    assert money(uow, client) == (2000, 0)
    with uow() as u:
        assert svc.affordability(u, client, ex.id).cheapest_milli == 500  # the shortest allowed is 30 min

    b = request(uow, clock, client, ex.id, (TUE_10, 30), (WED_10, 60))
    assert load(uow, b.id).price_milli == 1500
    assert money(uow, client) == (500, 1500)


@pytest.mark.parametrize(
    ("title", "outcome", "reason"),
    [
        ("Seed round", "", "outcome_required"),
        ("Seed round", "   \n\t ", "outcome_required"),
        ("", "A plan", "title_required"),
        ("   ", "A plan", "title_required"),
        ("x" * 81, "A plan", "title_too_long"),
        ("Seed round", "y" * 501, "outcome_too_long"),
    ],
)
def test_details_are_checked_before_anything_is_held(uow, clock, title, outcome, reason):
    w = world(uow)
    err = fails(uow, InvalidSession, svc.request_booking, clock, client_id=w.client, expert_id=w.expert.id,
                meetings=[MeetingRequest(TUE_10, 60)], details=SessionDetails(title, outcome),
                policy=svc.DEFAULT_POLICY)
    assert err.reason == reason
    assert money(uow, w.client) == (2000, 0)
    assert count(uow, BookingRow) == 0
    assert count(uow, MeetingRow) == 0
    assert count(uow, CreditMovementRow, CreditMovementRow.kind != "grant") == 0
    assert busy(uow, w.expert.id, MON, at(7, 0)) == []


def test_out_of_credits_writes_nothing(uow, clock):
    w = world(uow, credits="0.5")
    err = fails(uow, InsufficientCredits, svc.request_booking, clock, client_id=w.client, expert_id=w.expert.id,
                meetings=[MeetingRequest(TUE_10, 60)], details=DETAILS, policy=svc.DEFAULT_POLICY)
    assert (err.context["needed"], err.context["available"]) == (1000, 500)
    assert money(uow, w.client) == (500, 0)
    assert count(uow, BookingRow) == 0
    assert count(uow, MeetingRow) == 0
    assert count(uow, CreditMovementRow, CreditMovementRow.kind != "grant") == 0
    # the slot is still free for someone who can pay
    b = request(uow, clock, w.other, w.expert.id, (TUE_10, 60))
    assert load(uow, b.id).status is BS.REQUESTED


@pytest.mark.parametrize(
    ("credits", "multiplier", "cheapest", "ok"),
    [
        ("0.2", "1", 250, False),
        ("0.25", "1", 250, True),
        ("0.499", "2", 500, False),
        ("3", "2", 500, True),
    ],
)
def test_affordability_is_known_before_the_details(uow, clock, credits, multiplier, cheapest, ok):
    w = world(uow, credits=credits, multiplier=multiplier)
    with uow() as u:
        aff = svc.affordability(u, w.client, w.expert.id)
    have = int(round(float(credits) * 1000))
    assert (aff.cheapest_milli, aff.available_milli, aff.ok) == (cheapest, have, ok)


def test_affordability_counts_only_available_credits_not_held_ones(uow, clock):
    w = world(uow, credits="1")
    request(uow, clock, w.client, w.expert.id, (TUE_10, 45))
    with uow() as u:
        aff = svc.affordability(u, w.client, w.expert.id)
    assert (aff.cheapest_milli, aff.available_milli, aff.ok) == (250, 250, True)
    request(uow, clock, w.client, w.expert.id, (WED_10, 15))
    with uow() as u:
        assert not svc.affordability(u, w.client, w.expert.id).ok


def test_spending_order_is_programme_then_company_then_individual(uow, clock):
    with uow() as u:
        prog = f.programme(u, "Spring")
        company = u.people.add_company("Acme", prog.id)
        client = f.person(u, "ana", company_id=company.id)
        cofounder = f.person(u, "bo", company_id=company.id)
        ex = f.expert(u, "eve")
        f.credits(u, amount="0.5", source=Source.PROGRAMME, company_id=company.id)
        f.credits(u, amount="1", source=Source.COMPANY, company_id=company.id)
        f.credits(u, amount="1", person_id=client.id)
        u.commit()
    P, C, I = Source.PROGRAMME, Source.COMPANY, Source.INDIVIDUAL

    first = request(uow, clock, client.id, ex.id, (TUE_10, 60))
    assert wallets(uow, client.id) == {P: (0, 500), C: (500, 500), I: (1000, 0)}
    act(uow, svc.accept, clock, booking_id=first.id, actor_id=ex.person_id)
    assert wallets(uow, client.id) == {P: (0, 0), C: (500, 0), I: (1000, 0)}

    second = request(uow, clock, client.id, ex.id, (WED_10, 60))
    assert wallets(uow, client.id) == {P: (0, 0), C: (0, 500), I: (500, 500)}
    # the cofounder shares the company's wallets, not the founder's own
    assert wallets(uow, cofounder.id) == {P: (0, 0), C: (0, 500)}
    err = fails(uow, InsufficientCredits, svc.request_booking, clock, client_id=cofounder.id, expert_id=ex.id,
                meetings=[MeetingRequest(THU_10, 30)], details=DETAILS, policy=svc.DEFAULT_POLICY)
    assert err.context["available"] == 0

    act(uow, svc.decline, clock, booking_id=second.id, actor_id=ex.person_id)
    assert wallets(uow, client.id) == {P: (0, 0), C: (500, 0), I: (1000, 0)}  # back where each came from
    with uow() as u:
        assert balance(u, client.id).available == 1500


def test_experts_cannot_book_themselves(uow, clock):
    w = world(uow)
    with uow() as u:
        f.credits(u, amount="5", person_id=w.expert.person_id)
        u.commit()
    err = fails(uow, NotAllowed, svc.request_booking, clock, client_id=w.expert.person_id, expert_id=w.expert.id,
                meetings=[MeetingRequest(TUE_10, 60)], details=DETAILS, policy=svc.DEFAULT_POLICY)
    assert err.reason == "self_booking"
    assert count(uow, BookingRow) == 0
    assert money(uow, w.expert.person_id) == (5000, 0)


# ---------------------------------------------------------------- the expert's answer


def test_accept_by_the_expert_spends_the_hold(uow, clock):
    w = world(uow)
    b = request(uow, clock, w.client, w.expert.id, (TUE_10, 60), (WED_10, 30))
    clock.advance(2 * H)
    got = act(uow, svc.accept, clock, booking_id=b.id, actor_id=w.expert.person_id)
    assert got.status is BS.ACCEPTED

    stored = load(uow, b.id)
    assert stored.status is BS.ACCEPTED
    assert stored.decided_at == T0 + 2 * H
    assert [m.status for m in stored.meetings] == [MS.CONFIRMED, MS.CONFIRMED]
    assert money(uow, w.client) == (500, 0)
    assert movements(uow, b.id) == [("hold", 1500), ("spend", 1500)]
    assert busy(uow, w.expert.id, MON, at(7, 0)) == [(TUE_10, TUE_10 + H), (WED_10, WED_10 + 30 * MIN)]


@pytest.mark.parametrize("who", ["client", "other", "staff", "stranger"])
def test_only_the_expert_can_accept(uow, clock, who):
    w = world(uow)
    b = request(uow, clock, w.client, w.expert.id, (TUE_10, 60))
    err = fails(uow, NotAllowed, svc.accept, clock, booking_id=b.id, actor_id=getattr(w, who))
    assert err.reason == "not_the_expert"
    stored = load(uow, b.id)
    assert stored.status is BS.REQUESTED
    assert [m.status for m in stored.meetings] == [MS.HELD]
    assert money(uow, w.client) == (1000, 1000)
    assert movements(uow, b.id) == [("hold", 1000)]


def test_double_accept_is_an_invalid_transition_and_spends_once(uow, clock):
    w = world(uow)
    b = request(uow, clock, w.client, w.expert.id, (TUE_10, 60))
    act(uow, svc.accept, clock, booking_id=b.id, actor_id=w.expert.person_id)
    err = fails(uow, InvalidTransition, svc.accept, clock, booking_id=b.id, actor_id=w.expert.person_id)
    assert err.reason == "booking_accepted"
    assert money(uow, w.client) == (1000, 0)
    assert movements(uow, b.id) == [("hold", 1000), ("spend", 1000)]
    # an accepted booking can no longer be declined or withdrawn either
    fails(uow, InvalidTransition, svc.decline, clock, booking_id=b.id, actor_id=w.expert.person_id)
    fails(uow, InvalidTransition, svc.withdraw, clock, booking_id=b.id, actor_id=w.client)
    assert money(uow, w.client) == (1000, 0)


def test_decline_releases_the_credits_and_the_slot(uow, clock):
    w = world(uow)
    b = request(uow, clock, w.client, w.expert.id, (TUE_10, 60))
    act(uow, svc.decline, clock, booking_id=b.id, actor_id=w.expert.person_id, reason="  travelling  ")
    stored = load(uow, b.id)
    assert stored.status is BS.DECLINED
    assert stored.decline_reason == "travelling"
    assert [m.status for m in stored.meetings] == [MS.RELEASED]
    assert money(uow, w.client) == (2000, 0)
    assert movements(uow, b.id) == [("hold", 1000), ("release", 1000)]
    assert busy(uow, w.expert.id, MON, at(7, 0)) == []

    again = request(uow, clock, w.other, w.expert.id, (TUE_10, 60))
    assert load(uow, again.id).status is BS.REQUESTED
    assert money(uow, w.other) == (1000, 1000)
    # declined is final
    fails(uow, InvalidTransition, svc.accept, clock, booking_id=b.id, actor_id=w.expert.person_id)
    fails(uow, InvalidTransition, svc.decline, clock, booking_id=b.id, actor_id=w.expert.person_id)
    assert movements(uow, b.id) == [("hold", 1000), ("release", 1000)]


@pytest.mark.parametrize("who", ["client", "staff", "stranger"])
def test_only_the_expert_declines_a_request_outside_triage(uow, clock, who):
    w = world(uow)
    b = request(uow, clock, w.client, w.expert.id, (TUE_10, 60))
    err = fails(uow, NotAllowed, svc.decline, clock, booking_id=b.id, actor_id=getattr(w, who))
    assert err.reason == "not_the_expert"
    assert load(uow, b.id).status is BS.REQUESTED
    assert money(uow, w.client) == (1000, 1000)


def test_withdraw_by_the_client_releases(uow, clock):
    w = world(uow)
    b = request(uow, clock, w.client, w.expert.id, (TUE_10, 60))
    act(uow, svc.withdraw, clock, booking_id=b.id, actor_id=w.client)
    stored = load(uow, b.id)
    assert stored.status is BS.WITHDRAWN
    assert [m.status for m in stored.meetings] == [MS.RELEASED]
    assert money(uow, w.client) == (2000, 0)
    assert movements(uow, b.id) == [("hold", 1000), ("release", 1000)]
    assert busy(uow, w.expert.id, MON, at(7, 0)) == []
    err = fails(uow, InvalidTransition, svc.withdraw, clock, booking_id=b.id, actor_id=w.client)
    assert err.reason == "booking_withdrawn"
    assert money(uow, w.client) == (2000, 0)


@pytest.mark.parametrize("who", ["expert", "staff", "other"])
def test_only_the_client_can_withdraw(uow, clock, who):
    w = world(uow)
    b = request(uow, clock, w.client, w.expert.id, (TUE_10, 60))
    actor = w.expert.person_id if who == "expert" else getattr(w, who)
    err = fails(uow, NotAllowed, svc.withdraw, clock, booking_id=b.id, actor_id=actor)
    assert err.reason == "not_the_client"
    assert load(uow, b.id).status is BS.REQUESTED
    assert money(uow, w.client) == (1000, 1000)


# ---------------------------------------------------------------- expiry


@pytest.mark.parametrize(
    ("start", "deadline"),
    [
        (FRI_10, T0 + 48 * H),  # far away: 48 h after the request
        (THU_10, T0 + 48 * H),  # Thu 10:00 - 12 h = Wed 22:00, later than 48 h
        (TUE_10, TUE_10 - 12 * H),  # close: the minimum notice before the meeting comes first
        (at(2, 16), T0 + 48 * H - 2 * H),  # Wed 16:00 - 12 h = Wed 04:00, before Wed 06:00
    ],
)
def test_expiry_deadline_is_48h_or_the_notice_before_the_first_meeting(uow, clock, start, deadline):
    w = world(uow, credits="3")
    b = request(uow, clock, w.client, w.expert.id, (start + timedelta(days=7), 30), (start, 60))  # listed out of order
    assert load(uow, b.id).expires_at == deadline
    assert deadline == expiry_deadline(Policy(), requested_at=T0, first_meeting_start=start, min_notice=12 * H)


@pytest.mark.parametrize(
    ("notice", "start", "deadline"),
    [
        (4 * H, at(0, 10), T0 + H),  # asked right at the notice boundary: the expert still gets an hour
        (4 * H, at(0, 10, 30), T0 + H),  # notice point 06:30 is inside the hour of grace
        (4 * H, at(0, 12), T0 + 2 * H),  # notice point 08:00 is past the grace hour
        (30 * MIN, at(0, 6, 30), at(0, 6, 30)),  # the grace never runs past the meeting's start
    ],
)
def test_expiry_deadline_has_an_hour_of_grace_floor(uow, clock, notice, start, deadline):
    all_day = tuple(WeeklyWindow(d, 0, 24 * 60) for d in range(7))
    with uow() as u:
        client = f.person(u, "ana")
        ex = f.expert(u, "eve", weekly=all_day, rules=BookingRules(min_notice=notice))
        f.credits(u, amount="1", person_id=client.id)
        u.commit()
    b = request(uow, clock, client.id, ex.id, (start, 30))
    assert load(uow, b.id).expires_at == deadline


def test_expire_before_the_deadline_does_nothing_and_after_it_releases_once(uow, clock):
    w = world(uow)
    b = request(uow, clock, w.client, w.expert.id, (TUE_10, 60))
    deadline = TUE_10 - 12 * H  # Monday 22:00

    clock.set(deadline - timedelta(seconds=1))
    with uow() as u:
        assert u.bookings.due_for_expiry(clock.now()) == []
    assert act(uow, svc.expire, clock, booking_id=b.id) is False
    assert load(uow, b.id).status is BS.REQUESTED
    assert money(uow, w.client) == (1000, 1000)

    clock.set(deadline)
    with uow() as u:
        assert u.bookings.due_for_expiry(clock.now()) == [b.id]
    assert act(uow, svc.expire, clock, booking_id=b.id) is True
    stored = load(uow, b.id)
    assert stored.status is BS.EXPIRED
    assert stored.decided_at == deadline
    assert [m.status for m in stored.meetings] == [MS.RELEASED]
    assert money(uow, w.client) == (2000, 0)
    assert busy(uow, w.expert.id, MON, at(7, 0)) == []

    clock.advance(H)
    assert act(uow, svc.expire, clock, booking_id=b.id) is False
    assert act(uow, svc.expire, clock, booking_id=b.id) is False
    assert money(uow, w.client) == (2000, 0)
    assert movements(uow, b.id) == [("hold", 1000), ("release", 1000)]
    assert count(uow, CreditMovementRow, CreditMovementRow.kind == "release") == 1
    with uow() as u:
        assert u.bookings.due_for_expiry(clock.now()) == []


def test_expire_does_not_touch_an_answered_request(uow, clock):
    w = world(uow)
    b = request(uow, clock, w.client, w.expert.id, (TUE_10, 60))
    act(uow, svc.accept, clock, booking_id=b.id, actor_id=w.expert.person_id)
    clock.set(TUE_10 - H)
    assert act(uow, svc.expire, clock, booking_id=b.id) is False
    assert load(uow, b.id).status is BS.ACCEPTED
    assert money(uow, w.client) == (1000, 0)


def test_accept_after_the_deadline_is_refused_as_expired(uow, clock):
    w = world(uow)
    b = request(uow, clock, w.client, w.expert.id, (TUE_10, 60))
    clock.set(TUE_10 - 12 * H)
    err = fails(uow, InvalidTransition, svc.accept, clock, booking_id=b.id, actor_id=w.expert.person_id)
    assert err.reason == "expired"
    assert load(uow, b.id).status is BS.REQUESTED
    assert money(uow, w.client) == (1000, 1000)
    err = fails(uow, InvalidTransition, svc.propose_times, clock, policy=Policy(), booking_id=b.id, actor_id=w.expert.person_id,
                starts=[WED_10])
    assert err.reason == "expired"
    assert act(uow, svc.expire, clock, booking_id=b.id) is True
    assert money(uow, w.client) == (2000, 0)
    # once expired, accepting is a plain invalid move
    err = fails(uow, InvalidTransition, svc.accept, clock, booking_id=b.id, actor_id=w.expert.person_id)
    assert err.reason == "booking_expired"
    assert money(uow, w.client) == (2000, 0)


# ---------------------------------------------------------------- slots


@pytest.mark.parametrize(
    ("start", "minutes", "reason"),
    [
        (at(-1, 10), 60, SlotProblem.PAST),
        (T0 - MIN, 15, SlotProblem.PAST),
        (at(0, 10), 60, SlotProblem.TOO_SOON),  # 4 h ahead, 12 h notice
        (at(0, 17, 59), 15, SlotProblem.TOO_SOON),
        (at(1, 8), 60, SlotProblem.OUTSIDE_AVAILABILITY),
        (at(1, 16, 30), 60, SlotProblem.OUTSIDE_AVAILABILITY),  # runs past 17:00
        (at(5, 10), 60, SlotProblem.OUTSIDE_AVAILABILITY),  # Saturday
        (at(61, 10), 60, SlotProblem.BEYOND_HORIZON),
        (T0 + timedelta(days=60, seconds=1), 15, SlotProblem.BEYOND_HORIZON),
    ],
)
def test_unbookable_times_are_refused_with_their_reason(uow, clock, start, minutes, reason):
    w = world(uow)
    err = fails(uow, SlotUnavailable, svc.request_booking, clock, client_id=w.client, expert_id=w.expert.id,
                meetings=[MeetingRequest(start, minutes)], details=DETAILS, policy=svc.DEFAULT_POLICY)
    assert err.reason == reason.value
    assert err.context["start"] == start
    assert count(uow, BookingRow) == 0
    assert money(uow, w.client) == (2000, 0)


def test_a_bad_second_meeting_refuses_the_whole_request(uow, clock):
    w = world(uow)
    err = fails(uow, SlotUnavailable, svc.request_booking, clock, client_id=w.client, expert_id=w.expert.id,
                meetings=[MeetingRequest(TUE_10, 30), MeetingRequest(at(5, 10), 30)], details=DETAILS,
                policy=svc.DEFAULT_POLICY)
    assert err.reason == "outside_availability"
    assert count(uow, MeetingRow) == 0
    assert money(uow, w.client) == (2000, 0)


def test_an_occupied_slot_is_taken_for_everyone_else(uow, clock):
    w = world(uow)
    request(uow, clock, w.client, w.expert.id, (TUE_10, 60))  # held, not yet accepted
    for start, minutes in [(TUE_10, 60), (TUE_10 + 30 * MIN, 30), (TUE_10 - 30 * MIN, 60), (TUE_10 - 15 * MIN, 90)]:
        err = fails(uow, SlotUnavailable, svc.request_booking, clock, client_id=w.other, expert_id=w.expert.id,
                    meetings=[MeetingRequest(start, minutes)], details=DETAILS, policy=svc.DEFAULT_POLICY)
        assert err.reason == "taken"
    assert money(uow, w.other) == (2000, 0)
    assert count(uow, BookingRow) == 1
    # touching is fine: 09:00-10:00 and 11:00-12:00
    request(uow, clock, w.other, w.expert.id, (TUE_10 - H, 60), (TUE_10 + H, 60))
    assert money(uow, w.other) == (0, 2000)


def test_a_held_slot_disappears_from_the_free_slots(uow, clock):
    w = world(uow)

    def tuesday_slots() -> list[datetime]:
        with uow() as u:
            schedule = u.experts.schedule(w.expert.id)
            taken = u.experts.busy(w.expert.id, at(1, 0), at(2, 0))
        return free_slots(schedule, taken, 60 * MIN, clock.now(), start=at(1, 0), end=at(1, 23, 59))

    every_quarter = [at(1, 9) + 15 * MIN * k for k in range(29)]  # 09:00 .. 16:00
    assert tuesday_slots() == every_quarter
    b = request(uow, clock, w.client, w.expert.id, (TUE_10, 60))
    assert tuesday_slots() == [at(1, 9)] + [at(1, 11) + 15 * MIN * k for k in range(21)]
    act(uow, svc.withdraw, clock, booking_id=b.id, actor_id=w.client)
    assert tuesday_slots() == every_quarter


# ---------------------------------------------------------------- suggesting other times


def test_propose_times_moves_the_hold_and_the_client_agrees(uow, clock):
    w = world(uow)
    b = request(uow, clock, w.client, w.expert.id, (TUE_10, 60))
    moved = act(uow, svc.propose_times, clock, policy=Policy(), booking_id=b.id, actor_id=w.expert.person_id, starts=[at(2, 14)])
    assert moved.proposed_by_expert

    stored = load(uow, b.id)
    assert stored.status is BS.REQUESTED
    assert stored.proposed_by_expert is True
    assert [(m.start, m.end, m.status) for m in stored.meetings] == [(at(2, 14), at(2, 15), MS.HELD)]
    assert stored.expires_at == at(2, 14) - 12 * H  # recomputed for the new time
    assert money(uow, w.client) == (1000, 1000)
    assert movements(uow, b.id) == [("hold", 1000)]
    assert busy(uow, w.expert.id, MON, at(7, 0)) == [(at(2, 14), at(2, 15))]

    # the old time is free for someone else, the new one is not
    request(uow, clock, w.other, w.expert.id, (TUE_10, 60))
    err = fails(uow, SlotUnavailable, svc.request_booking, clock, client_id=w.other, expert_id=w.expert.id,
                meetings=[MeetingRequest(at(2, 14), 30)], details=DETAILS, policy=svc.DEFAULT_POLICY)
    assert err.reason == "taken"

    # the expert cannot accept their own suggestion; the client answers
    err = fails(uow, InvalidTransition, svc.accept, clock, booking_id=b.id, actor_id=w.expert.person_id)
    assert err.reason == "awaiting_client"
    err = fails(uow, NotAllowed, svc.answer_proposal, clock, booking_id=b.id, actor_id=w.expert.person_id, agree=True)
    assert err.reason == "not_the_client"
    assert load(uow, b.id).status is BS.REQUESTED

    act(uow, svc.answer_proposal, clock, booking_id=b.id, actor_id=w.client, agree=True)
    stored = load(uow, b.id)
    assert stored.status is BS.ACCEPTED
    assert stored.proposed_by_expert is False
    assert [(m.start, m.status) for m in stored.meetings] == [(at(2, 14), MS.CONFIRMED)]
    assert money(uow, w.client) == (1000, 0)
    assert movements(uow, b.id) == [("hold", 1000), ("spend", 1000)]


def test_client_disagreeing_with_the_proposal_withdraws_and_releases(uow, clock):
    w = world(uow)
    b = request(uow, clock, w.client, w.expert.id, (TUE_10, 60))
    act(uow, svc.propose_times, clock, policy=Policy(), booking_id=b.id, actor_id=w.expert.person_id, starts=[at(2, 14)])
    act(uow, svc.answer_proposal, clock, booking_id=b.id, actor_id=w.client, agree=False)
    stored = load(uow, b.id)
    assert stored.status is BS.WITHDRAWN
    assert [m.status for m in stored.meetings] == [MS.RELEASED]
    assert money(uow, w.client) == (2000, 0)
    assert movements(uow, b.id) == [("hold", 1000), ("release", 1000)]
    assert busy(uow, w.expert.id, MON, at(7, 0)) == []
    err = fails(uow, InvalidTransition, svc.answer_proposal, clock, booking_id=b.id, actor_id=w.client, agree=True)
    assert money(uow, w.client) == (2000, 0)
    assert err.reason == "no_proposal"


def test_propose_times_checks_who_where_and_how_many(uow, clock):
    w = world(uow)
    b = request(uow, clock, w.client, w.expert.id, (TUE_10, 60))
    request(uow, clock, w.other, w.expert.id, (WED_10, 60))
    err = fails(uow, NotAllowed, svc.propose_times, clock, policy=Policy(), booking_id=b.id, actor_id=w.client, starts=[THU_10])
    assert err.reason == "not_the_expert"
    err = fails(uow, SlotUnavailable, svc.propose_times, clock, policy=Policy(), booking_id=b.id, actor_id=w.expert.person_id,
                starts=[WED_10 + 30 * MIN])
    assert err.reason == "taken"
    err = fails(uow, SlotUnavailable, svc.propose_times, clock, policy=Policy(), booking_id=b.id, actor_id=w.expert.person_id,
                starts=[at(5, 10)])
    assert err.reason == "outside_availability"
    err = fails(uow, PolicyViolation, svc.propose_times, clock, policy=Policy(), booking_id=b.id, actor_id=w.expert.person_id,
                starts=[THU_10, FRI_10])
    assert err.reason == "one_time_per_meeting"
    err = fails(uow, InvalidTransition, svc.answer_proposal, clock, booking_id=b.id, actor_id=w.client, agree=True)
    assert err.reason == "no_proposal"
    stored = load(uow, b.id)
    assert [(m.start, m.status) for m in stored.meetings] == [(TUE_10, MS.HELD)]
    assert stored.proposed_by_expert is False
    assert money(uow, w.client) == (1000, 1000)


def test_propose_times_can_shift_back_to_back_meetings_onto_each_other(uow, clock):
    """Meeting 1 moves into the time meeting 2 is leaving: the session never overlaps itself."""
    w = world(uow, credits="3")
    b = request(uow, clock, w.client, w.expert.id, (TUE_10, 60), (TUE_10 + H, 60))
    act(uow, svc.propose_times, clock, policy=Policy(), booking_id=b.id, actor_id=w.expert.person_id,
        starts=[TUE_10 + H, TUE_10 + 2 * H])
    stored = load(uow, b.id)
    assert [(m.start, m.end) for m in stored.meetings] == [(TUE_10 + H, TUE_10 + 2 * H), (TUE_10 + 2 * H, TUE_10 + 3 * H)]
    # and back again, the other way round
    act(uow, svc.answer_proposal, clock, booking_id=b.id, actor_id=w.client, agree=True)
    assert busy(uow, w.expert.id, MON, at(7, 0)) == [(TUE_10 + H, TUE_10 + 2 * H), (TUE_10 + 2 * H, TUE_10 + 3 * H)]
    assert money(uow, w.client) == (1000, 0)


def test_propose_times_can_shift_back_to_back_meetings_earlier(uow, clock):
    w = world(uow, credits="3")
    b = request(uow, clock, w.client, w.expert.id, (TUE_10, 60), (TUE_10 + H, 60))
    act(uow, svc.propose_times, clock, policy=Policy(), booking_id=b.id, actor_id=w.expert.person_id, starts=[TUE_10 - H, TUE_10])
    assert [(m.start, m.end) for m in load(uow, b.id).meetings] == [(TUE_10 - H, TUE_10), (TUE_10, TUE_10 + H)]


# ---------------------------------------------------------------- cancelling


@pytest.mark.parametrize(
    ("before", "who", "reason", "refund", "code"),
    [
        (76 * H, "client", CancelReason.PERSONAL, 1000, "free"),
        (24 * H, "client", CancelReason.PERSONAL, 1000, "free"),
        (24 * H - timedelta(seconds=1), "client", CancelReason.PERSONAL, 0, "late_no_refund"),
        (2 * H, "client", CancelReason.PERSONAL, 0, "late_no_refund"),
        (2 * H, "client", CancelReason.TECHNICAL, 0, "late_no_refund"),  # only staff refund technical problems
        (2 * H, "expert", CancelReason.PERSONAL, 1000, "expert_initiated"),
        (MIN, "expert", CancelReason.PERSONAL, 1000, "expert_initiated"),
        (2 * H, "staff", CancelReason.TECHNICAL, 1000, "technical"),
    ],
)
def test_cancel_refunds_by_policy(uow, clock, before, who, reason, refund, code):
    w = world(uow)
    b = accepted(uow, clock, w)
    mid = b.meetings[0].id
    assert money(uow, w.client) == (1000, 0)
    clock.set(THU_10 - before)
    actor = w.expert.person_id if who == "expert" else getattr(w, who)

    outcome = act(uow, svc.cancel_meeting, clock, booking_id=b.id, meeting_id=mid, actor_id=actor, reason=reason, policy=DEFAULT_POLICY)
    assert outcome == Consequence(True, refund, code)
    assert money(uow, w.client) == (1000 + refund, 0)
    stored = load(uow, b.id)
    assert stored.status is BS.CANCELLED
    assert [(m.status, m.ics_sequence) for m in stored.meetings] == [(MS.CANCELLED, 1)]
    assert busy(uow, w.expert.id, MON, at(7, 0)) == []
    expected = [("hold", 1000), ("spend", 1000)] + ([("refund", refund)] if refund else [])
    assert movements(uow, b.id) == expected

    # never twice, whoever asks the second time
    for again in (w.client, w.expert.person_id, w.staff):
        err = fails(uow, InvalidTransition, svc.cancel_meeting, clock, booking_id=b.id, meeting_id=mid,
                    actor_id=again, reason=CancelReason.TECHNICAL, policy=DEFAULT_POLICY)
        assert err.reason == "meeting_cancelled"
    assert money(uow, w.client) == (1000 + refund, 0)
    assert movements(uow, b.id) == expected


def test_cancel_needs_a_party_and_a_meeting_not_started(uow, clock):
    w = world(uow)
    b = accepted(uow, clock, w)
    mid = b.meetings[0].id
    err = fails(uow, NotAllowed, svc.cancel_meeting, clock, booking_id=b.id, meeting_id=mid, actor_id=w.stranger, policy=DEFAULT_POLICY)
    assert err.reason == "not_a_party"
    err = fails(uow, NotAllowed, svc.cancel_meeting, clock, booking_id=b.id, meeting_id=mid, actor_id=w.other, policy=DEFAULT_POLICY)
    assert err.reason == "not_a_party"
    clock.set(THU_10)
    err = fails(uow, PolicyViolation, svc.cancel_meeting, clock, booking_id=b.id, meeting_id=mid,
                actor_id=w.expert.person_id, policy=DEFAULT_POLICY)
    assert err.reason == "already_started"
    stored = load(uow, b.id)
    assert (stored.status, stored.meetings[0].status, stored.meetings[0].ics_sequence) == (BS.ACCEPTED, MS.CONFIRMED, 0)
    assert money(uow, w.client) == (1000, 0)


def test_a_request_not_yet_accepted_cannot_be_cancelled(uow, clock):
    w = world(uow)
    b = request(uow, clock, w.client, w.expert.id, (THU_10, 60))
    err = fails(uow, InvalidTransition, svc.cancel_meeting, clock, booking_id=b.id, meeting_id=b.meetings[0].id,
                actor_id=w.client, policy=DEFAULT_POLICY)
    assert err.reason == "meeting_held"
    assert money(uow, w.client) == (1000, 1000)


def test_cancelling_every_meeting_cancels_the_booking(uow, clock):
    w = world(uow, credits="3")
    b = accepted(uow, clock, w, (WED_10, 60), (THU_10, 30))
    first, second = (m.id for m in b.meetings)
    assert money(uow, w.client) == (1500, 0)

    assert act(uow, svc.cancel_meeting, clock, booking_id=b.id, meeting_id=first, actor_id=w.client, policy=DEFAULT_POLICY) == \
        Consequence(True, 1000, "free")
    stored = load(uow, b.id)
    assert stored.status is BS.ACCEPTED
    assert [m.status for m in stored.meetings] == [MS.CANCELLED, MS.CONFIRMED]
    assert money(uow, w.client) == (2500, 0)

    clock.set(THU_10 - H)  # late for the second one: no refund
    assert act(uow, svc.cancel_meeting, clock, booking_id=b.id, meeting_id=second, actor_id=w.client, policy=DEFAULT_POLICY) == \
        Consequence(True, 0, "late_no_refund")
    stored = load(uow, b.id)
    assert stored.status is BS.CANCELLED
    assert [m.status for m in stored.meetings] == [MS.CANCELLED, MS.CANCELLED]
    assert money(uow, w.client) == (2500, 0)
    assert movements(uow, b.id) == [("hold", 1500), ("spend", 1500), ("refund", 1000)]


def test_cancellation_preview_changes_nothing(uow, clock):
    w = world(uow)
    b = accepted(uow, clock, w)
    mid = b.meetings[0].id
    before = load(uow, b.id)
    clock.set(THU_10 - 3 * H)
    with uow() as u:
        assert svc.cancellation_preview(u, clock, policy=DEFAULT_POLICY, booking_id=b.id, meeting_id=mid, actor_id=w.client) == \
            Consequence(True, 0, "late_no_refund")
        assert svc.cancellation_preview(u, clock, policy=DEFAULT_POLICY, booking_id=b.id, meeting_id=mid, actor_id=w.expert.person_id) == \
            Consequence(True, 1000, "expert_initiated")
        assert svc.cancellation_preview(u, clock, policy=DEFAULT_POLICY, booking_id=b.id, meeting_id=mid, actor_id=w.staff,
                                        reason=CancelReason.TECHNICAL) == Consequence(True, 1000, "technical")
        u.commit()
    clock.set(T0)
    with uow() as u:
        assert svc.cancellation_preview(u, clock, policy=DEFAULT_POLICY, booking_id=b.id, meeting_id=mid, actor_id=w.client) == \
            Consequence(True, 1000, "free")
        u.commit()
    clock.set(THU_10 + MIN)
    with uow() as u:
        assert svc.cancellation_preview(u, clock, policy=DEFAULT_POLICY, booking_id=b.id, meeting_id=mid, actor_id=w.client) == \
            Consequence(False, 0, "already_started")
        u.commit()
    after = load(uow, b.id)
    assert after.status is BS.ACCEPTED
    assert [(m.status, m.ics_sequence) for m in after.meetings] == [(MS.CONFIRMED, 0)]
    assert after.version == before.version
    assert money(uow, w.client) == (1000, 0)
    assert movements(uow, b.id) == [("hold", 1000), ("spend", 1000)]


# ---------------------------------------------------------------- rescheduling


def test_early_client_reschedule_is_free_and_frees_the_old_slot(uow, clock):
    w = world(uow)
    b = accepted(uow, clock, w)
    mid = b.meetings[0].id
    outcome = act(uow, svc.reschedule_meeting, clock, booking_id=b.id, meeting_id=mid, actor_id=w.client,
                  new_start=FRI_10, policy=DEFAULT_POLICY)
    assert outcome == Consequence(True, 1000, "free")
    m = load(uow, b.id).meetings[0]
    assert (m.start, m.end, m.status, m.reschedule_count, m.ics_sequence) == (FRI_10, FRI_10 + H, MS.CONFIRMED, 1, 1)
    assert money(uow, w.client) == (1000, 0)
    assert movements(uow, b.id) == [("hold", 1000), ("spend", 1000)]
    assert busy(uow, w.expert.id, MON, at(7, 0)) == [(FRI_10, FRI_10 + H)]
    request(uow, clock, w.other, w.expert.id, (THU_10, 60))  # the old time is free again


def test_reschedule_exactly_24h_before_is_still_free(uow, clock):
    w = world(uow)
    b = accepted(uow, clock, w)
    clock.set(THU_10 - 24 * H)
    outcome = act(uow, svc.reschedule_meeting, clock, booking_id=b.id, meeting_id=b.meetings[0].id,
                  actor_id=w.client, new_start=FRI_10, policy=DEFAULT_POLICY)
    assert outcome == Consequence(True, 1000, "free")
    assert money(uow, w.client) == (1000, 0)


def test_late_client_reschedule_forfeits_the_first_price(uow, clock):
    w = world(uow, credits="3")
    b = accepted(uow, clock, w)
    mid = b.meetings[0].id
    assert money(uow, w.client) == (2000, 0)
    clock.set(THU_10 - 2 * H)
    with uow() as u:
        assert svc.reschedule_preview(u, clock, policy=DEFAULT_POLICY, booking_id=b.id, meeting_id=mid, actor_id=w.client) == \
            Consequence(True, 0, "late_forfeit")
    outcome = act(uow, svc.reschedule_meeting, clock, booking_id=b.id, meeting_id=mid, actor_id=w.client,
                  new_start=FRI_10, policy=DEFAULT_POLICY)
    assert outcome == Consequence(True, 0, "late_forfeit")
    assert money(uow, w.client) == (1000, 0)  # paid again
    assert movements(uow, b.id) == [("hold", 1000), ("spend", 1000), ("charge", 1000)]
    m = load(uow, b.id).meetings[0]
    assert (m.start, m.reschedule_count, m.ics_sequence) == (FRI_10, 1, 1)

    # a later full refund gives back one price, not both
    act(uow, svc.cancel_meeting, clock, booking_id=b.id, meeting_id=mid, actor_id=w.expert.person_id, policy=DEFAULT_POLICY)
    assert money(uow, w.client) == (2000, 0)


def test_every_late_client_reschedule_is_charged_again(uow, clock):
    w = world(uow, credits="4")
    b = accepted(uow, clock, w)
    mid = b.meetings[0].id
    clock.set(THU_10 - 2 * H)
    act(uow, svc.reschedule_meeting, clock, booking_id=b.id, meeting_id=mid, actor_id=w.client, new_start=FRI_10, policy=DEFAULT_POLICY)
    clock.set(FRI_10 - 2 * H)
    assert act(uow, svc.reschedule_meeting, clock, booking_id=b.id, meeting_id=mid, actor_id=w.client,
               new_start=NEXT_MON_10, policy=DEFAULT_POLICY) == Consequence(True, 0, "late_forfeit")
    assert money(uow, w.client) == (1000, 0)  # 4 - 1 (spent) - 1 - 1 (two forfeits)
    assert movements(uow, b.id) == [("hold", 1000), ("spend", 1000), ("charge", 1000), ("charge", 1000)]
    # a late cancel now refunds nothing, an expert cancel refunds one price
    act(uow, svc.cancel_meeting, clock, booking_id=b.id, meeting_id=mid, actor_id=w.expert.person_id, policy=DEFAULT_POLICY)
    assert money(uow, w.client) == (2000, 0)


def test_late_client_reschedule_without_credits_to_pay_again_is_refused(uow, clock):
    w = world(uow, credits="1")
    b = accepted(uow, clock, w)
    mid = b.meetings[0].id
    clock.set(THU_10 - 2 * H)
    fails(uow, InsufficientCredits, svc.reschedule_meeting, clock, booking_id=b.id, meeting_id=mid,
          actor_id=w.client, new_start=FRI_10, policy=DEFAULT_POLICY)
    m = load(uow, b.id).meetings[0]
    assert (m.start, m.reschedule_count, m.ics_sequence) == (THU_10, 0, 0)
    assert money(uow, w.client) == (0, 0)


def test_expert_reschedule_is_free_even_late(uow, clock):
    w = world(uow)
    b = accepted(uow, clock, w)
    mid = b.meetings[0].id
    clock.set(THU_10 - 30 * MIN)
    outcome = act(uow, svc.reschedule_meeting, clock, booking_id=b.id, meeting_id=mid,
                  actor_id=w.expert.person_id, new_start=FRI_10, policy=DEFAULT_POLICY)
    assert outcome == Consequence(True, 1000, "expert_initiated")
    assert money(uow, w.client) == (1000, 0)
    assert movements(uow, b.id) == [("hold", 1000), ("spend", 1000)]
    assert load(uow, b.id).meetings[0].start == FRI_10


def test_a_meeting_moves_at_most_twice(uow, clock):
    w = world(uow)
    b = accepted(uow, clock, w)
    mid = b.meetings[0].id
    act(uow, svc.reschedule_meeting, clock, booking_id=b.id, meeting_id=mid, actor_id=w.client, new_start=FRI_10, policy=DEFAULT_POLICY)
    act(uow, svc.reschedule_meeting, clock, booking_id=b.id, meeting_id=mid, actor_id=w.client,
        new_start=NEXT_MON_10, policy=DEFAULT_POLICY)
    with uow() as u:
        assert svc.reschedule_preview(u, clock, policy=DEFAULT_POLICY, booking_id=b.id, meeting_id=mid, actor_id=w.client) == \
            Consequence(False, 0, "limit_reached")
    err = fails(uow, PolicyViolation, svc.reschedule_meeting, clock, booking_id=b.id, meeting_id=mid,
                actor_id=w.client, new_start=at(8, 10), policy=DEFAULT_POLICY)
    assert err.reason == "limit_reached"
    m = load(uow, b.id).meetings[0]
    assert (m.start, m.reschedule_count, m.ics_sequence) == (NEXT_MON_10, 2, 2)
    assert money(uow, w.client) == (1000, 0)


def test_expert_moves_do_not_use_up_the_clients_two_reschedules(uow, clock):
    w = world(uow)
    b = accepted(uow, clock, w)
    mid = b.meetings[0].id
    for new_start in (FRI_10, NEXT_MON_10, at(8, 10)):  # the expert moves it three times
        assert act(uow, svc.reschedule_meeting, clock, booking_id=b.id, meeting_id=mid,
                   actor_id=w.expert.person_id, new_start=new_start, policy=DEFAULT_POLICY) == Consequence(True, 1000, "expert_initiated")
    m = load(uow, b.id).meetings[0]
    assert (m.start, m.reschedule_count, m.ics_sequence) == (at(8, 10), 0, 3)
    with uow() as u:
        assert svc.reschedule_preview(u, clock, policy=DEFAULT_POLICY, booking_id=b.id, meeting_id=mid, actor_id=w.client) == \
            Consequence(True, 1000, "free")

    for new_start in (at(9, 10), at(10, 10)):  # the client still has both of theirs
        assert act(uow, svc.reschedule_meeting, clock, booking_id=b.id, meeting_id=mid, actor_id=w.client,
                   new_start=new_start, policy=DEFAULT_POLICY) == Consequence(True, 1000, "free")
    err = fails(uow, PolicyViolation, svc.reschedule_meeting, clock, booking_id=b.id, meeting_id=mid,
                actor_id=w.client, new_start=at(11, 10), policy=DEFAULT_POLICY)
    assert err.reason == "limit_reached"
    m = load(uow, b.id).meetings[0]
    assert (m.start, m.reschedule_count, m.ics_sequence) == (at(10, 10), 2, 5)
    # the expert is never limited
    act(uow, svc.reschedule_meeting, clock, booking_id=b.id, meeting_id=mid, actor_id=w.expert.person_id,
        new_start=at(11, 10), policy=DEFAULT_POLICY)
    assert load(uow, b.id).meetings[0].start == at(11, 10)
    assert money(uow, w.client) == (1000, 0)
    assert movements(uow, b.id) == [("hold", 1000), ("spend", 1000)]


def test_rescheduling_into_a_taken_or_bad_slot_is_refused(uow, clock):
    w = world(uow)
    b = accepted(uow, clock, w)
    mid = b.meetings[0].id
    request(uow, clock, w.other, w.expert.id, (FRI_10, 60))
    for new_start, reason in [(FRI_10, "taken"), (FRI_10 + 30 * MIN, "taken"), (at(0, 10), "too_soon"),
                              (at(5, 10), "outside_availability"), (at(-1, 10), "past")]:
        err = fails(uow, SlotUnavailable, svc.reschedule_meeting, clock, booking_id=b.id, meeting_id=mid,
                    actor_id=w.client, new_start=new_start, policy=DEFAULT_POLICY)
        assert err.reason == reason
    m = load(uow, b.id).meetings[0]
    assert (m.start, m.reschedule_count, m.ics_sequence) == (THU_10, 0, 0)
    # moving within its own time is not a clash with itself
    act(uow, svc.reschedule_meeting, clock, booking_id=b.id, meeting_id=mid, actor_id=w.expert.person_id,
        new_start=THU_10 + 30 * MIN, policy=DEFAULT_POLICY)
    assert load(uow, b.id).meetings[0].start == THU_10 + 30 * MIN


def test_ics_sequence_rises_with_every_change(uow, clock):
    w = world(uow)
    b = accepted(uow, clock, w)
    mid = b.meetings[0].id
    assert load(uow, b.id).meetings[0].ics_sequence == 0
    act(uow, svc.reschedule_meeting, clock, booking_id=b.id, meeting_id=mid, actor_id=w.client, new_start=FRI_10, policy=DEFAULT_POLICY)
    assert load(uow, b.id).meetings[0].ics_sequence == 1
    act(uow, svc.reschedule_meeting, clock, booking_id=b.id, meeting_id=mid, actor_id=w.expert.person_id,
        new_start=NEXT_MON_10, policy=DEFAULT_POLICY)
    assert load(uow, b.id).meetings[0].ics_sequence == 2
    act(uow, svc.cancel_meeting, clock, booking_id=b.id, meeting_id=mid, actor_id=w.client, policy=DEFAULT_POLICY)
    assert load(uow, b.id).meetings[0].ics_sequence == 3


# ---------------------------------------------------------------- after the meeting


def test_complete_ended_marks_meetings_and_the_booking_completed(uow, clock):
    w = world(uow, credits="3")
    b = accepted(uow, clock, w, (WED_10, 60), (THU_10, 30))
    first, second = (m.id for m in b.meetings)

    clock.set(WED_10 + 59 * MIN)
    assert act(uow, svc.complete_ended, clock, booking_id=b.id) == []
    clock.set(WED_10 + H)
    with uow() as u:
        assert u.bookings.ended_unfinished(clock.now()) == [b.id]
    assert act(uow, svc.complete_ended, clock, booking_id=b.id) == [first]
    stored = load(uow, b.id)
    assert stored.status is BS.ACCEPTED
    assert [m.status for m in stored.meetings] == [MS.COMPLETED, MS.CONFIRMED]
    with uow() as u:
        assert u.experts.get(w.expert.id).session_count == 0
        assert u.bookings.ended_unfinished(clock.now()) == []

    clock.set(THU_10 + 30 * MIN)
    assert act(uow, svc.complete_ended, clock, booking_id=b.id) == [second]
    stored = load(uow, b.id)
    assert stored.status is BS.COMPLETED
    assert [m.status for m in stored.meetings] == [MS.COMPLETED, MS.COMPLETED]
    with uow() as u:
        assert u.experts.get(w.expert.id).session_count == 1
    assert act(uow, svc.complete_ended, clock, booking_id=b.id) == []
    with uow() as u:
        assert u.experts.get(w.expert.id).session_count == 1
    assert money(uow, w.client) == (1500, 0)  # completing moves no credits


@pytest.mark.parametrize(("ending", "refund"), [("cancelled", 500), ("no_show_expert", 500), ("no_show_client", 0)])
def test_a_session_counts_once_for_the_expert_however_its_last_meeting_ends(uow, clock, ending, refund):
    """Meeting 1 took place and meeting 2 was then cancelled (or missed): the session was held
    and counts once; a session whose every meeting was cancelled is cancelled and never counts."""
    w = world(uow, credits="4")
    held = accepted(uow, clock, w, (WED_10, 60), (FRI_10, 30))
    dropped = accepted(uow, clock, w, (THU_10, 60), (NEXT_MON_10, 30))
    for m in dropped.meetings:
        act(uow, svc.cancel_meeting, clock, booking_id=dropped.id, meeting_id=m.id, actor_id=w.expert.person_id, policy=DEFAULT_POLICY)
    assert load(uow, dropped.id).status is BS.CANCELLED
    first, second = (m.id for m in held.meetings)

    clock.set(WED_10 + H)
    assert act(uow, svc.complete_ended, clock, booking_id=held.id) == [first]
    assert load(uow, held.id).status is BS.ACCEPTED
    if ending == "cancelled":  # 47 h ahead: a free cancellation
        outcome = act(uow, svc.cancel_meeting, clock, booking_id=held.id, meeting_id=second, actor_id=w.client, policy=DEFAULT_POLICY)
        last = MS.CANCELLED
    else:
        clock.set(FRI_10 + 15 * MIN)
        reporter = w.client if ending == "no_show_expert" else w.expert.person_id
        outcome = act(uow, svc.report_no_show, clock, booking_id=held.id, meeting_id=second, reporter_id=reporter, policy=DEFAULT_POLICY)
        last = MS(ending)
    assert outcome.refund_milli == refund

    stored = load(uow, held.id)
    assert stored.status is BS.COMPLETED
    assert [m.status for m in stored.meetings] == [MS.COMPLETED, last]
    assert load(uow, dropped.id).status is BS.CANCELLED
    with uow() as u:
        assert u.experts.get(w.expert.id).session_count == 1
    clock.set(NEXT_MON_10 + H)
    for b in (held, dropped):
        assert act(uow, svc.complete_ended, clock, booking_id=b.id) == []
    with uow() as u:
        assert u.experts.get(w.expert.id).session_count == 1
    assert money(uow, w.client) == (4000 - 1500 - 1500 + 1500 + refund, 0)


def test_complete_ended_ignores_requests_that_were_never_accepted(uow, clock):
    w = world(uow)
    b = request(uow, clock, w.client, w.expert.id, (TUE_10, 60))
    clock.set(TUE_10 + 2 * H)
    assert act(uow, svc.complete_ended, clock, booking_id=b.id) == []
    assert load(uow, b.id).status is BS.REQUESTED


def test_no_show_cannot_be_reported_before_ten_minutes_past_the_start(uow, clock):
    w = world(uow)
    b = accepted(uow, clock, w)
    mid = b.meetings[0].id
    for now in (THU_10 - H, THU_10, THU_10 + 10 * MIN - timedelta(seconds=1)):
        clock.set(now)
        err = fails(uow, PolicyViolation, svc.report_no_show, clock, booking_id=b.id, meeting_id=mid,
                    reporter_id=w.client, policy=DEFAULT_POLICY)
        assert err.reason == "no_show_too_early"
        assert err.context["available_at"] == THU_10 + 10 * MIN
    assert load(uow, b.id).meetings[0].status is MS.CONFIRMED
    assert money(uow, w.client) == (1000, 0)


def test_client_reporting_the_expert_absent_gets_a_full_refund_once(uow, clock):
    w = world(uow)
    b = accepted(uow, clock, w)
    mid = b.meetings[0].id
    clock.set(THU_10 + 10 * MIN)
    outcome = act(uow, svc.report_no_show, clock, booking_id=b.id, meeting_id=mid, reporter_id=w.client, policy=DEFAULT_POLICY)
    assert outcome == Consequence(True, 1000, "expert_no_show")
    assert money(uow, w.client) == (2000, 0)
    stored = load(uow, b.id)
    assert stored.meetings[0].status is MS.NO_SHOW_EXPERT
    assert stored.status is BS.COMPLETED

    for reporter in (w.client, w.expert.person_id):
        fails(uow, InvalidTransition, svc.report_no_show, clock, booking_id=b.id, meeting_id=mid,
              reporter_id=reporter, policy=DEFAULT_POLICY)
    fails(uow, InvalidTransition, svc.cancel_meeting, clock, booking_id=b.id, meeting_id=mid, actor_id=w.client, policy=DEFAULT_POLICY)
    assert money(uow, w.client) == (2000, 0)
    assert movements(uow, b.id) == [("hold", 1000), ("spend", 1000), ("refund", 1000)]


def test_no_show_after_the_meeting_was_marked_completed_still_refunds(uow, clock):
    w = world(uow)
    b = accepted(uow, clock, w)
    clock.set(THU_10 + 2 * H)
    act(uow, svc.complete_ended, clock, booking_id=b.id)
    outcome = act(uow, svc.report_no_show, clock, booking_id=b.id, meeting_id=b.meetings[0].id,
                  reporter_id=w.client, policy=DEFAULT_POLICY)
    assert outcome.refund_milli == 1000
    assert money(uow, w.client) == (2000, 0)
    assert load(uow, b.id).meetings[0].status is MS.NO_SHOW_EXPERT


def test_expert_reporting_the_client_absent_refunds_nothing(uow, clock):
    w = world(uow)
    b = accepted(uow, clock, w)
    mid = b.meetings[0].id
    clock.set(THU_10 + 15 * MIN)
    outcome = act(uow, svc.report_no_show, clock, booking_id=b.id, meeting_id=mid, reporter_id=w.expert.person_id, policy=DEFAULT_POLICY)
    assert outcome == Consequence(True, 0, "client_no_show")
    assert money(uow, w.client) == (1000, 0)
    assert load(uow, b.id).meetings[0].status is MS.NO_SHOW_CLIENT
    # the client cannot turn it into a refund afterwards
    fails(uow, InvalidTransition, svc.report_no_show, clock, booking_id=b.id, meeting_id=mid, reporter_id=w.client, policy=DEFAULT_POLICY)
    assert money(uow, w.client) == (1000, 0)
    assert movements(uow, b.id) == [("hold", 1000), ("spend", 1000)]


def test_a_no_show_is_reported_within_7_days_of_the_meeting(uow, clock):
    w = world(uow)
    b = accepted(uow, clock, w)
    mid = b.meetings[0].id
    clock.set(THU_10 + 2 * H)
    act(uow, svc.complete_ended, clock, booking_id=b.id)
    clock.set(THU_10 + timedelta(days=7, seconds=1))
    for reporter in (w.client, w.expert.person_id):
        err = fails(uow, PolicyViolation, svc.report_no_show, clock, booking_id=b.id, meeting_id=mid,
                    reporter_id=reporter, policy=DEFAULT_POLICY)
        assert err.reason == "no_show_too_late"
    stored = load(uow, b.id)
    assert (stored.status, stored.meetings[0].status) == (BS.COMPLETED, MS.COMPLETED)
    assert money(uow, w.client) == (1000, 0)
    assert movements(uow, b.id) == [("hold", 1000), ("spend", 1000)]

    clock.set(THU_10 + timedelta(days=7))  # exactly seven days: still in time
    outcome = act(uow, svc.report_no_show, clock, booking_id=b.id, meeting_id=mid, reporter_id=w.client, policy=DEFAULT_POLICY)
    assert outcome == Consequence(True, 1000, "expert_no_show")
    assert money(uow, w.client) == (2000, 0)


@pytest.mark.parametrize("who", ["stranger", "staff", "other"])
def test_only_the_two_parties_report_a_no_show(uow, clock, who):
    w = world(uow)
    b = accepted(uow, clock, w)
    clock.set(THU_10 + H)
    err = fails(uow, NotAllowed, svc.report_no_show, clock, booking_id=b.id, meeting_id=b.meetings[0].id,
                reporter_id=getattr(w, who), policy=DEFAULT_POLICY)
    assert err.reason == "not_a_party"
    assert load(uow, b.id).meetings[0].status is MS.CONFIRMED
    assert money(uow, w.client) == (1000, 0)


# ---------------------------------------------------------------- reviews


def _held_session(uow, clock, w: World, start: datetime = THU_10):
    b = accepted(uow, clock, w, (start, 60))
    clock.set(start + 2 * H)
    act(uow, svc.complete_ended, clock, booking_id=b.id)
    return b


def test_a_review_needs_a_meeting_that_took_place(uow, clock):
    w = world(uow)
    b = accepted(uow, clock, w)
    err = fails(uow, InvalidTransition, svc.leave_review, booking_id=b.id, author_id=w.client, stars=5)
    assert err.reason == "not_yet_held"
    pending = request(uow, clock, w.client, w.expert.id, (FRI_10, 30))
    err = fails(uow, InvalidTransition, svc.leave_review, booking_id=pending.id, author_id=w.client, stars=5)
    assert err.reason == "not_yet_held"
    assert count(uow, ReviewRow) == 0
    with uow() as u:
        assert u.experts.get(w.expert.id).rating == Rating(0, 0)


@pytest.mark.parametrize("stars", [0, 6, -1])
def test_stars_are_1_to_5(uow, clock, stars):
    w = world(uow)
    b = _held_session(uow, clock, w)
    with uow() as u:
        with pytest.raises(InvalidSession) as e:
            svc.leave_review(u, booking_id=b.id, author_id=w.client, stars=stars)
        assert e.value.reason == "bad_stars"
        u.commit()
    assert count(uow, ReviewRow) == 0
    with uow() as u:
        assert u.experts.get(w.expert.id).rating == Rating(0, 0)


def test_reviews_once_per_author_and_the_client_rates_the_expert(uow, clock):
    w = world(uow, credits="3")
    b = _held_session(uow, clock, w)
    act(uow, svc.leave_review, booking_id=b.id, author_id=w.client, stars=4, text="  Sharp  ", private_note=" ok ")
    with uow() as u:
        assert u.experts.get(w.expert.id).rating == Rating(4, 1)
        row = u.session.scalar(select(ReviewRow).where(ReviewRow.author_id == w.client))
        assert (row.stars, row.text, row.private_note) == (4, "Sharp", "ok")

    err = fails(uow, InvalidTransition, svc.leave_review, booking_id=b.id, author_id=w.client, stars=1)
    assert err.reason == "already_reviewed"
    act(uow, svc.leave_review, booking_id=b.id, author_id=w.expert.person_id, stars=2)  # about the client
    err = fails(uow, InvalidTransition, svc.leave_review, booking_id=b.id, author_id=w.expert.person_id, stars=5)
    assert err.reason == "already_reviewed"
    err = fails(uow, NotAllowed, svc.leave_review, booking_id=b.id, author_id=w.stranger, stars=5)
    assert err.reason == "not_a_party"
    with uow() as u:
        assert u.experts.get(w.expert.id).rating == Rating(4, 1)  # the expert's review does not rate themselves
    assert count(uow, ReviewRow) == 2

    clock.set(T0)
    second = _held_session(uow, clock, w, start=FRI_10)
    act(uow, svc.leave_review, booking_id=second.id, author_id=w.client, stars=5)
    with uow() as u:
        rating = u.experts.get(w.expert.id).rating
    assert rating == Rating(9, 2)
    assert str(rating.average) == "4.5"


def test_a_no_show_session_can_be_reviewed(uow, clock):
    w = world(uow)
    b = accepted(uow, clock, w)
    clock.set(THU_10 + 20 * MIN)
    act(uow, svc.report_no_show, clock, booking_id=b.id, meeting_id=b.meetings[0].id, reporter_id=w.client, policy=DEFAULT_POLICY)
    act(uow, svc.leave_review, booking_id=b.id, author_id=w.client, stars=1)
    with uow() as u:
        assert u.experts.get(w.expert.id).rating == Rating(1, 1)


# ---------------------------------------------------------------- pairing modes


def test_admin_assigned_programme_books_only_assigned_experts(uow, clock):
    client, company, _staff, assigned, other = programme_client(uow, mode=PairingMode.ADMIN_ASSIGNED)
    with uow() as u:
        assert u.people.assign_expert(company, assigned.id) is True
        assert u.people.assign_expert(company, assigned.id) is False
        u.commit()
    with uow() as u:
        client_person = u.people.get(client)
        assert svc.visible_expert_ids(u, client_person) == frozenset({assigned.id})

    err = fails(uow, NotAllowed, svc.request_booking, clock, client_id=client, expert_id=other.id,
                meetings=[MeetingRequest(TUE_10, 60)], details=DETAILS, policy=svc.DEFAULT_POLICY)
    assert err.reason == "not_assigned"
    assert count(uow, BookingRow) == 0
    assert money(uow, client) == (2000, 0)

    b = request(uow, clock, client, assigned.id, (TUE_10, 60))
    stored = load(uow, b.id)
    assert stored.status is BS.REQUESTED
    assert stored.programme_id is not None
    assert money(uow, client) == (1000, 1000)


def test_triage_first_waits_for_staff_before_the_expert(uow, clock):
    client, _company, staff, ex, _ = programme_client(uow, mode=PairingMode.TRIAGE_FIRST)
    b = request(uow, clock, client, ex.id, (TUE_10, 60))
    assert load(uow, b.id).status is BS.AWAITING_TRIAGE
    assert money(uow, client) == (1000, 1000)  # held while staff look

    err = fails(uow, InvalidTransition, svc.accept, clock, booking_id=b.id, actor_id=ex.person_id)
    assert err.reason == "booking_awaiting_triage"
    for not_staff in (client, ex.person_id):
        err = fails(uow, NotAllowed, svc.triage_approve, clock, booking_id=b.id, staff_id=not_staff)
        assert err.reason == "not_staff"
    assert load(uow, b.id).status is BS.AWAITING_TRIAGE

    act(uow, svc.triage_approve, clock, booking_id=b.id, staff_id=staff)
    assert load(uow, b.id).status is BS.REQUESTED
    fails(uow, InvalidTransition, svc.triage_approve, clock, booking_id=b.id, staff_id=staff)
    act(uow, svc.accept, clock, booking_id=b.id, actor_id=ex.person_id)
    assert load(uow, b.id).status is BS.ACCEPTED
    assert money(uow, client) == (1000, 0)


def test_triage_first_the_expert_cannot_decline_before_staff_have_looked(uow, clock):
    client, _company, staff, ex, _ = programme_client(uow, mode=PairingMode.TRIAGE_FIRST)
    b = request(uow, clock, client, ex.id, (TUE_10, 60))
    for not_staff in (ex.person_id, client):
        err = fails(uow, NotAllowed, svc.decline, clock, booking_id=b.id, actor_id=not_staff, reason="busy")
        assert err.reason == "not_staff"
    stored = load(uow, b.id)
    assert (stored.status, stored.decline_reason) == (BS.AWAITING_TRIAGE, "")
    assert [m.status for m in stored.meetings] == [MS.HELD]
    assert money(uow, client) == (1000, 1000)
    assert movements(uow, b.id) == [("hold", 1000)]

    act(uow, svc.decline, clock, booking_id=b.id, actor_id=staff, reason="not a fit")
    stored = load(uow, b.id)
    assert (stored.status, stored.decline_reason) == (BS.DECLINED, "not a fit")
    assert money(uow, client) == (2000, 0)
    assert movements(uow, b.id) == [("hold", 1000), ("release", 1000)]


def test_staff_decline_a_request_in_triage(uow, clock):
    client, _company, staff, ex, _ = programme_client(uow, mode=PairingMode.TRIAGE_FIRST)
    b = request(uow, clock, client, ex.id, (TUE_10, 60))
    act(uow, svc.decline, clock, booking_id=b.id, actor_id=staff, reason="not a fit")
    assert load(uow, b.id).status is BS.DECLINED
    assert money(uow, client) == (2000, 0)


def test_triage_reassign_moves_the_request_to_another_expert_holding_once(uow, clock):
    client, _company, staff, first, second = programme_client(uow, mode=PairingMode.TRIAGE_FIRST)
    old = request(uow, clock, client, first.id, (TUE_10, 60))

    err = fails(uow, NotAllowed, svc.triage_reassign, clock, policy=Policy(), booking_id=old.id, staff_id=client, expert_id=second.id)
    assert err.reason == "not_staff"
    assert load(uow, old.id).status is BS.AWAITING_TRIAGE

    new = act(uow, svc.triage_reassign, clock, policy=Policy(), booking_id=old.id, staff_id=staff, expert_id=second.id)
    old_stored, new_stored = load(uow, old.id), load(uow, new.id)
    assert old_stored.status is BS.DECLINED
    assert old_stored.decline_reason == "reassigned by staff"
    assert [m.status for m in old_stored.meetings] == [MS.RELEASED]
    assert new_stored.status is BS.REQUESTED
    assert new_stored.expert_id == second.id
    assert [(m.start, m.end, m.status) for m in new_stored.meetings] == [(TUE_10, TUE_10 + H, MS.HELD)]
    assert new_stored.details == old_stored.details
    assert money(uow, client) == (1000, 1000)  # held once in total
    assert movements(uow, old.id) == [("hold", 1000), ("release", 1000)]
    assert movements(uow, new.id) == [("hold", 1000)]
    assert busy(uow, first.id, MON, at(7, 0)) == []
    assert busy(uow, second.id, MON, at(7, 0)) == [(TUE_10, TUE_10 + H)]

    fails(uow, InvalidTransition, svc.triage_reassign, clock, policy=Policy(), booking_id=old.id, staff_id=staff, expert_id=first.id)
    fails(uow, NotAllowed, svc.accept, clock, booking_id=new.id, actor_id=first.person_id)
    act(uow, svc.accept, clock, booking_id=new.id, actor_id=second.person_id)
    assert money(uow, client) == (1000, 0)


# ---------------------------------------------------------------- recurring


def test_weekly_series_books_each_occurrence_with_its_own_credits(uow, clock):
    w = world(uow, credits="5")
    result = act(uow, svc.request_series, clock, policy=Policy(), client_id=w.client, expert_id=w.expert.id, first_start=TUE_10,
                 minutes=60, frequency=Frequency.WEEKLY, details=DETAILS, count=4)
    assert result.conflicts == ()
    assert len(result.bookings) == 4
    stored = [load(uow, b.id) for b in result.bookings]
    assert [b.meetings[0].start for b in stored] == [TUE_10 + timedelta(days=7 * k) for k in range(4)]
    assert {b.series_id for b in stored} == {result.series_id}
    assert {b.status for b in stored} == {BS.REQUESTED}
    for b in stored:
        assert movements(uow, b.id) == [("hold", 1000)]
    assert money(uow, w.client) == (1000, 4000)
    assert count(uow, SeriesRow) == 1


def test_series_reports_a_day_off_and_books_the_rest(uow, clock):
    w = world(uow, credits="5")
    day_off = date(2030, 3, 12)
    with uow() as u:
        u.experts.put(w.expert, Schedule("Europe/London", WEEKDAYS_9_TO_17,
                                         (DateException(day_off, ExceptionKind.OFF),), BookingRules()))
        u.commit()
    result = act(uow, svc.request_series, clock, policy=Policy(), client_id=w.client, expert_id=w.expert.id, first_start=TUE_10,
                 minutes=60, frequency=Frequency.WEEKLY, details=DETAILS, count=4)
    assert result.conflicts == ((at(8, 10), SlotProblem.OUTSIDE_AVAILABILITY),)
    assert [b.meetings[0].start for b in result.bookings] == [TUE_10, at(15, 10), at(22, 10)]
    assert money(uow, w.client) == (2000, 3000)
    assert count(uow, BookingRow) == 3


def test_series_without_credits_for_every_occurrence_books_nothing(uow, clock):
    w = world(uow, credits="3.999")
    err = fails(uow, InsufficientCredits, svc.request_series, clock, policy=Policy(), client_id=w.client, expert_id=w.expert.id,
                first_start=TUE_10, minutes=60, frequency=Frequency.WEEKLY, details=DETAILS, count=4)
    assert (err.context["needed"], err.context["available"]) == (4000, 3999)
    assert count(uow, BookingRow) == 0
    assert count(uow, MeetingRow) == 0
    assert count(uow, SeriesRow) == 0
    assert money(uow, w.client) == (3999, 0)


def test_cancel_series_withdraws_the_open_ones_and_releases_every_hold(uow, clock):
    w = world(uow, credits="5")
    result = act(uow, svc.request_series, clock, policy=Policy(), client_id=w.client, expert_id=w.expert.id, first_start=TUE_10,
                 minutes=60, frequency=Frequency.WEEKLY, details=DETAILS, count=4)
    first = result.bookings[0]
    act(uow, svc.accept, clock, booking_id=first.id, actor_id=w.expert.person_id)
    assert money(uow, w.client) == (1000, 3000)

    outcomes = act(uow, svc.cancel_series, clock, series_id=result.series_id, actor_id=w.client, policy=DEFAULT_POLICY)
    assert outcomes == [Consequence(True, 1000, "free")]  # the accepted one, cancelled early
    stored = [load(uow, b.id) for b in result.bookings]
    assert [b.status for b in stored] == [BS.CANCELLED, BS.WITHDRAWN, BS.WITHDRAWN, BS.WITHDRAWN]
    assert [b.meetings[0].status for b in stored] == [MS.CANCELLED, MS.RELEASED, MS.RELEASED, MS.RELEASED]
    assert money(uow, w.client) == (5000, 0)
    assert busy(uow, w.expert.id, MON, at(30, 0)) == []
    # cancelling it again changes nothing
    assert act(uow, svc.cancel_series, clock, series_id=result.series_id, actor_id=w.client, policy=DEFAULT_POLICY) == []
    assert money(uow, w.client) == (5000, 0)
    assert count(uow, CreditMovementRow, CreditMovementRow.kind == "release") == 3
    assert count(uow, CreditMovementRow, CreditMovementRow.kind == "refund") == 1
    assert count(uow, LedgerEntryRow) == 2 + 4 + 1 + 3 + 1  # two grants (ana, bo), holds, spend, releases, refund


def test_expert_cancelling_a_series_declines_the_open_requests_and_refunds_the_confirmed(uow, clock):
    w = world(uow, credits="5")
    result = act(uow, svc.request_series, clock, policy=Policy(), client_id=w.client, expert_id=w.expert.id, first_start=TUE_10,
                 minutes=60, frequency=Frequency.WEEKLY, details=DETAILS, count=4)
    first = result.bookings[0]
    act(uow, svc.accept, clock, booking_id=first.id, actor_id=w.expert.person_id)
    assert money(uow, w.client) == (1000, 3000)

    clock.set(TUE_10 - 2 * H)  # late, but an expert's cancellation is always refunded in full
    outcomes = act(uow, svc.cancel_series, clock, series_id=result.series_id, actor_id=w.expert.person_id, policy=DEFAULT_POLICY)
    assert outcomes == [Consequence(True, 1000, "expert_initiated")]
    stored = [load(uow, b.id) for b in result.bookings]
    assert [b.status for b in stored] == [BS.CANCELLED, BS.DECLINED, BS.DECLINED, BS.DECLINED]
    assert [b.meetings[0].status for b in stored] == [MS.CANCELLED, MS.RELEASED, MS.RELEASED, MS.RELEASED]
    assert [b.decline_reason for b in stored[1:]] == ["series cancelled"] * 3
    assert money(uow, w.client) == (5000, 0)
    assert busy(uow, w.expert.id, MON, at(30, 0)) == []
    assert act(uow, svc.cancel_series, clock, series_id=result.series_id, actor_id=w.expert.person_id, policy=DEFAULT_POLICY) == []
    assert money(uow, w.client) == (5000, 0)
    assert count(uow, CreditMovementRow, CreditMovementRow.kind == "release") == 3
    assert count(uow, CreditMovementRow, CreditMovementRow.kind == "refund") == 1


# ---------------------------------------------------------------- revoking and half-applied movements


def test_a_retried_revoke_after_the_credits_were_spent_is_a_no_op(uow, clock):
    w = world(uow, credits="2")
    with uow() as u:
        assert revoke(u, key="trim", amount_milli=1000, source=Source.INDIVIDUAL, person_id=w.client) is True
        u.commit()
    assert money(uow, w.client) == (1000, 0)
    accepted(uow, clock, w, (THU_10, 45))  # spends 750 of what is left
    assert money(uow, w.client) == (250, 0)

    with uow() as u:  # the retry finds 250 where 1000 were: still just "already done"
        assert revoke(u, key="trim", amount_milli=1000, source=Source.INDIVIDUAL, person_id=w.client) is False
        u.commit()
    assert money(uow, w.client) == (250, 0)
    assert count(uow, CreditMovementRow, CreditMovementRow.kind == "revoke") == 1

    err = fails(uow, InsufficientCredits, revoke, key="more", amount_milli=300, source=Source.INDIVIDUAL,
                person_id=w.client)
    assert (err.context["needed"], err.context["available"]) == (300, 250)
    assert count(uow, CreditMovementRow, CreditMovementRow.key == "revoke:more") == 0
    assert money(uow, w.client) == (250, 0)
    # the refused key was not used up
    with uow() as u:
        assert revoke(u, key="more", amount_milli=250, source=Source.INDIVIDUAL, person_id=w.client) is True
        u.commit()
    assert money(uow, w.client) == (0, 0)
    # a revoke names exactly one owner; without one it must not pick some wallet of that source
    with uow() as u:
        f.credits(u, amount="1", person_id=w.client, key="refill")
        u.commit()
    for owner in ({}, {"person_id": w.client, "company_id": 1}):
        with uow() as u:
            with pytest.raises(ValueError):
                revoke(u, key="anyone", amount_milli=100, source=Source.INDIVIDUAL, **owner)
            u.commit()
    assert (money(uow, w.client), money(uow, w.other)) == ((1000, 0), (2000, 0))


def test_a_movement_that_fails_halfway_leaves_no_trace_even_if_the_caller_commits(uow, clock):
    with uow() as u:
        company = u.people.add_company("Acme", None)
        client = f.person(u, "ana", company_id=company.id)
        f.credits(u, amount="1", source=Source.COMPANY, company_id=company.id)
        f.credits(u, amount="0.5", person_id=client.id)
        u.commit()
    C, I = Source.COMPANY, Source.INDIVIDUAL
    with uow() as u:
        ids = {w.source: w.id for w in u.credits.wallets_for(client.id)}
    split = [Portion(ids[C], 800), Portion(ids[I], 700)]  # the company's part fits, the second does not

    with uow() as u:
        assert u.credits.apply("grant:before", Movement.GRANT, [Portion(ids[I], 100)]) is True
        with pytest.raises(InsufficientCredits) as info:
            u.credits.apply("hold:split", Movement.HOLD, split)
        assert (info.value.context["wallet_id"], info.value.context["needed"], info.value.context["available"]) == \
            (ids[I], 700, 600)
        u.commit()  # the caller carries on: its other work stays, the failed movement does not
    assert wallets(uow, client.id) == {C: (1000, 0), I: (600, 0)}
    assert count(uow, CreditMovementRow, CreditMovementRow.key == "hold:split") == 0
    assert count(uow, CreditMovementRow, CreditMovementRow.key == "grant:before") == 1
    assert count(uow, LedgerEntryRow, LedgerEntryRow.wallet_id == ids[C]) == 1  # its grant only

    with uow() as u:  # the key is still free: once the money is there, it applies, once
        f.credits(u, amount="0.1", person_id=client.id)
        assert u.credits.apply("hold:split", Movement.HOLD, split) is True
        assert u.credits.apply("hold:split", Movement.HOLD, split) is False
        u.commit()
    assert wallets(uow, client.id) == {C: (200, 800), I: (0, 700)}
    assert count(uow, LedgerEntryRow, LedgerEntryRow.wallet_id == ids[C]) == 2


def test_a_series_holds_its_dates_past_the_horizon_ahead_of_one_off_requests(uow, clock):
    """Priority scheduling: twelve weekly dates, the last ones past the expert's 60-day horizon, are all held
    from the request; when the horizon reaches them, a one-off request finds them taken."""
    w = world(uow, credits="13")
    result = act(uow, svc.request_series, clock, policy=Policy(), client_id=w.client, expert_id=w.expert.id, first_start=TUE_10,
                 minutes=60, frequency=Frequency.WEEKLY, details=DETAILS, count=12)
    assert result.conflicts == ()
    last = result.bookings[-1].meetings[0].start  # 10:00 London on 21 May, summer time
    assert len(result.bookings) == 12 and last == at(78, 9) and last - clock.now() > BookingRules().horizon
    with uow() as u:
        svc.accept_series(u, clock, series_id=result.series_id, actor_id=w.expert.person_id)
        u.commit()
    clock.advance(timedelta(days=30))  # the horizon now reaches the last date
    err = fails(uow, SlotUnavailable, svc.request_booking, clock, client_id=w.other, expert_id=w.expert.id,
                meetings=[MeetingRequest(last, 60)], details=DETAILS, policy=svc.DEFAULT_POLICY)
    assert err.reason == SlotProblem.TAKEN.value
    first_alone = fails(uow, SlotUnavailable, svc.request_series, clock, policy=Policy(), client_id=w.other, expert_id=w.expert.id,
                        first_start=last + timedelta(days=60), minutes=60, frequency=Frequency.WEEKLY,
                        details=DETAILS, count=2)
    assert first_alone.reason == "series_no_fit"  # a series still starts inside the horizon
