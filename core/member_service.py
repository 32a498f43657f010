"""Put validated member rows into the database: all of them or none (the caller commits only when
`errors` is empty). Companies named for the first time are created in the row's programme; founders and
new companies get the programme's allocations (a top-up, see programme_service); staff rows set exactly
the staff roles listed. Scoped: staff importing (actor_id) may only touch their own programmes and the
people in them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from core.errors import DomainError
from core.expert_import import RowError
from core.member_import import MemberRecord, Role
from core.model import Person, Programme
from core.ports import UnitOfWork
from core.programme_service import allocate_company, allocate_founder, put_company
from core.staff_access import person_programme, staff_programmes


@dataclass(frozen=True, slots=True)
class MembersOutcome:
    created: int
    updated: int
    companies_created: int
    credits_milli: int  # allocations granted by this import
    errors: tuple[RowError, ...]


def import_members(uow: UnitOfWork, now: datetime, records: Sequence[MemberRecord], *,
                   actor_id: int | None = None) -> MembersOutcome:
    reach = staff_programmes(uow, actor_id) if actor_id is not None else None  # None: the operator
    programmes = {p.name.lower(): p for p in uow.programmes.all()}
    errors: list[RowError] = []
    created = updated = companies = granted = 0
    for record in records:
        found = _programmes(record, programmes, reach, errors)
        if found is None:
            continue
        person = uow.people.by_handle(record.handle)
        if not _may_change(uow, record, person, reach, errors):
            continue
        if not _ids_free(uow, record, person, errors):
            continue
        company_id = None
        if record.role is Role.FOUNDER:
            existing = uow.people.company_by_name(record.company or "", any_case=True)
            if existing is not None and existing.programme_id != found[0].id:
                errors.append(RowError(record.line, "company", f"{existing.name} is in another programme"))
                continue
            try:
                company, given = put_company(uow, now, name=record.company or "", programme_id=found[0].id)
            except DomainError as exc:
                errors.append(RowError(record.line, "company", exc.detail or exc.reason))
                continue
            companies += existing is None
            granted += given
            company_id = company.id
        if person is None:
            person = uow.people.add(Person(
                None, record.handle, record.name, timezone=record.timezone, locale=record.language or "en",
                email=record.email, slack_user_id=record.slack_user_id, telegram_user_id=record.telegram_user_id,
                company_id=company_id))
            created += 1
        else:
            person = replace(
                person, name=record.name, timezone=record.timezone, locale=record.language or person.locale,
                email=record.email if record.email is not None else person.email,
                slack_user_id=record.slack_user_id or person.slack_user_id,
                telegram_user_id=record.telegram_user_id or person.telegram_user_id, company_id=company_id,
            )
            uow.people.save(person)
            updated += 1
        assert person.id is not None
        # Staff roles: exactly the listed programmes (within what the importer may touch); none for others.
        current = uow.programmes.staff_programmes(person.id)
        touchable = current if reach is None else current & reach
        listed = frozenset(p.id for p in found) if record.role is Role.STAFF else frozenset()
        roles = (current - touchable) | listed
        if roles != current:
            uow.programmes.set_staff(person.id, roles)
        if record.role is Role.FOUNDER:
            granted += allocate_founder(uow, person, found[0])
    if errors:
        return MembersOutcome(0, 0, 0, 0, tuple(errors))
    return MembersOutcome(created, updated, companies, granted, ())


def _programmes(record: MemberRecord, known: dict[str, Programme], reach: frozenset[int] | None,
                errors: list[RowError]) -> list[Programme] | None:
    found: list[Programme] = []
    for name in record.programmes:
        programme = known.get(name.lower())
        if programme is None:
            errors.append(RowError(record.line, "programme",
                                   f'no programme called "{name}": create it first (headstrt programmes create)'))
            return None
        if reach is not None and programme.id not in reach:
            errors.append(RowError(record.line, "programme", f'"{name}" is not one of your programmes'))
            return None
        found.append(programme)
    return found


def _may_change(uow: UnitOfWork, record: MemberRecord, person: Person | None, reach: frozenset[int] | None,
                errors: list[RowError]) -> bool:
    if person is None or person.id is None:
        return True
    if record.role is not Role.STAFF and uow.experts.by_person(person.id) is not None:
        errors.append(RowError(record.line, "handle", f"@{person.handle} is an expert: experts come from the "
                                                      "experts import, and can only be staff here"))
        return False
    if reach is None:
        return True
    theirs = person_programme(uow, person)
    roles = uow.programmes.staff_programmes(person.id)
    if (theirs is not None and theirs not in reach) or (roles and not roles & reach and theirs is None):
        errors.append(RowError(record.line, "handle", f"@{person.handle} belongs to another programme"))
        return False
    return True


def _ids_free(uow: UnitOfWork, record: MemberRecord, person: Person | None, errors: list[RowError]) -> bool:
    ok = True
    for column, value, owner in (
        ("slack_user_id", record.slack_user_id, uow.people.by_slack(record.slack_user_id) if record.slack_user_id else None),
        ("telegram_user_id", record.telegram_user_id,
         uow.people.by_telegram(record.telegram_user_id) if record.telegram_user_id else None),
    ):
        if owner is not None and (person is None or owner.id != person.id):
            errors.append(RowError(record.line, column, f"{value} already belongs to @{owner.handle}"))
            ok = False
    return ok


__all__ = ["MembersOutcome", "import_members", "allocate_company"]
