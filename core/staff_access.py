"""Who staff may see and act on: the programmes they are staff of, nothing else.

Every staff use case asks here first. A person is staff of a programme only through a role row
(programmes.staff_programmes); `Person.is_staff` is a convenience for menus and never grants anything.
Bookings belong to the programme they were made in; people and companies to their company's programme;
experts to the programmes whose roster lists them. The open marketplace (no programme) is reached by the
operator at the command line only.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.errors import NotAllowed, NotFound
from core.model import Booking, Company, Person
from core.ports import UnitOfWork


def staff_programmes(uow: UnitOfWork, person_id: int | None) -> frozenset[int]:
    return uow.programmes.staff_programmes(person_id) if person_id is not None else frozenset()


def is_staff_of(uow: UnitOfWork, person_id: int | None, programme_id: int | None) -> bool:
    return programme_id is not None and programme_id in staff_programmes(uow, person_id)


def require_staff(uow: UnitOfWork, actor_id: int, programme_id: int | None) -> Person:
    """The actor, if they are staff of this programme; NotAllowed("not_staff") otherwise (also for the
    marketplace, which has no programme, and without saying whether the thing exists elsewhere)."""
    actor = uow.people.get(actor_id)
    if actor is None or not is_staff_of(uow, actor_id, programme_id):
        raise NotAllowed("only staff of this programme can do that", reason="not_staff")
    return actor


def require_any_staff(uow: UnitOfWork, actor_id: int) -> frozenset[int]:
    """The programmes the actor is staff of; NotAllowed when none."""
    found = staff_programmes(uow, actor_id)
    if not found:
        raise NotAllowed("only programme staff can do that", reason="not_staff")
    return found


def narrow(uow: UnitOfWork, actor_id: int, programme_id: int | None = None) -> frozenset[int]:
    """The actor's programmes, or just the one asked for if it is theirs (NotAllowed otherwise)."""
    mine = require_any_staff(uow, actor_id)
    if programme_id is None:
        return mine
    if programme_id not in mine:
        raise NotAllowed("that programme is not yours", reason="not_staff")
    return frozenset({programme_id})


def company_programme(company: Company) -> int | None:
    return company.programme_id


def person_programme(uow: UnitOfWork, person: Person) -> int | None:
    """A founder's programme is their company's; an individual on the marketplace has none."""
    if person.company_id is None:
        return None
    company = uow.people.company(person.company_id)
    return company.programme_id if company is not None else None


def booking_programme(booking: Booking) -> int | None:
    return booking.programme_id


def expert_programmes(uow: UnitOfWork, expert_id: int) -> frozenset[int]:
    return uow.programmes.expert_programmes(expert_id)


def require_staff_for_person(uow: UnitOfWork, actor_id: int, person_id: int) -> tuple[Person, int]:
    person = uow.people.get(person_id)
    if person is None:
        raise NotFound(f"no person {person_id}", reason="person_not_found")
    programme_id = person_programme(uow, person)
    require_staff(uow, actor_id, programme_id)
    assert programme_id is not None
    return person, programme_id


def require_staff_for_company(uow: UnitOfWork, actor_id: int, company_id: int) -> Company:
    company = uow.people.company(company_id)
    if company is None:
        raise NotFound(f"no company {company_id}", reason="company_not_found")
    require_staff(uow, actor_id, company.programme_id)
    return company


def require_staff_for_expert(uow: UnitOfWork, actor_id: int, expert_id: int) -> frozenset[int]:
    """Staff reach an expert through their programme's roster; returns the programmes they share."""
    shared = expert_programmes(uow, expert_id) & staff_programmes(uow, actor_id)
    if not shared:
        raise NotAllowed("this expert is not on your programme's roster", reason="not_staff")
    return shared


def visible(programme_ids: Iterable[int | None], reach: frozenset[int]) -> bool:
    return all(p is not None and p in reach for p in programme_ids)
