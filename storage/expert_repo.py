"""Experts: profiles, availability, busy times, and the search index over them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import LABEL_STYLE_TABLENAME_PLUS_COL, ColumnElement, Select, bindparam, CompoundSelect, Date, Integer, and_, cast, delete, exists, func, literal, null, or_, select, true, type_coerce, union_all, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import BindParameter

from core.discovery import SearchHit, SearchQuery, expert_terms
from core.experts import Expert, ExpertKind
from core.lifecycle import ACTIVE_MEETING_STATUSES
from core.schedule import Busy, Schedule
from storage import busy_spans, mapping
from storage.db import loaded
from storage.bulk import insert_rows
from storage.credit_repo import SqlCredits, wallets_query
from storage.models import (
    AvailabilityExceptionRow,
    CalendarBusyPackedRow,
    ExpertLanguageRow,
    ExpertRow,
    ExpertTermRow,
    MeetingRow,
    PersonRow,
    WalletRow,
    WeeklyWindowRow,
)

ACTIVE = [s.value for s in ACTIVE_MEETING_STATUSES]

# The tables of an expert's own rows that put_many rewrites when they change.
_ExpertChild = type[WeeklyWindowRow] | type[AvailabilityExceptionRow] | type[ExpertTermRow] | type[ExpertLanguageRow]


class _Rules(NamedTuple):
    """The columns schedules() reads for an expert."""

    id: int
    min_notice_minutes: int
    horizon_days: int
    buffer_minutes: int
    daily_cap: int | None
    timezone: str


class _Locked(NamedTuple):
    """What lock() read for the availability check after it: the rules, timezone and calendar busy time."""

    id: int
    min_notice_minutes: int
    horizon_days: int
    buffer_minutes: int
    daily_cap: int | None
    timezone: str
    spans: bytes | None


@lru_cache(maxsize=4)
def _lock_statements(postgres: bool) -> tuple[Select[Any], Select[Any]]:
    """lock()'s two statements, built once (a statement with CTEs and aliased entities costs milliseconds to
    build and to derive its cache key): the expert alone, and the expert with a client's wallets."""
    expert = (
        select(ExpertRow, PersonRow, CalendarBusyPackedRow.spans)
        .join(PersonRow, PersonRow.id == ExpertRow.person_id)
        .outerjoin(CalendarBusyPackedRow, CalendarBusyPackedRow.person_id == ExpertRow.person_id)
        .where(ExpertRow.id == bindparam("expert_id", type_=Integer))
    )
    if postgres:
        expert = expert.with_for_update(of=ExpertRow)
    alone = expert.execution_options(populate_existing=True)  # as the lock leaves them
    # Two locking reads in one statement. Each CTE is computed on its own (MATERIALIZED), and the wallets'
    # only when the expert's row has been locked and read (the left side of a join with no join condition
    # is the outer loop): the order of the two locks is that of two statements. Every column comes from a
    # locking read, so each row is as its lock leaves it.
    x = expert.set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL).cte("x")
    w = wallets_query(bindparam("wallets_of", type_=Integer), lock=postgres).set_label_style(
        LABEL_STYLE_TABLENAME_PLUS_COL).cte("w")
    if postgres:
        x, w = x.prefix_with("MATERIALIZED"), w.prefix_with("MATERIALIZED")
    with_wallets = (
        select(aliased(ExpertRow, x), aliased(PersonRow, x), x.c.calendar_busy_packed_spans, aliased(WalletRow, w),
               w.c.companies_name, w.c.programmes_name)
        .select_from(x).outerjoin(w, true())
        .execution_options(populate_existing=True)
    )
    return alone, with_wallets


@lru_cache(maxsize=2)
def _availability_statement(with_calendar: bool) -> CompoundSelect[Any]:
    """availability()'s union of hours, days off and meetings (and the calendar busy time), built once."""
    expert_id = bindparam("expert_id", type_=Integer)
    # typed NULLs in the first branch: PostgreSQL settles a column's type branch by branch
    meeting_start, meeting_end = cast(null(), MeetingRow.starts_at.type), cast(null(), MeetingRow.ends_at.type)
    branches: list[Any] = [
        select(literal("weekly").label("kind"), WeeklyWindowRow.weekday, type_coerce(null(), Date).label("day"),
               WeeklyWindowRow.start_minute, WeeklyWindowRow.end_minute, cast(null(), Integer).label("meeting_id"),
               meeting_start.label("starts_at"), meeting_end.label("ends_at"),
               cast(null(), CalendarBusyPackedRow.spans.type).label("spans"))
        .where(WeeklyWindowRow.expert_id == expert_id),
        select(AvailabilityExceptionRow.kind, null(), AvailabilityExceptionRow.day,
               AvailabilityExceptionRow.start_minute, AvailabilityExceptionRow.end_minute, null(), null(), null(),
               null())
        .where(AvailabilityExceptionRow.expert_id == expert_id),
        select(literal("meeting"), null(), null(), null(), null(), MeetingRow.id, MeetingRow.starts_at,
               MeetingRow.ends_at, null())
        .where(MeetingRow.expert_id == expert_id, MeetingRow.status.in_(ACTIVE),
               MeetingRow.starts_at < bindparam("end", type_=MeetingRow.starts_at.type),
               MeetingRow.ends_at > bindparam("start", type_=MeetingRow.ends_at.type)),
    ]
    if with_calendar:
        branches.append(select(literal("calendar"), null(), null(), null(), null(), null(), null(), null(),
                               CalendarBusyPackedRow.spans)
                        .where(CalendarBusyPackedRow.person_id == bindparam("person_id", type_=Integer)))
    return union_all(*branches)


@lru_cache(maxsize=1)
def _availability_many_statement() -> CompoundSelect[Any]:
    """availability_many()'s union of hours, days off and meetings of several experts, built once."""
    ids: BindParameter[Any] = bindparam("ids", expanding=True)
    meeting_start, meeting_end = cast(null(), MeetingRow.starts_at.type), cast(null(), MeetingRow.ends_at.type)
    return union_all(
        select(WeeklyWindowRow.expert_id, literal("weekly").label("kind"), WeeklyWindowRow.weekday,
               type_coerce(null(), Date).label("day"), WeeklyWindowRow.start_minute, WeeklyWindowRow.end_minute,
               meeting_start.label("starts_at"), meeting_end.label("ends_at"))
        .where(WeeklyWindowRow.expert_id.in_(ids)),
        select(AvailabilityExceptionRow.expert_id, AvailabilityExceptionRow.kind, null(),
               AvailabilityExceptionRow.day, AvailabilityExceptionRow.start_minute, AvailabilityExceptionRow.end_minute,
               null(), null())
        .where(AvailabilityExceptionRow.expert_id.in_(ids)),
        select(MeetingRow.expert_id, literal("meeting"), null(), null(), null(), null(), MeetingRow.starts_at,
               MeetingRow.ends_at)
        .where(MeetingRow.expert_id.in_(ids), MeetingRow.status.in_(ACTIVE),
               MeetingRow.starts_at < bindparam("end", type_=MeetingRow.starts_at.type),
               MeetingRow.ends_at > bindparam("start", type_=MeetingRow.ends_at.type)),
    )


class SqlExperts:
    def __init__(self, session: Session, credits: SqlCredits | None = None) -> None:
        self.session = session
        self._credits = credits  # lock(wallets_of=...) hands it the wallets it locked
        # lock() reads what the availability check after it needs (rules, timezone, calendar busy time)
        # in the same statement; schedules() and busy_many() take it from here, once.
        self._locked: dict[int, _Locked] = {}
        # search() reads its candidates' rules, timezone and calendar busy time: availability_many() uses them.
        self._searched: dict[int, _Locked] = {}

    def forget(self) -> None:
        self._locked.clear()
        self._searched.clear()

    # ---- profiles

    def get(self, expert_id: int) -> Expert | None:
        row = loaded(self.session, ExpertRow, expert_id)  # kept by the unit of work: no query
        person = loaded(self.session, PersonRow, row.person_id) if row is not None else None
        if person is not None:
            return mapping.expert(row, person)
        found = self.session.execute(
            select(ExpertRow, PersonRow).join(PersonRow, PersonRow.id == ExpertRow.person_id).where(ExpertRow.id == expert_id)
        ).first()
        return mapping.expert(found[0], found[1]) if found else None

    def _kept(self, expert_id: int) -> Any:
        """The expert's rules and timezone from the rows this unit of work holds, or None."""
        row = loaded(self.session, ExpertRow, expert_id)
        person = loaded(self.session, PersonRow, row.person_id) if row is not None else None
        if person is None:
            return None
        return _Rules(row.id, row.min_notice_minutes, row.horizon_days, row.buffer_minutes, row.daily_cap,
                      person.timezone)

    def get_many(self, expert_ids: Iterable[int]) -> dict[int, Expert]:
        ids = list(expert_ids)
        if not ids:
            return {}
        rows = self.session.execute(
            select(ExpertRow, PersonRow).join(PersonRow, PersonRow.id == ExpertRow.person_id).where(ExpertRow.id.in_(ids))
        )
        return {e.id: mapping.expert(e, p) for e, p in rows}

    def by_person(self, person_id: int) -> Expert | None:
        row = self.session.scalar(select(ExpertRow.id).where(ExpertRow.person_id == person_id))
        return self.get(row) if row is not None else None

    def by_handle(self, handle: str) -> Expert | None:
        row = self.session.scalar(
            select(ExpertRow.id).join(PersonRow, PersonRow.id == ExpertRow.person_id)
            .where(PersonRow.handle == handle.lower().lstrip("@"))
        )
        return self.get(row) if row is not None else None

    def ids_by_person(self, person_ids: Iterable[int]) -> dict[int, int]:
        """person id -> expert id, for those of them who are experts (one query)."""
        ids = sorted(set(person_ids))
        if not ids:
            return {}
        rows = self.session.execute(select(ExpertRow.person_id, ExpertRow.id).where(ExpertRow.person_id.in_(ids)))
        return dict(rows.tuples().all())

    def put(self, expert: Expert, schedule: Schedule) -> Expert:
        """Create or update an expert's profile, availability and search index (by person)."""
        [expert_id] = self.put_many([(expert, schedule)])
        found = self.get(expert_id)
        assert found is not None
        return found

    def put_many(self, items: Sequence[tuple[Expert, Schedule]], *,
                 current: Mapping[int, Schedule] | None = None) -> list[int]:
        """put() for many experts in a few statements (an import of thousands); returns their ids in order.
        Only what changed is written: an existing profile by one batched UPDATE, its hours, days off,
        languages and search index rewritten only where they differ; new rows go in with storage.bulk
        (COPY on PostgreSQL). Rows are read as plain columns, not ORM objects: this runs for every row of
        a large import."""
        if not items:
            return []
        self._locked.clear()  # rules about to change: read them again
        self._searched.clear()
        if any(expert.person_id is None for expert, _ in items):
            raise ValueError("an expert is a person first: set person_id")
        person_ids = [expert.person_id for expert, _ in items]
        rows = {r.person_id: r for r in self.session.execute(
            select(ExpertRow.__table__).where(ExpertRow.person_id.in_(person_ids)))}
        if current is None:
            current = self.schedules([row.id for row in rows.values()])
        new: list[dict[str, object]] = []
        updates: list[dict[str, object]] = []
        stale: dict[_ExpertChild, list[int]] = {WeeklyWindowRow: [], AvailabilityExceptionRow: [], ExpertTermRow: [],
                                         ExpertLanguageRow: []}  # existing experts whose rows of a table change
        for expert, schedule in items:
            row = rows.get(expert.person_id)
            if row is None:
                new.append({"person_id": expert.person_id, "rating_sum": 0, "rating_count": 0, "session_count": 0,
                            "active": True, **mapping.expert_values(expert, schedule.rules)})
                continue
            values = mapping.expert_values(expert, schedule.rules)
            if any(getattr(row, column) != value for column, value in values.items()):
                updates.append({"id": row.id, **values})
            was = current.get(row.id)
            text = (values["topics"], values["headline"], values["bio"])
            for table, changed in ((WeeklyWindowRow, was is None or was.weekly != schedule.weekly),
                                   (AvailabilityExceptionRow, was is None or was.exceptions != schedule.exceptions),
                                   (ExpertTermRow, (row.topics, row.headline, row.bio) != text),
                                   (ExpertLanguageRow, row.languages != values["languages"])):
                if changed:
                    stale[table].append(row.id)
        if updates:
            self.session.execute(update(ExpertRow), updates)  # by primary key, one executemany
            for changed in updates:  # a copy this session already loaded must not hide the new values
                loaded = self.session.identity_map.get(self.session.identity_key(ExpertRow, changed["id"]))
                if loaded is not None:
                    self.session.expire(loaded)
        for table, expert_ids in stale.items():
            if expert_ids:
                self.session.execute(delete(table).where(table.expert_id.in_(expert_ids)))
        insert_rows(self.session, ExpertRow.__table__, new)
        ids_of: dict[int | None, int] = {}  # keyed for Expert.person_id (checked not None above)
        if new:
            ids_of = dict(self.session.execute(
                select(ExpertRow.person_id, ExpertRow.id).where(ExpertRow.person_id.in_([r["person_id"] for r in new]))
            ).tuples().all())
        ids = [rows[e.person_id].id if e.person_id in rows else ids_of[e.person_id] for e, _ in items]
        fresh = set(ids_of.values())
        rewrite = {table: fresh | set(expert_ids) for table, expert_ids in stale.items()}
        windows: list[dict[str, object]] = []
        exceptions: list[dict[str, object]] = []
        terms: list[dict[str, object]] = []
        languages: list[dict[str, object]] = []
        for expert_id, (expert, schedule) in zip(ids, items):
            if expert_id in rewrite[WeeklyWindowRow]:
                windows += [{"expert_id": expert_id, "weekday": w.weekday, "start_minute": w.start_minute,
                             "end_minute": w.end_minute} for w in schedule.weekly]
            if expert_id in rewrite[AvailabilityExceptionRow]:
                exceptions += [{"expert_id": expert_id, "day": x.day, "kind": x.kind.value,
                                "start_minute": x.start_minute, "end_minute": x.end_minute} for x in schedule.exceptions]
            if expert_id in rewrite[ExpertTermRow]:
                index: dict[str, int] = {}
                for term, weight in expert_terms(expert.topics, expert.headline, expert.bio).items():
                    if term and index.get(term[:64], 0) < weight:  # a term cut to the column's size may meet another
                        index[term[:64]] = weight
                terms += [{"expert_id": expert_id, "term": t, "weight": w} for t, w in index.items()]
            if expert_id in rewrite[ExpertLanguageRow]:
                languages += [{"expert_id": expert_id, "code": c} for c in dict.fromkeys(expert.languages)]
        for table, child_rows in ((WeeklyWindowRow, windows), (AvailabilityExceptionRow, exceptions),
                                  (ExpertTermRow, terms), (ExpertLanguageRow, languages)):
            insert_rows(self.session, table.__table__, child_rows)
        return ids

    def add_rating(self, expert_id: int, stars: int) -> None:
        self.session.execute(
            update(ExpertRow).where(ExpertRow.id == expert_id)
            .values(rating_sum=ExpertRow.rating_sum + stars, rating_count=ExpertRow.rating_count + 1)
        )

    def remove_rating(self, expert_id: int, stars: int) -> None:
        self.session.execute(
            update(ExpertRow).where(ExpertRow.id == expert_id, ExpertRow.rating_count > 0,
                                    ExpertRow.rating_sum >= stars)
            .values(rating_sum=ExpertRow.rating_sum - stars, rating_count=ExpertRow.rating_count - 1)
        )

    def add_completed_session(self, expert_id: int) -> None:
        self.session.execute(
            update(ExpertRow).where(ExpertRow.id == expert_id).values(session_count=ExpertRow.session_count + 1)
        )

    def lock(self, expert_id: int, *, wallets_of: int | None = None) -> None:
        """PostgreSQL: a row lock until commit. SQLite: the transaction already holds the writer lock.
        The same statement loads the expert's profile (get() answers from it afterwards) and reads the
        calendar busy time for the availability check that follows the lock (schedule() and busy() use
        the rules, timezone and busy time once instead of asking again). A second lock() of the same
        expert before that check (the flow locks before it reads the expert at Confirm, the engine locks
        again) sends nothing.

        wallets_of: a client about to pay: their wallets are locked (after the expert, in id order, as
        credits.wallets_for(lock=True) locks them) and read in the same statement, and wallets_for
        answers from them."""
        if expert_id in self._locked and (wallets_of is None or self._credits is None
                                          or self._credits.locked_ahead(wallets_of)):
            return
        alone, with_wallets = _lock_statements(self.session.get_bind().dialect.name == "postgresql")
        if wallets_of is None or self._credits is None:
            found = self.session.execute(alone, {"expert_id": expert_id}).first()
            if found is not None:
                self._keep_locked(*found)
            return
        rows = self.session.execute(with_wallets, {"expert_id": expert_id, "wallets_of": wallets_of}).all()
        if not rows:
            return
        self._keep_locked(rows[0][0], rows[0][1], rows[0][2])
        self._credits.keep_locked(wallets_of, sorted(((r[3], r[4], r[5]) for r in rows if r[3] is not None),
                                                     key=lambda r: r[0].id))

    def _keep_locked(self, row: ExpertRow, person: PersonRow, spans: bytes | None) -> None:
        self._locked[row.id] = _Locked(row.id, row.min_notice_minutes, row.horizon_days, row.buffer_minutes,
                                       row.daily_cap, person.timezone, spans)

    # ---- availability

    def schedule(self, expert_id: int) -> Schedule:
        return self.schedules([expert_id])[expert_id]

    def schedules(self, expert_ids: Iterable[int]) -> dict[int, Schedule]:
        ids = list(expert_ids)
        if not ids:
            return {}
        if all(i in self._locked for i in ids):  # just read under the lock
            experts: Sequence[Any] = [self._locked[i] for i in ids]
        elif len(ids) == 1 and (kept := self._kept(ids[0])) is not None:  # a card just shown: no query
            experts = [kept]
        else:  # plain column rows, not ORM entities: this runs for every search candidate
            experts = self.session.execute(
                select(ExpertRow.id, ExpertRow.min_notice_minutes, ExpertRow.horizon_days, ExpertRow.buffer_minutes,
                       ExpertRow.daily_cap, PersonRow.timezone)
                .join(PersonRow, PersonRow.id == ExpertRow.person_id).where(ExpertRow.id.in_(ids))
            ).all()
        # Weekly windows and dated exceptions in one round trip: kind 'weekly' marks a window row.
        hours: CompoundSelect[Any] = union_all(
            select(WeeklyWindowRow.expert_id, literal("weekly").label("kind"), WeeklyWindowRow.weekday,
                   type_coerce(null(), Date).label("day"), WeeklyWindowRow.start_minute, WeeklyWindowRow.end_minute)
            .where(WeeklyWindowRow.expert_id.in_(ids)),
            select(AvailabilityExceptionRow.expert_id, AvailabilityExceptionRow.kind, null(),
                   AvailabilityExceptionRow.day, AvailabilityExceptionRow.start_minute, AvailabilityExceptionRow.end_minute)
            .where(AvailabilityExceptionRow.expert_id.in_(ids)),
        )
        windows: dict[int, list[Row[Any]]] = defaultdict(list)
        exceptions: dict[int, list[Row[Any]]] = defaultdict(list)
        for row in self.session.execute(hours):
            (windows if row.kind == "weekly" else exceptions)[row.expert_id].append(row)
        return {row.id: mapping.schedule(row.timezone, row, windows[row.id], exceptions[row.id]) for row in experts}

    def availability(
        self, expert_id: int, start: datetime, end: datetime, *, except_meetings: frozenset[int] = frozenset()
    ) -> tuple[Schedule, list[Busy]]:
        """schedule() and busy() together: the hours, days off and meetings in one query (and the rules and
        calendar busy time from lock(), when it was just called, as before a booking is checked; else the
        calendar busy time in the same query, with the rules of the expert this unit of work has loaded)."""
        rules: _Locked | _Rules | None = self._locked.get(expert_id)
        if rules is not None:
            del self._locked[expert_id]  # used once, as schedule() and busy() would
        else:
            rules = self._kept(expert_id)
            if rules is None:
                return self.schedule(expert_id), self.busy(expert_id, start, end, except_meetings=except_meetings)
        params: dict[str, Any] = {"expert_id": expert_id, "start": start, "end": end}
        if isinstance(rules, _Rules):  # not read with a lock: the calendar's busy time comes along here
            params["person_id"] = loaded(self.session, ExpertRow, expert_id).person_id
        rows = self.session.execute(_availability_statement("person_id" in params), params).all()
        windows = [r for r in rows if r.kind == "weekly"]
        exceptions = [r for r in rows if r.kind not in ("weekly", "meeting", "calendar")]
        busy = sorted(Busy(r.starts_at, r.ends_at) for r in rows
                      if r.kind == "meeting" and r.meeting_id not in except_meetings)
        spans = rules.spans if isinstance(rules, _Locked) else next((r.spans for r in rows if r.kind == "calendar"), None)
        if spans is not None:
            busy.extend(Busy(s, e, counts_toward_cap=False) for s, e in busy_spans.unpack(spans, start, end))
            busy.sort()
        return mapping.schedule(rules.timezone, rules, windows, exceptions), busy

    def availability_many(
        self, expert_ids: Sequence[int], start: datetime, end: datetime
    ) -> dict[int, tuple[Schedule, list[Busy]]]:
        """schedules() and busy_many() together: for experts search() has just returned, the hours, days off
        and meetings in one query (their rules and calendar busy time came with the search)."""
        ids = list(dict.fromkeys(expert_ids))
        if not all(i in self._searched for i in ids):
            schedules = self.schedules(ids)
            busy_of = self.busy_many(ids, start, end)
            return {i: (schedules[i], busy_of[i]) for i in ids}
        if not ids:
            return {}
        rows = self.session.execute(_availability_many_statement(), {"ids": ids, "start": start, "end": end}).all()
        windows: dict[int, list[Row[Any]]] = defaultdict(list)
        exceptions: dict[int, list[Row[Any]]] = defaultdict(list)
        meetings: dict[int, list[Busy]] = defaultdict(list)
        for row in rows:
            if row.kind == "weekly":
                windows[row.expert_id].append(row)
            elif row.kind == "meeting":
                meetings[row.expert_id].append(Busy(row.starts_at, row.ends_at))
            else:
                exceptions[row.expert_id].append(row)
        result: dict[int, tuple[Schedule, list[Busy]]] = {}
        for i in ids:
            rules = self._searched[i]
            busy = sorted(meetings[i])
            if rules.spans is not None:
                found = busy_spans.unpack(rules.spans, start, end)
                if found:
                    busy.extend(Busy(s, e, counts_toward_cap=False) for s, e in found)
                    busy.sort()
            result[i] = (mapping.schedule(rules.timezone, rules, windows[i], exceptions[i]), busy)
        return result

    def availability_ahead(self, expert_id: int, now: datetime, margin: timedelta) -> tuple[Schedule, list[Busy]]:
        """availability() from `now - margin` to the end of the expert's booking horizon plus `margin`: one
        query when this unit of work has loaded the expert (its horizon is known before asking)."""
        rules = self._kept(expert_id)
        if rules is None:
            schedule = self.schedule(expert_id)
            return schedule, self.busy(expert_id, now - margin, now + schedule.rules.horizon + margin)
        return self.availability(expert_id, now - margin, now + mapping.rules(rules).horizon + margin)

    def busy(
        self, expert_id: int, start: datetime, end: datetime, *, except_meetings: frozenset[int] = frozenset()
    ) -> list[Busy]:
        return self.busy_many([expert_id], start, end, except_meetings=except_meetings)[expert_id]

    def busy_many(
        self, expert_ids: Iterable[int], start: datetime, end: datetime, *, except_meetings: frozenset[int] = frozenset()
    ) -> dict[int, list[Busy]]:
        """Meetings held or confirmed, and the busy time of the expert's own connected calendars (joined,
        and not counted toward the daily cap: they are not sessions), by start."""
        ids = list(expert_ids)
        query = select(MeetingRow.expert_id, MeetingRow.id, MeetingRow.starts_at, MeetingRow.ends_at).where(
            MeetingRow.expert_id.in_(ids), MeetingRow.status.in_(ACTIVE),
            MeetingRow.starts_at < end, MeetingRow.ends_at > start,
        ).order_by(MeetingRow.starts_at)
        result: dict[int, list[Busy]] = {i: [] for i in ids}
        for expert_id, meeting_id, s, e in self.session.execute(query):
            if meeting_id not in except_meetings:
                result[expert_id].append(Busy(s, e))
        # A calendar's thousands of events are one packed row per expert (storage/busy_spans.py).
        if all(i in self._locked for i in ids):  # read with the lock: the check after it uses them once
            packed = [(i, self._locked.pop(i).spans) for i in ids]
        else:
            packed = [(r[0], r[1]) for r in self.session.execute(select(ExpertRow.id, CalendarBusyPackedRow.spans).join(
                CalendarBusyPackedRow, CalendarBusyPackedRow.person_id == ExpertRow.person_id,
            ).where(ExpertRow.id.in_(ids)))]
        for expert_id, spans in packed:
            if spans is None:
                continue
            found = busy_spans.unpack(spans, start, end)
            if found:
                result[expert_id].extend(Busy(s, e, counts_toward_cap=False) for s, e in found)
                result[expert_id].sort()  # two sorted runs: one merge
        return result

    # ---- discovery

    def search(self, query: SearchQuery, terms: Sequence[str], candidates: int) -> list[SearchHit]:
        """Experts matching the terms and filters, best score first; availability is ranked by the caller."""
        f = query.filters
        conditions: list[ColumnElement[bool]] = [ExpertRow.active.is_(True), ExpertRow.paused_at.is_(None)]  # paused: not offered
        if f.pro_bono is True:
            conditions.append(ExpertRow.kind == ExpertKind.PRO_BONO.value)
        elif f.pro_bono is False:
            conditions.append(ExpertRow.kind == ExpertKind.COMPENSATED.value)
        if f.max_multiplier is not None:
            conditions.append(or_(ExpertRow.kind == ExpertKind.PRO_BONO.value, ExpertRow.rate_multiplier <= f.max_multiplier))
        if f.max_hourly_minor is not None:
            conditions.append(or_(
                ExpertRow.kind == ExpertKind.PRO_BONO.value,
                ExpertRow.hourly_rate_minor.is_(None),  # priced in credits only
                and_(ExpertRow.currency == f.currency, ExpertRow.hourly_rate_minor <= f.max_hourly_minor),
            ))
        if f.language:
            conditions.append(exists().where(
                ExpertLanguageRow.expert_id == ExpertRow.id, ExpertLanguageRow.code == f.language.lower()
            ))
        if f.min_rating is not None:
            # exact: sum / count >= p / q  <=>  sum * q >= p * count (4.25 must not admit 4.2)
            p, q = Decimal(str(f.min_rating)).as_integer_ratio()
            conditions.append(and_(ExpertRow.rating_count > 0, ExpertRow.rating_sum * q >= p * ExpertRow.rating_count))
        if f.only_expert_ids is not None:
            if not f.only_expert_ids:
                return []
            conditions.append(ExpertRow.id.in_(sorted(f.only_expert_ids)))
        if terms:
            # Score on the index alone (term, expert_id, weight), then filter the scored experts by primary key.
            scored = (
                select(ExpertTermRow.expert_id, func.sum(ExpertTermRow.weight).label("score"))
                .where(ExpertTermRow.term.in_(list(terms)))
                .group_by(ExpertTermRow.expert_id)
                .subquery()
            )
            stmt = (
                select(ExpertRow.id, scored.c.score, ExpertRow.rating_sum, ExpertRow.rating_count)
                .join(scored, scored.c.expert_id == ExpertRow.id)
                .where(*conditions)
                .order_by(scored.c.score.desc(), ExpertRow.id)
                .limit(candidates)
            )
        else:
            stmt = (
                select(ExpertRow.id, ExpertRow.rating_count.label("score"), ExpertRow.rating_sum, ExpertRow.rating_count)
                .where(*conditions)
                .order_by(ExpertRow.rating_count.desc(), ExpertRow.id)
                .limit(candidates)
            )
        # The candidates' rules, timezone and calendar busy time come along (joined after the LIMIT): the
        # availability ranking that follows (availability_many) needs no query of its own for them.
        ranked = stmt.subquery()
        rows = self.session.execute(
            select(ranked.c.id, ranked.c.score, ranked.c.rating_sum, ranked.c.rating_count, ExpertRow.min_notice_minutes,
                   ExpertRow.horizon_days, ExpertRow.buffer_minutes, ExpertRow.daily_cap, PersonRow.timezone,
                   CalendarBusyPackedRow.spans)
            .select_from(ranked)
            .join(ExpertRow, ExpertRow.id == ranked.c.id)
            .join(PersonRow, PersonRow.id == ExpertRow.person_id)
            .outerjoin(CalendarBusyPackedRow, CalendarBusyPackedRow.person_id == ExpertRow.person_id)
            .order_by(ranked.c.score.desc(), ranked.c.id)
        ).all()
        for r in rows:
            self._searched[r.id] = _Locked(r.id, r.min_notice_minutes, r.horizon_days, r.buffer_minutes, r.daily_cap,
                                           r.timezone, r.spans)
        if terms:
            return [SearchHit(r.id, int(r.score), r.rating_sum, r.rating_count) for r in rows]
        return [SearchHit(r.id, 0, r.rating_sum, r.rating_count) for r in rows]
