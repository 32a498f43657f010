"""People, companies, programmes and who is assigned to whom; finding them by what someone typed."""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from core.model import Company, Person, Programme
from storage import mapping
from storage.bulk import insert_rows
from storage.models import CompanyExpertRow, CompanyRow, ExpertRow, PersonRow, ProgrammeRow, WalletRow

CLOSE_MATCHES = 5  # suggestions offered for a name that matched nothing exactly
_CANDIDATES = 200  # rows pre-selected in SQL before ranking by similarity in Python

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


@dataclass(frozen=True, slots=True)
class ExpertRef:
    """Enough to offer an expert as a suggestion: the id to act on and the words to show."""

    expert_id: int
    handle: str
    name: str


@dataclass(frozen=True, slots=True)
class WalletOwner:
    """Whose allocation a wallet is: its company and that company's programme (None for a person's own)."""

    programme: str | None
    company: str | None


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

    def matching(self, handles: Iterable[str], slack_user_ids: Iterable[str] = (),
                 telegram_user_ids: Iterable[int] = ()) -> list[Person]:
        """Everyone with one of these handles or chat accounts, in one query (an import checks a batch of
        rows against the people already here)."""
        handles = sorted({h.lower().lstrip("@") for h in handles})
        slack, telegram = sorted(set(slack_user_ids)), sorted(set(telegram_user_ids))
        conditions = [column.in_(values) for column, values in ((PersonRow.handle, handles),
                      (PersonRow.slack_user_id, slack), (PersonRow.telegram_user_id, telegram)) if values]
        if not conditions:
            return []
        # plain columns, not ORM objects: this runs for every row of a large import
        return [mapping.person(r) for r in self.session.execute(select(PersonRow.__table__).where(or_(*conditions)))]

    def get_many(self, person_ids: Iterable[int]) -> dict[int, Person]:
        """Several people in one query (lists and cards name many at once)."""
        wanted = sorted(set(person_ids))
        if not wanted:
            return {}
        rows = self.session.scalars(select(PersonRow).where(PersonRow.id.in_(wanted)))
        return {r.id: mapping.person(r) for r in rows}

    def members(self, company_id: int) -> list[Person]:
        """The people of a company (founders share its credits), oldest first."""
        return [mapping.person(r) for r in self.session.scalars(
            select(PersonRow).where(PersonRow.company_id == company_id).order_by(PersonRow.id)
        )]

    def find(self, needle: str, limit: int = CLOSE_MATCHES) -> list[Person]:
        """People whose @handle or name is close to what was typed (a typo, part of a name), best first."""
        needle = needle.strip().lstrip("@")
        pieces = _pieces(needle)
        if not pieces:
            return []
        rows = self.session.scalars(
            select(PersonRow).where(_contains_any(pieces, PersonRow.handle, PersonRow.name)).limit(_CANDIDATES)
        )
        found = [mapping.person(r) for r in rows]
        return _closest(needle, [(key, p.id) for p in found for key in (p.handle, p.name)],
                        {p.id: p for p in found}, limit)

    def experts_like(self, needle: str, limit: int = CLOSE_MATCHES) -> list[ExpertRef]:
        """Experts whose @handle or name is close to what was typed, best first."""
        needle = needle.strip().lstrip("@")
        pieces = _pieces(needle)
        if not pieces:
            return []
        rows = self.session.execute(
            select(ExpertRow.id, PersonRow.handle, PersonRow.name).join(PersonRow, PersonRow.id == ExpertRow.person_id)
            .where(_contains_any(pieces, PersonRow.handle, PersonRow.name)).limit(_CANDIDATES)
        ).all()
        found = {expert_id: ExpertRef(expert_id, handle, name) for expert_id, handle, name in rows}
        return _closest(needle, [(key, e.expert_id) for e in found.values() for key in (e.handle, e.name)],
                        found, limit)

    def staff(self) -> list[Person]:
        """Staff of any programme. Deprecated: reaches across programmes; use uow.programmes.staff_of(programme_id)."""
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

    def add_many(self, people: Sequence[Person]) -> None:
        """add() for many people at once (storage.bulk: COPY on PostgreSQL); each Person gets its id."""
        insert_rows(self.session, PersonRow.__table__, [mapping.person_values(person) for person in people])
        if not people:
            return
        ids = dict(self.session.execute(
            select(PersonRow.handle, PersonRow.id).where(PersonRow.handle.in_([p.handle for p in people]))
        ).tuples().all())
        for person in people:
            person.id = ids[person.handle]

    def save_many(self, people: Sequence[Person]) -> None:
        """save() for many people: one query to load them, one batched UPDATE of what changed."""
        if not people:
            return
        rows = {r.id: r for r in self.session.scalars(select(PersonRow).where(PersonRow.id.in_([p.id for p in people])))}
        for person in people:
            row = rows.get(person.id or 0)
            if row is None:
                raise KeyError(person.id)
            mapping.person_into(row, person)
        self.session.flush()

    def company(self, company_id: int) -> Company | None:
        row = self.session.get(CompanyRow, company_id)
        return mapping.company(row) if row else None

    def company_by_name(self, name: str, *, any_case: bool = False) -> Company | None:
        """any_case: "acme ltd" finds "Acme Ltd" (surrounding spaces ignored), as staff type it."""
        if any_case:
            where = func.lower(CompanyRow.name) == name.strip().lower()
        else:
            where = CompanyRow.name == name
        row = self.session.scalar(select(CompanyRow).where(where))
        return mapping.company(row) if row else None

    def companies_like(self, needle: str, limit: int = CLOSE_MATCHES) -> list[Company]:
        """Companies whose name is close to what was typed, best first."""
        needle = needle.strip()
        pieces = _pieces(needle)
        if not pieces:
            return []
        rows = self.session.scalars(select(CompanyRow).where(_contains_any(pieces, CompanyRow.name)).limit(_CANDIDATES))
        found = [mapping.company(r) for r in rows]
        return _closest(needle, [(c.name, c.id) for c in found], {c.id: c for c in found}, limit)

    def wallet_owners(self, wallet_ids: Iterable[int]) -> dict[int, WalletOwner]:
        """Wallet id -> the names of the company and programme it belongs to, in one query."""
        wanted = sorted(set(wallet_ids))
        if not wanted:
            return {}
        rows = self.session.execute(
            select(WalletRow.id, ProgrammeRow.name, CompanyRow.name)
            .outerjoin(CompanyRow, CompanyRow.id == WalletRow.company_id)
            .outerjoin(ProgrammeRow, ProgrammeRow.id == CompanyRow.programme_id)
            .where(WalletRow.id.in_(wanted))
        )
        return {wallet_id: WalletOwner(programme, company) for wallet_id, programme, company in rows}

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
        row = ProgrammeRow()
        mapping.programme_into(row, programme)
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


# ---------------------------------------------------------------- close matches


def _pieces(needle: str) -> list[str]:
    """Substrings to pre-select candidates in SQL before ranking them by similarity in Python."""
    needle = needle.lower()
    if len(needle) <= 3:
        return [needle] if needle else []
    return list(dict.fromkeys([needle[:3], needle[-3:], needle[len(needle) // 2 - 1: len(needle) // 2 + 2]]))


def _contains_any(pieces: Iterable[str], *columns: InstrumentedAttribute[str]) -> ColumnElement[bool]:
    """Any of the columns contains any of the pieces, case-insensitively."""
    return or_(*(func.lower(c).contains(p, autoescape=True) for p in pieces for c in columns))


def _closest(needle: str, keys: Iterable[tuple[str, _K]], items: Mapping[_K, _V], limit: int) -> list[_V]:
    """Items whose key (a handle, a name) is most like the needle, then those whose key contains it; each once."""
    by_key: dict[str, _K] = {}
    for key, ident in keys:
        by_key.setdefault(key, ident)
    lowered = {k.lower(): v for k, v in by_key.items()}
    found = difflib.get_close_matches(needle.lower(), list(lowered), n=limit, cutoff=0.5)
    subs = [k for k in lowered if needle.lower() in k and k not in found]
    out: list[_K] = []
    for k in [*found, *subs]:
        if lowered[k] not in out:  # a person found by handle and by name counts once
            out.append(lowered[k])
    return [items[i] for i in out[:limit]]
