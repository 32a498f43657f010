"""Put validated expert rows into the database: all of them or none, a batch of rows at a time.

A row is matched to people by its handle. A handle that is new makes a new person and expert; a handle
of an expert updates them. A handle of someone who is here but not an expert (a founder, staff) is a
row error, because a sheet must not quietly take over a person's account; `link_existing` makes them
an expert on purpose, and then who they are stays theirs: their name, email and chat accounts are kept
(only what they lack is filled in from the row, and a different chat account in the row is an error),
while the expert profile, the weekly hours and the timezone those hours are written in come from the
row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from core.expert_import import ExpertRecord, RowError
from core.experts import Expert
from core.model import Person
from core.ports import UnitOfWork
from core.schedule import BookingRules, Schedule

BATCH = 1000  # rows looked up and written together: a few statements per batch instead of a dozen per row


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    created: int
    updated: int
    errors: tuple[RowError, ...]
    linked: int = 0  # existing people made experts (link_existing)


@dataclass(frozen=True, slots=True)
class _Plan:
    record: ExpertRecord
    person: Person | None  # None: a new person
    expert_id: int | None  # None: not an expert yet


def import_experts(
    uow: UnitOfWork, records: Sequence[ExpertRecord], *, link_existing: bool = False,
    progress: Callable[[int], None] | None = None, batch: int = BATCH,
) -> ImportOutcome:
    """Create or update by handle, `batch` rows at a time. Every row is checked (a chat id that belongs to
    someone else, a person who is not an expert) so all errors are reported; after the first error
    nothing more is written. The caller commits only when `errors` is empty, so a bad file changes
    nothing. progress(rows done) after each batch."""
    created = updated = linked = 0
    errors: list[RowError] = []
    for start in range(0, len(records), batch):
        plans = _check(uow, records[start:start + batch], link_existing, errors)
        if not errors:
            new, updates, links = _write(uow, plans)
            created, updated, linked = created + new, updated + updates, linked + links
        if progress is not None:
            progress(min(start + batch, len(records)))
    if errors:
        return ImportOutcome(0, 0, tuple(errors))
    return ImportOutcome(created, updated, (), linked)


def _check(uow: UnitOfWork, chunk: Sequence[ExpertRecord], link_existing: bool, errors: list[RowError]) -> list[_Plan]:
    found = uow.people.matching([r.handle for r in chunk], [r.slack_user_id for r in chunk if r.slack_user_id],
                                [r.telegram_user_id for r in chunk if r.telegram_user_id])
    people = {p.handle: p for p in found}
    slack_owners = {p.slack_user_id: p for p in found if p.slack_user_id}
    telegram_owners = {p.telegram_user_id: p for p in found if p.telegram_user_id is not None}
    experts = uow.experts.ids_by_person([p.id for p in people.values() if p.id is not None])
    plans: list[_Plan] = []
    for record in chunk:
        person = people.get(record.handle)
        expert_id = experts.get(person.id) if person is not None and person.id is not None else None
        problems: list[RowError] = []
        for column, value, owner in (
            ("slack_user_id", record.slack_user_id, slack_owners.get(record.slack_user_id or "")),
            ("telegram_user_id", record.telegram_user_id, telegram_owners.get(record.telegram_user_id or 0)),
        ):
            if value is not None and owner is not None and (person is None or owner.id != person.id):
                problems.append(RowError(record.line, column, f"{value} already belongs to @{owner.handle}"))
        if person is not None and expert_id is None:
            if not link_existing:
                problems.append(RowError(
                    record.line, "handle",
                    f"@{record.handle} is {person.name}, who is already here and is not an expert; to make them "
                    "one, import with --link-existing (their name, email and chat accounts are kept)"))
            else:
                problems += _own_accounts(record, person)
        if problems:
            errors.extend(problems)
        else:
            plans.append(_Plan(record, person, expert_id))
    return plans


def _own_accounts(record: ExpertRecord, person: Person) -> list[RowError]:
    """Linking keeps the chat accounts a person has; a row naming different ones is a mistake somewhere."""
    problems = []
    for column, theirs, given in (("slack_user_id", person.slack_user_id, record.slack_user_id),
                                  ("telegram_user_id", person.telegram_user_id, record.telegram_user_id)):
        if theirs is not None and given is not None and theirs != given:
            problems.append(RowError(record.line, column, f"@{person.handle} already uses {theirs}, not {given}: "
                                                          "leave it empty or fix it"))
    return problems


def _write(uow: UnitOfWork, plans: Sequence[_Plan]) -> tuple[int, int, int]:
    new = [
        (plan, Person(None, plan.record.handle, plan.record.name, timezone=plan.record.timezone, email=plan.record.email,
                      slack_user_id=plan.record.slack_user_id, telegram_user_id=plan.record.telegram_user_id))
        for plan in plans if plan.person is None
    ]
    uow.people.add_many([person for _, person in new])
    people = {plan.record.handle: person for plan, person in new}
    changed: list[Person] = []
    updated = linked = 0
    for plan in plans:
        person, record = plan.person, plan.record
        if person is None:
            continue
        before = replace(person)
        if plan.expert_id is not None:  # an expert: the sheet is where their details live
            person.name, person.email = record.name, record.email
            person.slack_user_id = record.slack_user_id or person.slack_user_id
            person.telegram_user_id = record.telegram_user_id or person.telegram_user_id
            updated += 1
        else:  # linked on purpose: who they are stays theirs; only what they lack comes from the row
            person.email = person.email or record.email
            person.slack_user_id = person.slack_user_id or record.slack_user_id
            person.telegram_user_id = person.telegram_user_id or record.telegram_user_id
            linked += 1
        person.timezone = record.timezone  # the weekly hours are written in this zone
        if person != before:
            changed.append(person)
        people[record.handle] = person
    uow.people.save_many(changed)
    existing = [plan.expert_id for plan in plans if plan.expert_id is not None]
    schedules = uow.experts.schedules(existing)
    uow.experts.put_many([(_expert(plan, people[plan.record.handle]), _schedule(plan, schedules)) for plan in plans],
                         current=schedules)
    return len(new), updated, linked


def _expert(plan: _Plan, person: Person) -> Expert:
    record = plan.record
    return Expert(
        id=plan.expert_id, person_id=person.id, handle=record.handle, name=person.name,
        timezone=record.timezone, kind=record.kind, headline=record.headline, bio=record.bio, topics=record.topics,
        languages=record.languages, rate_multiplier=record.rate_multiplier, hourly_rate=record.hourly_rate,
        meeting_link=record.meeting_link,
    )


def _schedule(plan: _Plan, schedules: dict[int, Schedule]) -> Schedule:
    """A re-import replaces weekly hours but keeps the days off and booking rules set in the chat."""
    current = schedules.get(plan.expert_id) if plan.expert_id is not None else None
    if current is None:
        return Schedule(plan.record.timezone, plan.record.weekly, (), BookingRules())
    return Schedule(plan.record.timezone, plan.record.weekly, current.exceptions, current.rules)
