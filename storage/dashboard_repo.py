"""What the staff dashboard shows, read in a few queries per page. Every method takes the programmes the
viewer may see (non-empty) and never returns anything outside them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from core.credits import Movement
from core.lifecycle import BookingStatus, MeetingStatus
from storage.models import (
    BookingRow,
    CompanyRow,
    CreditMovementRow,
    ExpertRow,
    LedgerEntryRow,
    MeetingRow,
    PersonRow,
    ProgrammeExpertRow,
    ProgrammeRow,
    ReviewRow,
    StaffActionRow,
    WalletRow,
)

MAX_ROWS = 2000  # a page or a CSV never holds more than this (filters narrow it)


class Show(StrEnum):
    UPCOMING = "upcoming"
    PAST = "past"
    CANCELLED = "cancelled"
    NO_SHOWS = "no_shows"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class SessionLine:
    booking_id: int
    meeting_id: int
    programme: str
    company: str
    client: str
    client_handle: str
    expert: str
    expert_handle: str
    title: str
    start: datetime
    end: datetime
    status: MeetingStatus
    credits_milli: int


@dataclass(frozen=True, slots=True)
class Option:
    id: int
    label: str
    programme_id: int | None = None


@dataclass(frozen=True, slots=True)
class CreditLine:
    """Credits of a company (its wallets) or a founder (their own wallets, and what their bookings used)."""

    id: int  # company or person id
    name: str
    programme: str
    company: str
    allocated: int  # granted minus revoked
    available: int
    held: int
    spent: int
    refunded: int

    @property
    def used(self) -> int:
        return self.spent - self.refunded


@dataclass(frozen=True, slots=True)
class ExpertLine:
    expert_id: int
    name: str
    handle: str
    timezone: str
    paused: bool
    on_roster: bool
    booked_minutes: int  # in the period, by the viewer's programmes
    requests: int  # that reached the expert
    accepted: int
    declined: int
    expired: int
    response_hours: float | None  # average time to answer
    rating_sum: int
    rating_count: int
    latest_review: str

    @property
    def acceptance(self) -> float | None:
        answered = self.accepted + self.declined + self.expired
        return self.accepted / answered if answered else None

    @property
    def rating(self) -> float | None:
        return self.rating_sum / self.rating_count if self.rating_count else None


@dataclass(frozen=True, slots=True)
class TriageLine:
    booking_id: int
    programme: str
    company: str
    client: str
    expert: str
    title: str
    outcome: str
    first_start: datetime
    meetings: int
    credits_milli: int
    created_at: datetime
    expires_at: datetime


_HAPPENED = [MeetingStatus.COMPLETED.value, MeetingStatus.NO_SHOW_CLIENT.value, MeetingStatus.NO_SHOW_EXPERT.value]
_BOOKED = [MeetingStatus.CONFIRMED.value, *_HAPPENED]
_ACCEPTED = [BookingStatus.ACCEPTED.value, BookingStatus.COMPLETED.value, BookingStatus.CANCELLED.value]


def _ids(programme_ids: Iterable[int]) -> list[int]:
    found = sorted(set(programme_ids))
    if not found:
        raise ValueError("the dashboard always reads within the viewer's programmes")
    return found


class SqlDashboard:
    def __init__(self, session: Session) -> None:
        self.session = session

    # ---- filters

    def companies(self, programme_ids: Iterable[int]) -> list[Option]:
        rows = self.session.execute(select(CompanyRow.id, CompanyRow.name, CompanyRow.programme_id)
                                    .where(CompanyRow.programme_id.in_(_ids(programme_ids))).order_by(CompanyRow.name))
        return [Option(i, name, p) for i, name, p in rows]

    def founders(self, programme_ids: Iterable[int]) -> list[Option]:
        rows = self.session.execute(
            select(PersonRow.id, PersonRow.name, PersonRow.handle, CompanyRow.programme_id)
            .join(CompanyRow, CompanyRow.id == PersonRow.company_id)
            .where(CompanyRow.programme_id.in_(_ids(programme_ids))).order_by(PersonRow.name)
        )
        return [Option(i, f"{name} (@{handle})", p) for i, name, handle, p in rows]

    def expert_ids(self, programme_ids: Iterable[int]) -> set[int]:
        """The programmes' experts: on a roster, or booked by one of their founders."""
        ids = _ids(programme_ids)
        roster = set(self.session.scalars(select(ProgrammeExpertRow.expert_id).where(ProgrammeExpertRow.programme_id.in_(ids))))
        booked = set(self.session.scalars(select(BookingRow.expert_id).where(BookingRow.programme_id.in_(ids)).distinct()))
        return roster | booked

    def experts(self, programme_ids: Iterable[int]) -> list[Option]:
        wanted = sorted(self.expert_ids(programme_ids))
        if not wanted:
            return []
        rows = self.session.execute(select(ExpertRow.id, PersonRow.name, PersonRow.handle)
                                    .join(PersonRow, PersonRow.id == ExpertRow.person_id)
                                    .where(ExpertRow.id.in_(wanted)).order_by(PersonRow.name))
        return [Option(i, f"{name} (@{handle})") for i, name, handle in rows]

    # ---- sessions

    def sessions(self, programme_ids: Iterable[int], *, show: Show, now: datetime, company_id: int | None = None,
                 expert_id: int | None = None, start: datetime | None = None, end: datetime | None = None,
                 limit: int = MAX_ROWS) -> list[SessionLine]:
        client, expert_person = aliased(PersonRow), aliased(PersonRow)
        query = (
            select(MeetingRow, BookingRow.title, BookingRow.id, ProgrammeRow.name, CompanyRow.name, client.name,
                   client.handle, expert_person.name, expert_person.handle)
            .join(BookingRow, BookingRow.id == MeetingRow.booking_id)
            .join(ProgrammeRow, ProgrammeRow.id == BookingRow.programme_id)
            .join(client, client.id == BookingRow.client_id)
            .outerjoin(CompanyRow, CompanyRow.id == client.company_id)
            .join(ExpertRow, ExpertRow.id == BookingRow.expert_id)
            .join(expert_person, expert_person.id == ExpertRow.person_id)
            .where(BookingRow.programme_id.in_(_ids(programme_ids)))
        )
        if show is Show.UPCOMING:
            query = query.where(MeetingRow.status == MeetingStatus.CONFIRMED.value, MeetingRow.ends_at > now)
        elif show is Show.PAST:
            query = query.where(or_(MeetingRow.status.in_(_HAPPENED),
                                    and_(MeetingRow.status == MeetingStatus.CONFIRMED.value, MeetingRow.ends_at <= now)))
        elif show is Show.CANCELLED:
            query = query.where(MeetingRow.status == MeetingStatus.CANCELLED.value)
        elif show is Show.NO_SHOWS:
            query = query.where(MeetingRow.status.in_([MeetingStatus.NO_SHOW_CLIENT.value, MeetingStatus.NO_SHOW_EXPERT.value]))
        else:
            query = query.where(MeetingRow.status.in_([*_BOOKED, MeetingStatus.CANCELLED.value]))
        if company_id is not None:
            query = query.where(client.company_id == company_id)
        if expert_id is not None:
            query = query.where(BookingRow.expert_id == expert_id)
        if start is not None:
            query = query.where(MeetingRow.starts_at >= start)
        if end is not None:
            query = query.where(MeetingRow.starts_at < end)
        order = (MeetingRow.starts_at, MeetingRow.id) if show is Show.UPCOMING else (MeetingRow.starts_at.desc(), MeetingRow.id.desc())
        rows = self.session.execute(query.order_by(*order).limit(limit)).all()
        return [SessionLine(booking_id, m.id, programme, company or "", client_name, client_handle, expert_name,
                            expert_handle, title, m.starts_at, m.ends_at, MeetingStatus(m.status), m.price_milli)
                for m, title, booking_id, programme, company, client_name, client_handle, expert_name, expert_handle
                in rows]

    def meeting_starts(self, programme_ids: Iterable[int], start: datetime, end: datetime) -> list[datetime]:
        """Starts of booked meetings (confirmed or held) in [start, end): the sessions-per-week chart."""
        return list(self.session.scalars(
            select(MeetingRow.starts_at).join(BookingRow, BookingRow.id == MeetingRow.booking_id)
            .where(BookingRow.programme_id.in_(_ids(programme_ids)), MeetingRow.status.in_(_BOOKED),
                   MeetingRow.starts_at >= start, MeetingRow.starts_at < end)
        ))

    # ---- credits

    def _ledger(self, wallet_ids: list[int]) -> dict[int, dict[str, int]]:
        """Wallet id -> movement kind -> millicredits through that wallet."""
        out: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        if wallet_ids:
            rows = self.session.execute(
                select(LedgerEntryRow.wallet_id, CreditMovementRow.kind, func.sum(LedgerEntryRow.amount))
                .join(CreditMovementRow, CreditMovementRow.id == LedgerEntryRow.movement_id)
                .where(LedgerEntryRow.wallet_id.in_(wallet_ids)).group_by(LedgerEntryRow.wallet_id, CreditMovementRow.kind)
            )
            for wallet_id, kind, amount in rows:
                out[wallet_id][kind] += int(amount or 0)
        return out

    def company_credits(self, programme_ids: Iterable[int]) -> list[CreditLine]:
        rows = self.session.execute(
            select(CompanyRow.id, CompanyRow.name, ProgrammeRow.name)
            .join(ProgrammeRow, ProgrammeRow.id == CompanyRow.programme_id)
            .where(CompanyRow.programme_id.in_(_ids(programme_ids))).order_by(CompanyRow.name)
        ).all()
        wallets = self.session.execute(select(WalletRow).where(WalletRow.company_id.in_([r[0] for r in rows] or [0]))).scalars().all()
        ledger = self._ledger([w.id for w in wallets])
        by_company: dict[int, list[WalletRow]] = defaultdict(list)
        for w in wallets:
            by_company[w.company_id or 0].append(w)
        return [_line(cid, name, programme, name, by_company[cid], ledger) for cid, name, programme in rows]

    def founder_credits(self, programme_ids: Iterable[int]) -> list[CreditLine]:
        rows = self.session.execute(
            select(PersonRow.id, PersonRow.name, PersonRow.handle, CompanyRow.name, ProgrammeRow.name)
            .join(CompanyRow, CompanyRow.id == PersonRow.company_id)
            .join(ProgrammeRow, ProgrammeRow.id == CompanyRow.programme_id)
            .where(CompanyRow.programme_id.in_(_ids(programme_ids))).order_by(CompanyRow.name, PersonRow.name)
        ).all()
        person_ids = [r[0] for r in rows] or [0]
        wallets = self.session.execute(select(WalletRow).where(WalletRow.person_id.in_(person_ids))).scalars().all()
        ledger = self._ledger([w.id for w in wallets])
        own: dict[int, list[WalletRow]] = defaultdict(list)
        for w in wallets:
            own[w.person_id or 0].append(w)
        # What each founder's bookings held, spent and got back, whichever wallet paid.
        usage: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for client_id, kind, amount in self.session.execute(
            select(BookingRow.client_id, CreditMovementRow.kind, func.sum(CreditMovementRow.amount))
            .join(BookingRow, BookingRow.id == CreditMovementRow.booking_id)
            .where(BookingRow.client_id.in_(person_ids)).group_by(BookingRow.client_id, CreditMovementRow.kind)
        ):
            usage[client_id][kind] += int(amount or 0)
        out = []
        for pid, name, handle, company, programme in rows:
            mine = own[pid]
            used = usage[pid]
            allocated = sum(ledger[w.id][Movement.GRANT.value] - ledger[w.id][Movement.REVOKE.value] for w in mine)
            held = used[Movement.HOLD.value] - used[Movement.RELEASE.value] - used[Movement.SPEND.value]
            out.append(CreditLine(pid, f"{name} (@{handle})", programme, company, allocated,
                                  sum(w.available for w in mine), max(held, 0),
                                  used[Movement.SPEND.value] + used[Movement.CHARGE.value], used[Movement.REFUND.value]))
        return out

    # ---- experts

    def expert_lines(self, programme_ids: Iterable[int], since: datetime, until: datetime) -> list[ExpertLine]:
        ids = _ids(programme_ids)
        wanted = sorted(self.expert_ids(ids))
        if not wanted:
            return []
        roster = set(self.session.scalars(select(ProgrammeExpertRow.expert_id).where(ProgrammeExpertRow.programme_id.in_(ids))))
        people = {i: (name, handle, tz, paused) for i, name, handle, tz, paused in self.session.execute(
            select(ExpertRow.id, PersonRow.name, PersonRow.handle, PersonRow.timezone, ExpertRow.paused_at)
            .join(PersonRow, PersonRow.id == ExpertRow.person_id).where(ExpertRow.id.in_(wanted))
        )}
        booked: dict[int, int] = defaultdict(int)
        for expert_id, s, e in self.session.execute(
            select(BookingRow.expert_id, MeetingRow.starts_at, MeetingRow.ends_at)
            .join(BookingRow, BookingRow.id == MeetingRow.booking_id)
            .where(BookingRow.programme_id.in_(ids), MeetingRow.status.in_(_BOOKED),
                   MeetingRow.starts_at < until, MeetingRow.ends_at > since)
        ):
            booked[expert_id] += int((min(e, until) - max(s, since)).total_seconds() // 60)
        triaged = {b: (action, at) for b, action, at in self.session.execute(
            select(StaffActionRow.booking_id, StaffActionRow.action, StaffActionRow.created_at)
            .where(StaffActionRow.programme_id.in_(ids), StaffActionRow.action.like("triage_%"))
        )}
        answers: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # requests, accepted, declined, expired
        waits: dict[int, list[float]] = defaultdict(list)
        for booking_id, expert_id, status, created, decided, reason in self.session.execute(
            select(BookingRow.id, BookingRow.expert_id, BookingRow.status, BookingRow.created_at, BookingRow.decided_at,
                   BookingRow.decline_reason).where(BookingRow.programme_id.in_(ids), BookingRow.expert_id.in_(wanted))
        ):
            staff = triaged.get(booking_id)
            if status == BookingStatus.AWAITING_TRIAGE.value or (staff and staff[0] != "triage_approve"):
                continue  # the expert never saw it (still in triage, or declined or reassigned by staff)
            reached = staff[1] if staff else created
            counts = answers[expert_id]
            counts[0] += 1
            if status in _ACCEPTED:
                counts[1] += 1
            elif status == BookingStatus.DECLINED.value:
                counts[2] += 1
            elif status == BookingStatus.EXPIRED.value:
                counts[3] += 1
            if decided is not None and status in (*_ACCEPTED, BookingStatus.DECLINED.value):
                waits[expert_id].append(max((decided - reached).total_seconds(), 0) / 3600)
        ratings: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        latest: dict[int, str] = {}
        for expert_id, stars, text_ in self.session.execute(
            select(BookingRow.expert_id, ReviewRow.stars, ReviewRow.text)
            .join(BookingRow, BookingRow.id == ReviewRow.booking_id)
            .where(BookingRow.programme_id.in_(ids), ReviewRow.author_id == BookingRow.client_id,
                   ReviewRow.hidden_at.is_(None))  # a review staff hid neither counts nor shows
            .order_by(ReviewRow.created_at, ReviewRow.id)
        ):
            ratings[expert_id][0] += stars
            ratings[expert_id][1] += 1
            if text_:
                latest[expert_id] = text_
        out = []
        for expert_id in wanted:
            name, handle, tz, paused = people[expert_id]
            requests, accepted, declined, expired = answers[expert_id]
            wait = waits.get(expert_id)
            out.append(ExpertLine(expert_id, name, handle, tz, paused is not None, expert_id in roster,
                                  booked[expert_id], requests, accepted, declined, expired,
                                  sum(wait) / len(wait) if wait else None, ratings[expert_id][0], ratings[expert_id][1],
                                  latest.get(expert_id, "")))
        return sorted(out, key=lambda e: e.name.lower())

    # ---- triage

    def triage(self, programme_ids: Iterable[int], limit: int = 200) -> list[TriageLine]:
        client, expert_person = aliased(PersonRow), aliased(PersonRow)
        rows = self.session.execute(
            select(BookingRow, ProgrammeRow.name, CompanyRow.name, client.name, expert_person.name,
                   func.min(MeetingRow.starts_at), func.count(MeetingRow.id))
            .join(ProgrammeRow, ProgrammeRow.id == BookingRow.programme_id)
            .join(client, client.id == BookingRow.client_id)
            .outerjoin(CompanyRow, CompanyRow.id == client.company_id)
            .join(ExpertRow, ExpertRow.id == BookingRow.expert_id)
            .join(expert_person, expert_person.id == ExpertRow.person_id)
            .join(MeetingRow, MeetingRow.booking_id == BookingRow.id)
            .where(BookingRow.programme_id.in_(_ids(programme_ids)),
                   BookingRow.status == BookingStatus.AWAITING_TRIAGE.value)
            .group_by(BookingRow.id, ProgrammeRow.name, CompanyRow.name, client.name, expert_person.name)
            .order_by(BookingRow.created_at, BookingRow.id).limit(limit)
        ).all()
        return [TriageLine(b.id, programme, company or "", client_name, expert_name, b.title, b.outcome, first, n,
                           b.price_milli, b.created_at, b.expires_at)
                for b, programme, company, client_name, expert_name, first, n in rows]


def _line(owner_id: int, name: str, programme: str, company: str, wallets: list[WalletRow],
          ledger: dict[int, dict[str, int]]) -> CreditLine:
    def total(kind: Movement) -> int:
        return sum(ledger[w.id][kind.value] for w in wallets)

    return CreditLine(owner_id, name, programme, company, total(Movement.GRANT) - total(Movement.REVOKE),
                      sum(w.available for w in wallets), sum(w.held for w in wallets),
                      total(Movement.SPEND) + total(Movement.CHARGE), total(Movement.REFUND))
