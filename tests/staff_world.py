"""Two programmes side by side, for the staff tests: what staff of one may see and do must never reach the
other. Spring (staff @sam, company Acme with founder @ana, expert @eve on its roster) and Autumn (staff
@tim, company Beta with founder @ola, expert @max). Both triage-first, so each has a request in triage and
a confirmed meeting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core import booking_service as bs
from core.credits import Source
from core.lifecycle import PairingMode
from core.sessions import MeetingRequest, SessionDetails
from tests import factories as f

THU_10 = datetime(2030, 3, 7, 10, 0, tzinfo=UTC)
FRI_10 = datetime(2030, 3, 8, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Side:
    programme: int
    company: int
    staff: int
    founder: int
    expert: int
    expert_person: int
    confirmed: int  # an accepted booking (one 60-minute meeting on Thursday)
    meeting: int
    waiting: int  # a request waiting for triage (Friday)


def two_programmes(uow, clock) -> tuple[Side, Side]:  # type: ignore[no-untyped-def]
    sides = []
    for name, company, staff, founder, expert, title in (
        ("Spring", "Acme", "sam", "ana", "eve", "Seed round plan"),
        ("Autumn", "Beta", "tim", "ola", "max", "Autumn secret plan"),
    ):
        with uow() as u:
            programme = f.programme(u, name, mode=PairingMode.TRIAGE_FIRST)
            co = u.people.add_company(company, programme.id)
            staff_person = f.staff(u, staff, programme.id)
            founder_person = f.person(u, founder, company_id=co.id)
            ex = f.expert(u, expert)
            u.programmes.add_to_roster(programme.id, ex.id)
            f.credits(u, amount="5", source=Source.PROGRAMME, company_id=co.id)
            u.commit()
        with uow() as u:
            booking = bs.request_booking(u, clock, client_id=founder_person.id, expert_id=ex.id,
                                         meetings=[MeetingRequest(THU_10, 60)], details=SessionDetails(title, "A plan"),
                                         policy=bs.DEFAULT_POLICY)
            bs.triage_approve(u, clock, booking_id=booking.id, staff_id=staff_person.id)
            bs.accept(u, clock, booking_id=booking.id, actor_id=ex.person_id)
            waiting = bs.request_booking(u, clock, client_id=founder_person.id, expert_id=ex.id,
                                         meetings=[MeetingRequest(FRI_10, 30)],
                                         details=SessionDetails(f"{title} (follow-up)", "Next steps"),
                                         policy=bs.DEFAULT_POLICY)
            u.commit()
        sides.append(Side(programme.id, co.id, staff_person.id, founder_person.id, ex.id, ex.person_id, booking.id,
                          booking.meetings[0].id, waiting.id))
    return sides[0], sides[1]


def later(clock, hours: float) -> None:  # type: ignore[no-untyped-def]
    clock.advance(timedelta(hours=hours))
