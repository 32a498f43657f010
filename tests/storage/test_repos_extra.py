"""The repository reads the chat flows use instead of SQL of their own, on SQLite and PostgreSQL.

T0 is Monday 2030-03-04 06:00 UTC; the experts' 09:00-17:00 London windows are 09:00-17:00 UTC in March.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from core.booking_service import DEFAULT_POLICY
from core import booking_service as svc
from core.clock import FixedClock
from core.credits import Source
from core.lifecycle import BookingStatus, PairingMode
from core.model import Person, Review
from core.sessions import MeetingRequest, SessionDetails
from storage.booking_repo import BookingParties
from storage.people_repo import ExpertRef, WalletOwner
from storage.uow import SqlUnitOfWork
from tests import factories as f

UoW = Callable[[], SqlUnitOfWork]
DETAILS = SessionDetails("Seed round", "A shortlist of investors to call")
TUE_10 = datetime(2030, 3, 5, 10, 0, tzinfo=UTC)
WED_10 = datetime(2030, 3, 6, 10, 0, tzinfo=UTC)


def _request(u: SqlUnitOfWork, clock: FixedClock, client_id: int, expert_id: int, at: datetime,
             title: str = "Seed round") -> int:
    booking = svc.request_booking(u, clock, client_id=client_id, expert_id=expert_id,
                                  meetings=[MeetingRequest(at, 15)], details=SessionDetails(title, DETAILS.outcome),
                                  policy=svc.DEFAULT_POLICY)
    assert booking.id is not None
    return booking.id


# ---------------------------------------------------------------- people


def test_get_many_reads_several_people_and_skips_unknown_ids(uow: UoW) -> None:
    with uow() as u:
        ana, bob = f.person(u, "ana"), f.person(u, "bob", tz="Asia/Kolkata")
        u.commit()
    with uow() as u:
        found = u.people.get_many([bob.id or 0, ana.id or 0, bob.id or 0, 999])
        assert found == {ana.id: ana, bob.id: bob}
        assert found[bob.id or 0].timezone == "Asia/Kolkata"
        assert u.people.get_many([]) == {}


def test_members_of_a_company_oldest_first_and_nobody_else(uow: UoW) -> None:
    with uow() as u:
        acme = u.people.add_company("Acme Robotics", None)
        other = u.people.add_company("Other Ltd", None)
        carl = f.person(u, "carl", company_id=acme.id)
        f.person(u, "zoe", company_id=other.id)
        ana = f.person(u, "ana", company_id=acme.id)
        f.person(u, "sam")
        u.commit()
    with uow() as u:
        assert [p.handle for p in u.people.members(acme.id)] == [carl.handle, ana.handle]
        assert u.people.members(999) == []


def test_find_people_by_a_typo_part_of_a_name_or_an_at_sign(uow: UoW) -> None:
    with uow() as u:
        zoe = f.person(u, "zoe")  # name "Zoe"
        f.person(u, "zack")
        maria = u.people.add(Person(None, "mgarcia", "Maria Garcia"))
        u.commit()
    with uow() as u:
        assert u.people.find("@zo") == [zoe]  # a handle and a name both match: counted once
        assert u.people.find("  mgarcai ") == [maria]  # a typo in the handle
        assert u.people.find("garcia") == [maria]  # part of the name
        assert u.people.find("zeo") == []  # too short to find by pieces: the caller says "type it again"
        assert u.people.find("") == [] and u.people.find("@") == []
        assert u.people.find("nobody-like-this") == []


def test_find_people_returns_at_most_the_limit(uow: UoW) -> None:
    with uow() as u:
        for n in range(8):
            f.person(u, f"ana{n}")
        u.commit()
    with uow() as u:
        assert len(u.people.find("ana")) == 5
        assert len(u.people.find("ana", limit=2)) == 2


def test_experts_like_offers_experts_only_each_once(uow: UoW) -> None:
    with uow() as u:
        cleo = f.expert(u, "cleo")
        garcia = f.expert(u, "garcia")
        person = u.people.get(garcia.person_id or 0)
        assert person is not None
        person.name = "Maria Garcia"
        u.people.save(person)
        f.person(u, "cleon")  # not an expert
        u.commit()
    with uow() as u:
        assert u.people.experts_like("@cleo") == [ExpertRef(cleo.id or 0, "cleo", "Cleo")]
        assert u.people.experts_like("cleoo") == [ExpertRef(cleo.id or 0, "cleo", "Cleo")]
        # found by the handle and by the name: offered once
        assert u.people.experts_like("garcia") == [ExpertRef(garcia.id or 0, "garcia", "Maria Garcia")]
        assert u.people.experts_like(" ") == []


def test_companies_by_name_in_any_case_and_close_to_a_typo(uow: UoW) -> None:
    with uow() as u:
        acme = u.people.add_company("Acme Robotics", None)
        u.people.add_company("Zeta Labs", None)
        u.commit()
    with uow() as u:
        assert u.people.company_by_name("  acme ROBOTICS ", any_case=True) == acme
        assert u.people.company_by_name("acme robotics") is None  # exact by default, as the importers expect
        assert u.people.company_by_name("Acme Robotics") == acme
        assert u.people.companies_like("acme robtics") == [acme]
        assert u.people.companies_like("robot") == [acme]
        assert u.people.companies_like("") == []


def test_wallet_owners_name_the_company_and_its_programme(uow: UoW) -> None:
    with uow() as u:
        spring = f.programme(u, "Spring cohort")
        acme = u.people.add_company("Acme Robotics", spring.id)
        solo = u.people.add_company("Solo Ltd", None)
        ana = f.person(u, "ana", company_id=acme.id)
        f.credits(u, amount="5", source=Source.PROGRAMME, company_id=acme.id)
        f.credits(u, amount="2", source=Source.COMPANY, company_id=solo.id)
        f.credits(u, amount="1", source=Source.INDIVIDUAL, person_id=ana.id)
        u.commit()
    with uow() as u:
        programme_wallet = u.credits.wallet(source=Source.PROGRAMME, company_id=acme.id, create=False)
        company_wallet = u.credits.wallet(source=Source.COMPANY, company_id=solo.id, create=False)
        own_wallet = u.credits.wallet(source=Source.INDIVIDUAL, person_id=ana.id, create=False)
        assert programme_wallet and company_wallet and own_wallet
        assert u.people.wallet_owners([programme_wallet.id, company_wallet.id, own_wallet.id, 999]) == {
            programme_wallet.id: WalletOwner("Spring cohort", "Acme Robotics"),
            company_wallet.id: WalletOwner(None, "Solo Ltd"),
            own_wallet.id: WalletOwner(None, None),
        }
        assert u.people.wallet_owners([]) == {}


# ---------------------------------------------------------------- bookings


def test_awaiting_triage_oldest_first_with_meetings_and_counted(uow: UoW, clock: FixedClock) -> None:
    with uow() as u:
        programme = f.programme(u, "Spring cohort", mode=PairingMode.TRIAGE_FIRST)
        company = u.people.add_company("Acme Robotics", programme.id)
        ana = f.person(u, "ana", company_id=company.id)
        zoe = f.person(u, "zoe")  # self-select: her request goes straight to the expert
        bob = f.expert(u, "bob", paid=False)
        u.commit()
    ids = []
    for at, title in ((WED_10, "Second"), (TUE_10, "First"), (WED_10 + timedelta(hours=2), "Third")):
        with uow() as u:
            ids.append(_request(u, clock, ana.id or 0, bob.id or 0, at, title))
            u.commit()
        clock.advance(timedelta(minutes=1))
    with uow() as u:
        _request(u, clock, zoe.id or 0, bob.id or 0, WED_10 + timedelta(hours=4))
        u.commit()
    with uow() as u:
        waiting = u.bookings.awaiting_triage(2)
        assert [b.id for b in waiting] == ids[:2]  # by when they were asked, not by meeting time
        assert [b.details.title for b in waiting] == ["Second", "First"]
        assert [m.start for m in waiting[0].meetings] == [WED_10]
        assert all(b.status is BookingStatus.AWAITING_TRIAGE for b in waiting)
        assert u.bookings.awaiting_triage_count() == 3


def test_nothing_awaiting_triage(uow: UoW) -> None:
    with uow() as u:
        assert u.bookings.awaiting_triage(8) == []
        assert u.bookings.awaiting_triage_count() == 0


def test_credits_returned_by_key_for_releases_and_refunds_only(uow: UoW, clock: FixedClock) -> None:
    with uow() as u:
        ana = f.person(u, "ana")
        bob = f.expert(u, "bob")
        f.credits(u, amount="20", person_id=ana.id)
        u.commit()
    with uow() as u:
        declined = _request(u, clock, ana.id or 0, bob.id or 0, TUE_10)
        cancelled = _request(u, clock, ana.id or 0, bob.id or 0, WED_10)
        kept = _request(u, clock, ana.id or 0, bob.id or 0, WED_10 + timedelta(hours=2))
        u.commit()
    with uow() as u:
        bob_person = bob.person_id or 0
        svc.decline(u, clock, booking_id=declined, actor_id=bob_person)
        svc.accept(u, clock, booking_id=cancelled, actor_id=bob_person)
        svc.accept(u, clock, booking_id=kept, actor_id=bob_person)
        meeting = u.bookings.get(cancelled)
        assert meeting is not None and meeting.meetings[0].id is not None
        meeting_id = meeting.meetings[0].id
        svc.cancel_meeting(u, clock, policy=DEFAULT_POLICY, booking_id=cancelled, meeting_id=meeting_id, actor_id=ana.id or 0)
        u.commit()
    with uow() as u:
        price = u.bookings.get(declined).price_milli  # type: ignore[union-attr]
        assert price > 0
        assert u.bookings.credits_returned([declined, cancelled, kept]) == {
            f"release:{declined}": price,  # the hold came back
            f"refund:meeting:{meeting_id}": price,  # cancelled more than 24 h ahead: refunded
        }  # no holds, spends or anything of the booking that was kept
        assert u.bookings.credits_returned([kept]) == {}
        assert u.bookings.credits_returned([]) == {}


def test_reviews_read_per_author(uow: UoW, clock: FixedClock) -> None:
    with uow() as u:
        ana, carl = f.person(u, "ana"), f.person(u, "carl")
        bob = f.expert(u, "bob", paid=False)
        u.commit()
    with uow() as u:
        first = _request(u, clock, ana.id or 0, bob.id or 0, TUE_10)
        second = _request(u, clock, ana.id or 0, bob.id or 0, WED_10)
        assert u.bookings.add_review(Review(first, ana.id or 0, 5))
        assert u.bookings.add_review(Review(second, carl.id or 0, 3))
        u.commit()
    with uow() as u:
        assert u.bookings.has_review(first, ana.id or 0)
        assert not u.bookings.has_review(second, ana.id or 0)
        assert u.bookings.reviewed_by(ana.id or 0, [first, second, 999]) == {first}
        assert u.bookings.reviewed_by(carl.id or 0, [first, second]) == {second}
        assert u.bookings.reviewed_by(ana.id or 0, []) == set()
        assert not u.bookings.add_review(Review(first, ana.id or 0, 1))  # still once per author


def test_with_parties_loads_the_booking_its_expert_and_its_client(uow: UoW, clock: FixedClock) -> None:
    with uow() as u:
        ana = f.person(u, "ana", tz="Asia/Kolkata")
        bob = f.expert(u, "bob", paid=False)
        u.commit()
    with uow() as u:
        booking_id = _request(u, clock, ana.id or 0, bob.id or 0, TUE_10)
        u.commit()
    with uow() as u:
        found = u.bookings.with_parties(booking_id)
        assert isinstance(found, BookingParties)
        assert found.booking == u.bookings.get(booking_id)
        assert found.expert == u.experts.get(bob.id or 0)
        assert found.client == ana and found.client.timezone == "Asia/Kolkata"
        assert u.bookings.with_parties(999) is None
