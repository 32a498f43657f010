"""People, companies, programmes and who is assigned to whom."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.model import Company, Person, Programme
from storage import mapping
from storage.models import CompanyExpertRow, CompanyRow, PersonRow, ProgrammeRow


class SqlPeople:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, person_id: int) -> Person | None:
        row = self.session.get(PersonRow, person_id)
        return mapping.person(row) if row else None

    def by_handle(self, handle: str) -> Person | None:
        row = self.session.scalar(select(PersonRow).where(PersonRow.handle == handle.lower().lstrip("@")))
        return mapping.person(row) if row else None

    def by_slack(self, slack_user_id: str) -> Person | None:
        row = self.session.scalar(select(PersonRow).where(PersonRow.slack_user_id == slack_user_id))
        return mapping.person(row) if row else None

    def by_telegram(self, telegram_user_id: int) -> Person | None:
        row = self.session.scalar(select(PersonRow).where(PersonRow.telegram_user_id == telegram_user_id))
        return mapping.person(row) if row else None

    def staff(self) -> list[Person]:
        return [mapping.person(r) for r in self.session.scalars(select(PersonRow).where(PersonRow.is_staff.is_(True)))]

    def add(self, person: Person) -> Person:
        row = PersonRow()
        mapping.person_into(row, person)
        self.session.add(row)
        self.session.flush()
        person.id = row.id
        return person

    def save(self, person: Person) -> None:
        row = self.session.get(PersonRow, person.id)
        if row is None:
            raise KeyError(person.id)
        mapping.person_into(row, person)
        self.session.flush()

    def company(self, company_id: int) -> Company | None:
        row = self.session.get(CompanyRow, company_id)
        return mapping.company(row) if row else None

    def company_by_name(self, name: str) -> Company | None:
        row = self.session.scalar(select(CompanyRow).where(CompanyRow.name == name))
        return mapping.company(row) if row else None

    def add_company(self, name: str, programme_id: int | None) -> Company:
        row = CompanyRow(name=name, programme_id=programme_id)
        self.session.add(row)
        self.session.flush()
        return mapping.company(row)

    def programme(self, programme_id: int) -> Programme | None:
        row = self.session.get(ProgrammeRow, programme_id)
        return mapping.programme(row) if row else None

    def programme_by_name(self, name: str) -> Programme | None:
        row = self.session.scalar(select(ProgrammeRow).where(ProgrammeRow.name == name))
        return mapping.programme(row) if row else None

    def add_programme(self, programme: Programme) -> Programme:
        row = ProgrammeRow(
            name=programme.name, pairing_mode=programme.pairing_mode.value,
            allowed_lengths=",".join(str(m) for m in programme.rules.allowed_lengths),
            max_meetings=programme.rules.max_meetings,
        )
        self.session.add(row)
        self.session.flush()
        return mapping.programme(row)

    def assigned_experts(self, company_id: int) -> frozenset[int]:
        ids = self.session.scalars(select(CompanyExpertRow.expert_id).where(CompanyExpertRow.company_id == company_id))
        return frozenset(ids)

    def assign_expert(self, company_id: int, expert_id: int) -> bool:
        if self.session.get(CompanyExpertRow, (company_id, expert_id)) is not None:
            return False
        self.session.add(CompanyExpertRow(company_id=company_id, expert_id=expert_id))
        self.session.flush()
        return True
