"""Put validated expert rows into the database: all of them or none."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.expert_import import ExpertRecord, RowError
from core.experts import Expert
from core.model import Person
from core.ports import UnitOfWork
from core.schedule import BookingRules, Schedule


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    created: int
    updated: int
    errors: tuple[RowError, ...]


def import_experts(uow: UnitOfWork, records: Sequence[ExpertRecord]) -> ImportOutcome:
    """Create or update by handle. A chat id that already belongs to someone else is a row error.

    The caller commits only when `errors` is empty, so a bad file changes nothing.
    """
    created = updated = 0
    errors: list[RowError] = []
    for record in records:
        person = uow.people.by_handle(record.handle)
        for column, value, finder in (
            ("slack_user_id", record.slack_user_id, uow.people.by_slack),
            ("telegram_user_id", record.telegram_user_id, uow.people.by_telegram),
        ):
            if value is None:
                continue
            owner = finder(value)  # type: ignore[operator]
            if owner is not None and (person is None or owner.id != person.id):
                errors.append(RowError(record.line, column, f"{value} already belongs to @{owner.handle}"))
        if errors and errors[-1].line == record.line:
            continue
        if person is None:
            person = uow.people.add(Person(
                None, record.handle, record.name, timezone=record.timezone, email=record.email,
                slack_user_id=record.slack_user_id, telegram_user_id=record.telegram_user_id,
            ))
            created += 1
        else:
            person.name, person.timezone, person.email = record.name, record.timezone, record.email
            person.slack_user_id = record.slack_user_id or person.slack_user_id
            person.telegram_user_id = record.telegram_user_id or person.telegram_user_id
            uow.people.save(person)
            updated += 1
        existing = uow.experts.by_person(person.id or 0)
        uow.experts.put(
            Expert(
                id=existing.id if existing else None, person_id=person.id, handle=record.handle, name=record.name,
                timezone=record.timezone, kind=record.kind, headline=record.headline, bio=record.bio,
                topics=record.topics, languages=record.languages, rate_multiplier=record.rate_multiplier,
                hourly_rate=record.hourly_rate, meeting_link=record.meeting_link,
            ),
            _schedule(uow, record, existing),
        )
    return ImportOutcome(created, updated, tuple(errors))


def _schedule(uow: UnitOfWork, record: ExpertRecord, existing: Expert | None) -> Schedule:
    """A re-import replaces weekly hours but keeps the days off and booking rules set in the chat."""
    if existing is None or existing.id is None:
        return Schedule(record.timezone, record.weekly, (), BookingRules())
    current = uow.experts.schedule(existing.id)
    return Schedule(record.timezone, record.weekly, current.exceptions, current.rules)
