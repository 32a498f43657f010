"""Programmes as their staff run them: settings, companies' allocations, staff roles, expert rosters,
paused experts, requests for credits, the log of staff actions, and what staff read (feedback, no-shows)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session, aliased

from core.credits import Movement
from core.lifecycle import MeetingStatus
from core.model import Company, Person, Programme
from core.schedule import BookingRules
from core.staff import CreditRequest, CreditRequestStatus, FeedbackItem, NoShowReport, StaffAction
from storage import mapping
from storage.models import (
    BookingRow,
    CompanyRow,
    CreditMovementRow,
    CreditRequestRow,
    ExpertRow,
    MeetingRow,
    PersonRow,
    ProgrammeExpertRow,
    ProgrammeRow,
    ProgrammeStaffRow,
    ReviewRow,
    StaffActionRow,
)
from storage.sql import execute_dml, insert_ignore

_NO_SHOWS = (MeetingStatus.NO_SHOW_EXPERT.value, MeetingStatus.NO_SHOW_CLIENT.value)


class SqlProgrammes:
    def __init__(self, session: Session) -> None:
        self.session = session

    # ---- programmes and companies

    def all(self) -> list[Programme]:
        return [mapping.programme(r) for r in self.session.scalars(select(ProgrammeRow).order_by(ProgrammeRow.name))]

    def get_many(self, programme_ids: frozenset[int]) -> dict[int, Programme]:
        if not programme_ids:
            return {}
        rows = self.session.scalars(select(ProgrammeRow).where(ProgrammeRow.id.in_(sorted(programme_ids))))
        return {r.id: mapping.programme(r) for r in rows}

    def by_name(self, name: str) -> Programme | None:
        """Any case, surrounding spaces ignored: "spring cohort" finds "Spring cohort"."""
        row = self.session.scalar(select(ProgrammeRow).where(func.lower(ProgrammeRow.name) == name.strip().lower()))
        return mapping.programme(row) if row else None

    def update(self, programme: Programme) -> None:
        row = self.session.get(ProgrammeRow, programme.id)
        if row is None:
            raise KeyError(programme.id)
        mapping.programme_into(row, programme)
        self.session.flush()

    def companies(self, programme_id: int) -> list[Company]:
        rows = self.session.scalars(select(CompanyRow).where(CompanyRow.programme_id == programme_id).order_by(CompanyRow.name))
        return [mapping.company(r) for r in rows]

    def set_company(self, company_id: int, *, programme_id: int | None, credits_milli: int | None) -> None:
        self.session.execute(update(CompanyRow).where(CompanyRow.id == company_id)
                             .values(programme_id=programme_id, credits_milli=credits_milli))

    def founders(self, programme_id: int) -> list[Person]:
        rows = self.session.scalars(
            select(PersonRow).join(CompanyRow, CompanyRow.id == PersonRow.company_id)
            .where(CompanyRow.programme_id == programme_id).order_by(PersonRow.handle)
        )
        return [mapping.person(r) for r in rows]

    def counts(self) -> dict[int, tuple[int, int, int, int]]:
        """Programme id -> (companies, founders, staff, experts on the roster), in four small queries."""
        out: dict[int, list[int]] = {r: [0, 0, 0, 0] for r in self.session.scalars(select(ProgrammeRow.id))}
        queries: tuple[Select[tuple[int | None, int]] | Select[tuple[int, int]], ...] = (
            select(CompanyRow.programme_id, func.count()).where(CompanyRow.programme_id.is_not(None))
            .group_by(CompanyRow.programme_id),
            select(CompanyRow.programme_id, func.count()).join(PersonRow, PersonRow.company_id == CompanyRow.id)
            .where(CompanyRow.programme_id.is_not(None)).group_by(CompanyRow.programme_id),
            select(ProgrammeStaffRow.programme_id, func.count()).group_by(ProgrammeStaffRow.programme_id),
            select(ProgrammeExpertRow.programme_id, func.count()).group_by(ProgrammeExpertRow.programme_id),
        )
        for i, query in enumerate(queries):
            for programme_id, n in self.session.execute(query):
                if programme_id in out:
                    out[programme_id][i] = n
        return {k: (v[0], v[1], v[2], v[3]) for k, v in out.items()}

    # ---- staff roles

    def staff_programmes(self, person_id: int) -> frozenset[int]:
        return frozenset(self.session.scalars(
            select(ProgrammeStaffRow.programme_id).where(ProgrammeStaffRow.person_id == person_id)
        ))

    def staff_of(self, programme_id: int) -> list[Person]:
        rows = self.session.scalars(
            select(PersonRow).join(ProgrammeStaffRow, ProgrammeStaffRow.person_id == PersonRow.id)
            .where(ProgrammeStaffRow.programme_id == programme_id).order_by(PersonRow.handle)
        )
        return [mapping.person(r) for r in rows]

    def set_staff(self, person_id: int, programme_ids: frozenset[int]) -> None:
        have = self.staff_programmes(person_id)
        if have - programme_ids:
            self.session.execute(delete(ProgrammeStaffRow).where(
                ProgrammeStaffRow.person_id == person_id, ProgrammeStaffRow.programme_id.in_(sorted(have - programme_ids))
            ))
        for programme_id in sorted(programme_ids - have):
            insert_ignore(self.session, ProgrammeStaffRow, {"programme_id": programme_id, "person_id": person_id},
                          returning="person_id")
        self.session.execute(update(PersonRow).where(PersonRow.id == person_id).values(is_staff=bool(programme_ids)))
        self.session.flush()

    # ---- rosters and experts

    def roster(self, programme_id: int) -> frozenset[int]:
        return frozenset(self.session.scalars(
            select(ProgrammeExpertRow.expert_id).where(ProgrammeExpertRow.programme_id == programme_id)
        ))

    def expert_programmes(self, expert_id: int) -> frozenset[int]:
        return frozenset(self.session.scalars(
            select(ProgrammeExpertRow.programme_id).where(ProgrammeExpertRow.expert_id == expert_id)
        ))

    def add_to_roster(self, programme_id: int, expert_id: int) -> bool:
        return insert_ignore(self.session, ProgrammeExpertRow, {"programme_id": programme_id, "expert_id": expert_id},
                             returning="expert_id") is not None

    def remove_from_roster(self, programme_id: int, expert_id: int) -> bool:
        return bool(execute_dml(self.session, delete(ProgrammeExpertRow).where(
            ProgrammeExpertRow.programme_id == programme_id, ProgrammeExpertRow.expert_id == expert_id
        )).rowcount)

    def set_expert_rules(self, expert_id: int, rules: BookingRules) -> None:
        self.session.execute(update(ExpertRow).where(ExpertRow.id == expert_id).values(
            min_notice_minutes=int(rules.min_notice.total_seconds() // 60), horizon_days=rules.horizon.days,
            buffer_minutes=int(rules.buffer.total_seconds() // 60), daily_cap=rules.daily_cap,
        ))

    def set_paused(self, expert_id: int, at: datetime | None, note: str = "") -> None:
        self.session.execute(update(ExpertRow).where(ExpertRow.id == expert_id)
                             .values(paused_at=at, paused_note=note[:300]))

    # ---- allocations

    def granted_under(self, key_prefix: str) -> int:
        total = self.session.scalar(
            select(func.coalesce(func.sum(CreditMovementRow.amount), 0)).where(
                CreditMovementRow.kind == Movement.GRANT.value,
                CreditMovementRow.key.startswith(key_prefix, autoescape=True),
            )
        )
        return int(total or 0)

    # ---- requests for credits

    def add_credit_request(self, request: CreditRequest) -> CreditRequest:
        row = CreditRequestRow()
        _request_into(row, request)
        self.session.add(row)
        self.session.flush()
        return _request(row)

    def open_credit_request(self, person_id: int) -> CreditRequest | None:
        row = self.session.scalar(select(CreditRequestRow).where(
            CreditRequestRow.person_id == person_id, CreditRequestRow.status == CreditRequestStatus.OPEN.value
        ))
        return _request(row) if row else None

    def credit_request(self, request_id: int, *, for_update: bool = False) -> CreditRequest | None:
        query = select(CreditRequestRow).where(CreditRequestRow.id == request_id)
        if for_update and self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.session.scalar(query.execution_options(populate_existing=True))
        return _request(row) if row else None

    def save_credit_request(self, request: CreditRequest) -> None:
        row = self.session.get(CreditRequestRow, request.id)
        if row is None:
            raise KeyError(request.id)
        _request_into(row, request)
        self.session.flush()

    def credit_requests(self, programme_ids: frozenset[int], status: CreditRequestStatus | None,
                        limit: int) -> list[CreditRequest]:
        if not programme_ids:
            return []
        query = select(CreditRequestRow).where(CreditRequestRow.programme_id.in_(sorted(programme_ids)))
        if status is not None:
            query = query.where(CreditRequestRow.status == status.value)
        rows = self.session.scalars(query.order_by(CreditRequestRow.created_at, CreditRequestRow.id).limit(limit))
        return [_request(r) for r in rows]

    # ---- the log of staff actions

    def log(self, action: StaffAction) -> bool:
        values = {
            "key": action.key[:200], "programme_id": action.programme_id, "actor_id": action.actor_id,
            "action": action.action[:32], "booking_id": action.booking_id, "meeting_id": action.meeting_id,
            "subject": action.subject[:200], "amount_milli": action.amount_milli, "reason": action.reason[:32],
            "note": action.note[:500], "created_at": action.created_at,
        }
        return insert_ignore(self.session, StaffActionRow, values, returning="id", conflict=("key",)) is not None

    def has_action(self, key: str) -> bool:
        return self.session.scalar(select(StaffActionRow.id).where(StaffActionRow.key == key[:200])) is not None

    def actions(self, programme_ids: frozenset[int], limit: int = 50) -> list[StaffAction]:
        if not programme_ids:
            return []
        rows = self.session.scalars(
            select(StaffActionRow).where(StaffActionRow.programme_id.in_(sorted(programme_ids)))
            .order_by(StaffActionRow.created_at.desc(), StaffActionRow.id.desc()).limit(limit)
        )
        return [StaffAction(r.key, r.action, r.programme_id, r.actor_id, r.created_at, r.booking_id, r.meeting_id,
                            r.subject, r.amount_milli, r.reason, r.note) for r in rows]

    # ---- what staff read

    def feedback(self, programme_ids: frozenset[int], limit: int) -> list[FeedbackItem]:
        if not programme_ids:
            return []
        author, client, expert_person = aliased(PersonRow), aliased(PersonRow), aliased(PersonRow)
        rows = self.session.execute(
            select(ReviewRow, BookingRow.programme_id, BookingRow.title, BookingRow.client_id, BookingRow.expert_id,
                   author.handle, client.name, expert_person.name)
            .join(BookingRow, BookingRow.id == ReviewRow.booking_id)
            .join(author, author.id == ReviewRow.author_id)
            .join(client, client.id == BookingRow.client_id)
            .join(ExpertRow, ExpertRow.id == BookingRow.expert_id)
            .join(expert_person, expert_person.id == ExpertRow.person_id)
            .where(BookingRow.programme_id.in_(sorted(programme_ids)))
            .order_by(ReviewRow.created_at.desc(), ReviewRow.id.desc()).limit(limit)
        ).all()
        return [
            FeedbackItem(r.booking_id, programme_id, title, r.author_id, handle, r.author_id == client_id, expert_id,
                         expert_name, client_name, r.stars, r.text, r.private_note, r.created_at)
            for r, programme_id, title, client_id, expert_id, handle, client_name, expert_name in rows
        ]

    def no_shows(self, programme_ids: frozenset[int], limit: int) -> list[NoShowReport]:
        if not programme_ids:
            return []
        client, expert_person = aliased(PersonRow), aliased(PersonRow)
        rows = self.session.execute(
            select(MeetingRow, BookingRow.programme_id, BookingRow.title, client.name, expert_person.name)
            .join(BookingRow, BookingRow.id == MeetingRow.booking_id)
            .join(client, client.id == BookingRow.client_id)
            .join(ExpertRow, ExpertRow.id == BookingRow.expert_id)
            .join(expert_person, expert_person.id == ExpertRow.person_id)
            .where(BookingRow.programme_id.in_(sorted(programme_ids)), MeetingRow.status.in_(_NO_SHOWS))
            .order_by(MeetingRow.starts_at.desc(), MeetingRow.id.desc()).limit(limit)
        ).all()
        return [NoShowReport(m.booking_id, m.id, programme_id, title, m.starts_at, MeetingStatus(m.status),
                             client_name, expert_name, m.price_milli)
                for m, programme_id, title, client_name, expert_name in rows]


def _request(row: CreditRequestRow) -> CreditRequest:
    return CreditRequest(row.id, row.person_id, row.programme_id, row.company_id, row.amount_milli, row.note,
                         CreditRequestStatus(row.status), row.created_at, row.decided_at, row.decided_by,
                         row.granted_milli, row.answer)


def _request_into(row: CreditRequestRow, r: CreditRequest) -> None:
    row.person_id, row.programme_id, row.company_id = r.person_id, r.programme_id, r.company_id
    row.amount_milli, row.note, row.status = r.amount_milli, r.note[:500], r.status.value
    row.created_at, row.decided_at, row.decided_by = r.created_at, r.decided_at, r.decided_by
    row.granted_milli, row.answer = r.granted_milli, r.answer[:500]
