"""Staff support in the core, on SQLite and PostgreSQL: scoped to the staff member's programme; a technical
refund happens once even when pressed twice; revoking never touches held or spent credits; "ask staff for
credits" is answered once; paused experts take no new requests; sign-in links work once, for 15 minutes."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from core import booking_service as bs
from core import expert_admin, support_service as ss
from core.booking_service import DEFAULT_POLICY
from core.credit_service import balance
from core.credits import Source
from core.discovery import SearchQuery
from core.errors import DomainError, InsufficientCredits, InvalidTransition, NotAllowed
from core.lifecycle import MeetingStatus
from core.schedule import BookingRules
from core.sessions import MeetingRequest, SessionDetails
from core.signin import issue_signin_link, redeem_signin_link, signed_in, sign_out
from core.staff import CreditRequestStatus, StaffReason
from tests import factories as f
from tests.staff_world import THU_10, two_programmes


def company_money(uow, company_id: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with uow() as u:
        w = u.credits.wallet(source=Source.PROGRAMME, company_id=company_id, create=False)
        return w.available, w.held


def run(uow, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    with uow() as u:
        result = fn(u, *args, **kwargs)
        u.commit()
        return result, list(u.events)


def refused(uow, fn, *args, **kwargs) -> DomainError:  # type: ignore[no-untyped-def]
    """The use case says no, and committing what it left changes nothing."""
    with uow() as u:
        with pytest.raises(DomainError) as info:
            fn(u, *args, **kwargs)
        u.commit()
    return info.value


def test_a_technical_refund_happens_once_even_when_pressed_twice(uow, clock):
    a, _b = two_programmes(uow, clock)
    assert company_money(uow, a.company) == (5000 - 1000 - 500, 500)  # one spent, one held in triage
    for _press in range(2):
        outcome, events = run(uow, ss.staff_cancel_meeting, clock, staff_id=a.staff, booking_id=a.confirmed,
                              meeting_id=a.meeting, reason=StaffReason.TECHNICAL, note="Zoom was down",
                              policy=DEFAULT_POLICY)
        if _press == 0:
            assert (outcome.changed, outcome.refund_milli, outcome.code) == (True, 1000, "cancelled")
            assert [e.name for e in events] == ["meeting_cancelled", "time_freed"]  # the waitlist hears of it
            assert (events[0].reason, events[0].note) == ("technical", "Zoom was down")
        else:
            assert (outcome.changed, outcome.refund_milli, outcome.code) == (False, 0, "already_done")
            assert events == []
    assert company_money(uow, a.company) == (4500, 500)
    with uow() as u:
        assert u.bookings.get(a.confirmed).meeting(a.meeting).status is MeetingStatus.CANCELLED


def test_two_staff_pressing_refund_at_once_refund_once(uow, clock):
    a, _b = two_programmes(uow, clock)
    with uow() as u:
        second = f.staff(u, "sue", a.programme)
        u.commit()
    clock.set(THU_10 + timedelta(minutes=20))  # during the meeting: the call failed
    results: list[object] = []

    def press(staff_id: int) -> None:
        try:
            results.append(run(uow, ss.staff_cancel_meeting, clock, staff_id=staff_id, booking_id=a.confirmed,
                               meeting_id=a.meeting, reason=StaffReason.TECHNICAL, policy=DEFAULT_POLICY)[0])
        except DomainError as error:  # the loser may see the meeting already cancelled
            results.append(error.reason)

    threads = [threading.Thread(target=press, args=(s,)) for s in (a.staff, second.id)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refunds = [r.refund_milli for r in results if isinstance(r, ss.StaffOutcome)]
    assert sum(refunds) == 1000
    assert company_money(uow, a.company)[0] == 4500


def test_a_technical_refund_after_the_meeting_and_a_no_show_refund_never_add_up(uow, clock):
    a, _b = two_programmes(uow, clock)
    clock.set(THU_10 + timedelta(hours=2))
    run(uow, bs.complete_ended, clock, booking_id=a.confirmed)
    run(uow, bs.report_no_show, clock, booking_id=a.confirmed, meeting_id=a.meeting, reporter_id=a.expert_person, policy=DEFAULT_POLICY)
    assert company_money(uow, a.company)[0] == 3500  # the client missed it: spent
    outcome, events = run(uow, ss.staff_cancel_meeting, clock, staff_id=a.staff, booking_id=a.confirmed,
                          meeting_id=a.meeting, reason=StaffReason.TECHNICAL, policy=DEFAULT_POLICY)
    assert (outcome.refund_milli, outcome.code) == (1000, "refunded") and [e.name for e in events] == ["staff_refund"]
    again, _ = run(uow, ss.staff_cancel_meeting, clock, staff_id=a.staff, booking_id=a.confirmed,
                   meeting_id=a.meeting, reason=StaffReason.TECHNICAL, policy=DEFAULT_POLICY)
    assert again.changed is False
    assert company_money(uow, a.company)[0] == 4500
    with uow() as u:
        assert u.bookings.get(a.confirmed).meeting(a.meeting).status is MeetingStatus.NO_SHOW_CLIENT


def test_the_client_reported_no_show_tells_the_programme_staff(uow, clock):
    a, _b = two_programmes(uow, clock)
    clock.set(THU_10 + timedelta(minutes=15))
    _, events = run(uow, bs.report_no_show, clock, booking_id=a.confirmed, meeting_id=a.meeting, reporter_id=a.founder, policy=DEFAULT_POLICY)
    staff_event = [e for e in events if e.name == "staff_no_show"]
    assert len(staff_event) == 1 and (staff_event[0].absent, staff_event[0].programme_id,
                                      staff_event[0].refund_milli) == ("expert", a.programme, 1000)
    with uow() as u:
        [report] = ss.no_show_reports(u, staff_id=a.staff)
        assert (report.booking_id, report.status) == (a.confirmed, MeetingStatus.NO_SHOW_EXPERT)
        assert ss.no_show_reports(u, staff_id=a.staff) and not [
            r for r in ss.no_show_reports(u, staff_id=a.staff) if r.programme_id != a.programme]


def test_staff_of_one_programme_cannot_act_on_the_other(uow, clock):
    a, b = two_programmes(uow, clock)
    before = company_money(uow, b.company)
    for call in (
        lambda: refused(uow, ss.staff_cancel_meeting, clock, staff_id=a.staff, booking_id=b.confirmed,
                        meeting_id=b.meeting, reason=StaffReason.TECHNICAL, policy=DEFAULT_POLICY),
        lambda: refused(uow, bs.cancel_meeting, clock, booking_id=b.confirmed, meeting_id=b.meeting, actor_id=a.staff, policy=DEFAULT_POLICY),
        lambda: refused(uow, ss.staff_move_meeting, clock, staff_id=a.staff, booking_id=b.confirmed,
                        meeting_id=b.meeting, new_start=THU_10 + timedelta(hours=2), reason=StaffReason.OTHER,
                        policy=DEFAULT_POLICY),
        lambda: refused(uow, ss.grant_credits, clock, staff_id=a.staff, amount_milli=1000, source=Source.PROGRAMME,
                        attempt="x", company_id=b.company),
        lambda: refused(uow, ss.revoke_credits, clock, staff_id=a.staff, source=Source.PROGRAMME, attempt="y",
                        company_id=b.company),
        lambda: refused(uow, bs.triage_approve, clock, booking_id=b.waiting, staff_id=a.staff),
        lambda: refused(uow, bs.decline, clock, booking_id=b.waiting, actor_id=a.staff),
        lambda: refused(uow, expert_admin.pause_expert, clock, expert_id=b.expert, actor_id=a.staff),
        lambda: refused(uow, expert_admin.set_booking_rules, clock, expert_id=b.expert, actor_id=a.staff,
                        daily_cap=1),
        lambda: refused(uow, ss.private_feedback, staff_id=a.staff, programme_id=b.programme),
    ):
        assert call().reason in ("not_staff", "not_a_party")  # the booking's own cancel: not a party to it
    assert company_money(uow, b.company) == before
    with uow() as u:
        assert u.bookings.get(b.waiting).status.value == "awaiting_triage"
        assert u.experts.get(b.expert).paused_at is None
        assert u.experts.schedule(b.expert).rules.daily_cap is None
        assert ss.credit_requests(u, staff_id=a.staff) == []


def test_staff_move_a_meeting_for_free_with_a_reason(uow, clock):
    a, _b = two_programmes(uow, clock)
    clock.set(THU_10 - timedelta(hours=20))  # late: a client's own move would forfeit the credits
    outcome, events = run(uow, ss.staff_move_meeting, clock, staff_id=a.staff, booking_id=a.confirmed,
                          meeting_id=a.meeting, new_start=THU_10 + timedelta(hours=3),
                          reason=StaffReason.EXPERT_REQUEST, policy=DEFAULT_POLICY)
    assert outcome.code == "moved" and [e.name for e in events] == ["meeting_rescheduled", "time_freed"]
    with uow() as u:
        meeting = u.bookings.get(a.confirmed).meeting(a.meeting)
        assert meeting.start == THU_10 + timedelta(hours=3) and meeting.reschedule_count == 0
    assert company_money(uow, a.company)[0] == 3500  # nothing charged


def test_a_cancellation_on_the_clients_behalf_follows_the_clients_policy(uow, clock):
    a, _b = two_programmes(uow, clock)
    clock.set(THU_10 - timedelta(hours=2))
    outcome, _ = run(uow, ss.staff_cancel_meeting, clock, staff_id=a.staff, booking_id=a.confirmed,
                     meeting_id=a.meeting, reason=StaffReason.CLIENT_REQUEST, policy=DEFAULT_POLICY)
    assert (outcome.code, outcome.refund_milli) == ("cancelled", 0)  # late: no refund, as if the client cancelled


def test_revoking_never_touches_held_or_spent_credits(uow, clock):
    a, _b = two_programmes(uow, clock)
    assert company_money(uow, a.company) == (3500, 500)
    err = refused(uow, ss.revoke_credits, clock, staff_id=a.staff, source=Source.PROGRAMME, attempt="r1",
                  amount_milli=3501, company_id=a.company)
    assert isinstance(err, InsufficientCredits) and err.context["available"] == 3500
    taken, _ = run(uow, ss.revoke_credits, clock, staff_id=a.staff, source=Source.PROGRAMME, attempt="r2",
                   company_id=a.company)  # everything available
    assert taken == 3500
    again, _ = run(uow, ss.revoke_credits, clock, staff_id=a.staff, source=Source.PROGRAMME, attempt="r2",
                   company_id=a.company)
    assert again == 0
    assert company_money(uow, a.company) == (0, 500)  # the request in triage still holds its credits


def test_ask_staff_for_credits_is_answered_once(uow, clock):
    a, b = two_programmes(uow, clock)
    (request, new), events = run(uow, ss.ask_staff_for_credits, clock, person_id=a.founder, amount_milli=2000,
                                 note="Two more sessions please")
    assert new and [e.name for e in events] == ["credit_request_created"]
    assert events[0].programme_id == a.programme
    (same, new_again), _ = run(uow, ss.ask_staff_for_credits, clock, person_id=a.founder)
    assert not new_again and same.id == request.id
    with uow() as u:
        assert [r.id for r in ss.credit_requests(u, staff_id=a.staff)] == [request.id]
        assert ss.credit_requests(u, staff_id=b.staff) == []
    assert refused(uow, ss.grant_credit_request, clock, staff_id=b.staff, request_id=request.id,
                   amount_milli=1000).reason == "not_staff"
    done, events = run(uow, ss.grant_credit_request, clock, staff_id=a.staff, request_id=request.id, amount_milli=2000)
    assert done.status is CreditRequestStatus.GRANTED and [e.name for e in events] == ["credit_request_granted"]
    for call in (lambda: refused(uow, ss.grant_credit_request, clock, staff_id=a.staff, request_id=request.id,
                                 amount_milli=2000),
                 lambda: refused(uow, ss.decline_credit_request, clock, staff_id=a.staff, request_id=request.id)):
        assert call().reason == "request_answered"
    with uow() as u:
        assert balance(u, a.founder).available == 3500 + 2000
    with uow() as u:
        marketplace = f.person(u, "zed")
        u.commit()
    assert refused(uow, ss.ask_staff_for_credits, clock, person_id=marketplace.id).reason == "no_programme"


def test_a_paused_expert_takes_no_new_requests_and_leaves_search(uow, clock):
    a, _b = two_programmes(uow, clock)
    changed, _ = run(uow, expert_admin.pause_expert, clock, expert_id=a.expert, actor_id=a.staff, note="holiday")
    assert changed and run(uow, expert_admin.pause_expert, clock, expert_id=a.expert, actor_id=a.staff)[0] is False
    err = refused(uow, bs.request_booking, clock, client_id=a.founder, expert_id=a.expert,
                  meetings=[MeetingRequest(THU_10 + timedelta(hours=3), 60)], details=SessionDetails("T", "O"),
                  policy=bs.DEFAULT_POLICY)
    assert err.reason == "expert_paused"
    with uow() as u:
        assert a.expert not in [h.expert_id for h in u.experts.search(SearchQuery(), (), 50)]
    # What was booked carries on: the expert can still answer the request that is waiting.
    run(uow, bs.triage_approve, clock, booking_id=a.waiting, staff_id=a.staff)
    run(uow, bs.accept, clock, booking_id=a.waiting, actor_id=a.expert_person)
    assert run(uow, expert_admin.resume_expert, clock, expert_id=a.expert, actor_id=a.staff)[0] is True
    with uow() as u:
        assert a.expert in [h.expert_id for h in u.experts.search(SearchQuery(), (), 50)]


def test_booking_rules_set_by_staff_are_checked_and_kept(uow, clock):
    a, _b = two_programmes(uow, clock)
    rules, _ = run(uow, expert_admin.set_booking_rules, clock, expert_id=a.expert, actor_id=a.staff,
                   min_notice=timedelta(hours=48), daily_cap=2)
    assert rules == BookingRules(min_notice=timedelta(hours=48), daily_cap=2)
    for bad in ({"horizon": timedelta(days=400)}, {"daily_cap": 0}, {"buffer": timedelta(minutes=-5)},
                {"min_notice": timedelta(days=61)}):
        assert refused(uow, expert_admin.set_booking_rules, clock, expert_id=a.expert, actor_id=a.staff,
                       **bad).reason.startswith("bad_")
    with uow() as u:
        assert u.experts.schedule(a.expert).rules == rules


def test_a_signin_link_works_once_and_for_fifteen_minutes(uow, clock):
    a, _b = two_programmes(uow, clock)
    with uow() as u:
        ana_refused = pytest.raises(NotAllowed)
        with ana_refused:
            issue_signin_link(u, clock, person_id=a.founder)
        link = issue_signin_link(u, clock, person_id=a.staff)
        stale = issue_signin_link(u, clock, person_id=a.staff)
        u.commit()
    with uow() as u:
        stored = u.session.execute(__import__("sqlalchemy").text("SELECT token_hash FROM signin_links")).scalars().all()
        assert link not in stored and len(stored) == 2  # only hashes are kept
    session, _ = run(uow, redeem_signin_link, clock, link)
    assert refused(uow, redeem_signin_link, clock, link).reason == "link_invalid"  # used
    clock.advance(timedelta(minutes=15))
    assert refused(uow, redeem_signin_link, clock, stale).reason == "link_invalid"  # expired
    with uow() as u:
        viewer = signed_in(u, clock, session)
        assert viewer is not None and viewer.programme_ids == {a.programme}
        assert signed_in(u, clock, "forged") is None and signed_in(u, clock, None) is None
    run(uow, sign_out, clock, session)
    with uow() as u:
        assert signed_in(u, clock, session) is None


def test_triage_decisions_stay_within_the_programme(uow, clock):
    a, b = two_programmes(uow, clock)
    with pytest.raises(InvalidTransition):
        with uow() as u:
            bs.triage_approve(u, clock, booking_id=a.confirmed, staff_id=a.staff)
    run(uow, bs.decline, clock, booking_id=a.waiting, actor_id=a.staff, reason="not a fit")
    assert company_money(uow, a.company) == (4000, 0)
    assert company_money(uow, b.company) == (3500, 500)


def test_the_triage_queue_and_assignments_are_per_programme(uow, clock):
    from core.programme_service import assign_expert

    a, b = two_programmes(uow, clock)
    with uow() as u:
        assert [x.id for x in u.bookings.awaiting_triage(10, programme_ids={a.programme})] == [a.waiting]
        assert u.bookings.awaiting_triage_count(programme_ids={a.programme}) == 1
        assert u.bookings.awaiting_triage_count() == 2  # the operator's view
    assert refused(uow, assign_expert, clock.now(), company_id=b.company, expert_id=a.expert,
                   actor_id=a.staff).reason == "not_staff"
    added, _ = run(uow, assign_expert, clock.now(), company_id=a.company, expert_id=b.expert, actor_id=a.staff)
    assert added
    with uow() as u:
        assert u.people.assigned_experts(a.company) == {b.expert} and u.people.assigned_experts(b.company) == set()
