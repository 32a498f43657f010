"""The slot grid is the engine's rule: every use case that accepts a start refuses one off the expert's grid,
says which free grid times are nearest, and changes nothing. On SQLite and PostgreSQL.

The experts work 09:00-17:00 in London (= UTC in March 2030): their grid is 09:00, 09:15, ..."""

from __future__ import annotations

from datetime import timedelta

from core.booking_service import DEFAULT_POLICY
from bot.flows.errors import explain
from bot.i18n import Translator
from core import booking_service as svc
from core.errors import OffGrid, SlotUnavailable
from core.lifecycle import BookingStatus as BS
from core.lifecycle import PairingMode
from core.recurrence import Frequency
from core.schedule import BookingRules, Schedule, WeeklyWindow
from storage.models import BookingRow
from tests import factories as f
from tests.storage.test_booking_lifecycle import (
    DETAILS,
    THU_10,
    TUE_10,
    accepted,
    at,
    count,
    fails,
    load,
    money,
    programme_client,
    request,
    world,
)

MIN = timedelta(minutes=1)


def test_a_request_off_the_grid_is_refused_with_the_nearest_grid_times(uow, clock):
    w = world(uow, credits="2")
    err = fails(uow, OffGrid, svc.request_booking, clock, client_id=w.client, expert_id=w.expert.id,
                meetings=[svc.MeetingRequest(TUE_10 + 7 * MIN, 30)], details=DETAILS, policy=svc.DEFAULT_POLICY)
    assert err.reason == "off_grid" and isinstance(err, SlotUnavailable)
    assert err.nearest == (TUE_10, TUE_10 + 15 * MIN)
    assert err.context["grid_minutes"] == 15 and err.context["start"] == TUE_10 + 7 * MIN
    assert count(uow, BookingRow) == 0 and money(uow, w.client) == (2000, 0)
    # a second or a microsecond off is off too; the grid itself is fine
    for off in (timedelta(seconds=1), timedelta(microseconds=1)):
        fails(uow, OffGrid, svc.request_booking, clock, client_id=w.client, expert_id=w.expert.id,
              meetings=[svc.MeetingRequest(TUE_10 + off, 30)], details=DETAILS, policy=svc.DEFAULT_POLICY)
    request(uow, clock, w.client, w.expert.id, (TUE_10 + 15 * MIN, 30))
    assert count(uow, BookingRow) == 1


def test_the_nearest_grid_times_are_free_ones(uow, clock):
    w = world(uow, credits="2")
    request(uow, clock, w.other, w.expert.id, (TUE_10, 60))  # 10:00-11:00 taken
    err = fails(uow, OffGrid, svc.request_booking, clock, client_id=w.client, expert_id=w.expert.id,
                meetings=[svc.MeetingRequest(TUE_10 + 7 * MIN, 30)], details=DETAILS, policy=svc.DEFAULT_POLICY)
    assert err.nearest == (TUE_10 - 30 * MIN, TUE_10 + 60 * MIN)


def test_one_meeting_off_the_grid_refuses_the_whole_request(uow, clock):
    w = world(uow, credits="2")
    fails(uow, OffGrid, svc.request_booking, clock, client_id=w.client, expert_id=w.expert.id,
          meetings=[svc.MeetingRequest(TUE_10, 30), svc.MeetingRequest(THU_10 + 20 * MIN, 30)], details=DETAILS,
          policy=svc.DEFAULT_POLICY)
    assert count(uow, BookingRow) == 0 and money(uow, w.client) == (2000, 0)


def test_the_grid_follows_the_experts_hours(uow, clock):
    """Hours from 09:10 put the grid at 09:10, 09:25, ...: a quarter hour of the clock is off it."""
    w = world(uow, credits="2")
    with uow() as u:
        u.experts.put(w.expert, Schedule("Europe/London", tuple(WeeklyWindow(d, 9 * 60 + 10, 17 * 60) for d in range(5)),
                                         (), BookingRules()))
        u.commit()
    err = fails(uow, OffGrid, svc.request_booking, clock, client_id=w.client, expert_id=w.expert.id,
                meetings=[svc.MeetingRequest(TUE_10, 30)], details=DETAILS, policy=svc.DEFAULT_POLICY)
    assert err.nearest == (TUE_10 - 5 * MIN, TUE_10 + 10 * MIN)
    request(uow, clock, w.client, w.expert.id, (TUE_10 + 10 * MIN, 30))


def test_an_expert_suggesting_a_time_off_the_grid_is_refused(uow, clock):
    w = world(uow)
    b = request(uow, clock, w.client, w.expert.id, (TUE_10, 60))
    err = fails(uow, OffGrid, svc.propose_times, clock, policy=svc.DEFAULT_POLICY, booking_id=b.id, actor_id=w.expert.person_id,
                starts=[THU_10 + 5 * MIN])
    assert err.nearest == (THU_10, THU_10 + 15 * MIN)
    got = load(uow, b.id)
    assert got.meetings[0].start == TUE_10 and not got.proposed_by_expert


def test_a_reschedule_off_the_grid_is_refused_and_changes_nothing(uow, clock):
    w = world(uow)
    b = accepted(uow, clock, w)
    mid = b.meetings[0].id
    err = fails(uow, OffGrid, svc.reschedule_meeting, clock, booking_id=b.id, meeting_id=mid, actor_id=w.client,
                new_start=at(4, 9, 7), policy=DEFAULT_POLICY)
    assert err.nearest == (at(4, 9), at(4, 9, 15))
    m = load(uow, b.id).meetings[0]
    assert (m.start, m.reschedule_count, m.ics_sequence) == (THU_10, 0, 0)


def test_a_series_starting_off_the_grid_is_refused(uow, clock):
    w = world(uow, credits="5")
    err = fails(uow, OffGrid, svc.request_series, clock, policy=svc.DEFAULT_POLICY, client_id=w.client, expert_id=w.expert.id,
                first_start=TUE_10 + 50 * MIN, minutes=60, frequency=Frequency.WEEKLY, details=DETAILS, count=3)
    assert err.nearest == (TUE_10 + 45 * MIN, TUE_10 + 60 * MIN)
    assert count(uow, BookingRow) == 0


def test_a_staff_reassignment_off_the_new_experts_grid_is_refused_before_anything_changes(uow, clock):
    """Reassigning asks the new expert's grid: hours from 09:10 make 10:00 off it, so it is refused."""
    client, _, staff, first, _ = programme_client(uow, mode=PairingMode.TRIAGE_FIRST)
    with uow() as u:
        odd = f.expert(u, "odd", weekly=tuple(WeeklyWindow(d, 9 * 60 + 10, 17 * 60) for d in range(5)))
        u.commit()
    b = request(uow, clock, client, first.id, (TUE_10, 30))
    fails(uow, OffGrid, svc.triage_reassign, clock, policy=svc.DEFAULT_POLICY, booking_id=b.id, staff_id=staff, expert_id=odd.id)
    got = load(uow, b.id)  # still in triage with its hold: the refusal came before anything changed
    assert got.status is BS.AWAITING_TRIAGE and got.meetings[0].start == TUE_10 and money(uow, client) == (1500, 500)
    assert count(uow, BookingRow) == 1


def test_the_chat_says_what_the_grid_is():
    err = OffGrid("x", start=TUE_10 + 7 * MIN, nearest=(TUE_10,), grid_minutes=15)
    said = explain(Translator("en", "Europe/London"), err)
    assert "every 15 minutes" in said and "between two slots" in said
    # a check_slot result turned into an error without context still gets the sentence
    assert "every 15 minutes" in explain(Translator(), SlotUnavailable("", reason="off_grid"))
