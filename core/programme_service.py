"""Setting a programme up and keeping it running: its settings, its companies and their allocations,
its staff and its roster of experts. The operator (the command line, actor None) may do everything;
staff (actor_id) only within their own programmes.

Allocations top up: a founder joining a programme receives `credits_per_founder`, a company joining it its
own `credits_milli` or the programme's `credits_per_company`; raising either later grants the difference
to everyone already there, and lowering it never takes anything back (staff revoke for that). Each top-up
is a grant under a key naming the wallet owner, the programme and the target, so running it twice, or from
two processes, grants once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from core.credit_service import grant
from core.credits import Source
from core.errors import InvalidSession, NotAllowed, NotFound
from core.lifecycle import PairingMode
from core.model import Company, Person, Programme
from core.ports import UnitOfWork
from core.sessions import ALL_LENGTHS, SessionRules
from core.staff import StaffAction
from core.staff_access import require_staff
from core.unset import UNSET, Unset

NAME_MAX = 120
MAX_ALLOCATION_MILLI = 100_000 * 1000

PAIRING_WORDS: dict[str, PairingMode] = {
    "self-select": PairingMode.SELF_SELECT,
    "admin-assigned": PairingMode.ADMIN_ASSIGNED,
    "triage-first": PairingMode.TRIAGE_FIRST,
}


def pairing_word(mode: PairingMode) -> str:
    return next(word for word, m in PAIRING_WORDS.items() if m is mode)


def parse_pairing(text: str) -> PairingMode:
    key = text.strip().lower().replace("_", "-").replace(" ", "-")
    if key in PAIRING_WORDS:
        return PAIRING_WORDS[key]
    raise ValueError(f"pairing {text!r}: use one of {', '.join(PAIRING_WORDS)}")


def parse_lengths(text: str) -> tuple[int, ...]:
    """ "30,60" -> (30, 60): minutes among 15, 30, ... 90."""
    out: list[int] = []
    for part in (p.strip() for p in text.replace(";", ",").split(",")):
        if not part:
            continue
        if not part.isascii() or not part.isdigit() or int(part) not in ALL_LENGTHS:
            raise ValueError(f"meeting length {part!r}: use minutes among {', '.join(map(str, ALL_LENGTHS))}")
        out.append(int(part))
    if not out:
        raise ValueError("give at least one meeting length, e.g. 30,60")
    return tuple(sorted(set(out)))


def _check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > NAME_MAX or any(ord(c) < 32 for c in name):
        raise InvalidSession(f"a name of 1 to {NAME_MAX} printable characters", reason="bad_name")
    return name


def _check_allocation(milli: int | None, what: str) -> None:
    if milli is not None and not 0 <= milli <= MAX_ALLOCATION_MILLI:
        raise InvalidSession(f"{what} between 0 and 100,000 credits", reason="bad_amount")


def _log(uow: UnitOfWork, now: datetime, key: str, action: str, programme_id: int | None, actor_id: int | None,
         subject: str = "", note: str = "", amount: int | None = None) -> None:
    uow.programmes.log(StaffAction(key=key, action=action, programme_id=programme_id, actor_id=actor_id,
                                   created_at=now, subject=subject[:200], note=note[:500], amount_milli=amount))


# ---------------------------------------------------------------- programmes


def create_programme(
    uow: UnitOfWork, *, name: str, pairing: PairingMode, lengths: tuple[int, ...],
    credits_per_founder: int = 0, credits_per_company: int = 0, max_meetings: int | None = None,
    relay_days: int = 30,
) -> Programme:
    """The operator creates a programme (its staff come with the members CSV)."""
    name = _check_name(name)
    if uow.programmes.by_name(name) is not None:
        raise NotAllowed(f"a programme called {name!r} exists already", reason="programme_exists")
    _check_allocation(credits_per_founder, "credits per founder")
    _check_allocation(credits_per_company, "credits per company")
    try:
        rules = SessionRules(lengths, max_meetings)
    except ValueError as exc:
        raise InvalidSession(str(exc), reason="bad_lengths") from exc
    _check_relay_days(relay_days)
    return uow.people.add_programme(Programme(0, name, pairing, rules, credits_per_founder, credits_per_company,
                                              relay_days))


RELAY_DAYS_MAX = 3650


def _check_relay_days(days: int) -> int:
    """Days after the last meeting that client and mentor can write to each other: 0 (never) to ten years."""
    if not 0 <= days <= RELAY_DAYS_MAX:
        raise InvalidSession(f"relay days must be 0 to {RELAY_DAYS_MAX}", reason="bad_relay_days")
    return days


@dataclass(frozen=True, slots=True)
class TopUps:
    founders: int = 0
    companies: int = 0
    milli: int = 0


def update_programme(
    uow: UnitOfWork, now: datetime, *, programme_id: int, actor_id: int | None = None, name: str | None = None,
    pairing: PairingMode | None = None, lengths: tuple[int, ...] | None = None,
    credits_per_founder: int | None = None, credits_per_company: int | None = None,
    max_meetings: int | None | Unset = UNSET, relay_days: int | None = None,
) -> tuple[Programme, TopUps]:
    """Change what was given; a raised allocation tops up everyone already in the programme."""
    if actor_id is not None:
        require_staff(uow, actor_id, programme_id)
    current = uow.people.programme(programme_id)
    if current is None:
        raise NotFound(f"no programme {programme_id}", reason="programme_not_found")
    changed = current
    if name is not None and _check_name(name) != current.name:
        other = uow.programmes.by_name(name)
        if other is not None and other.id != programme_id:
            raise NotAllowed(f"a programme called {name!r} exists already", reason="programme_exists")
        changed = replace(changed, name=_check_name(name))
    if pairing is not None:
        changed = replace(changed, pairing_mode=pairing)
    if lengths is not None or max_meetings is not UNSET:
        try:
            rules = SessionRules(lengths or current.rules.allowed_lengths,
                                 current.rules.max_meetings if max_meetings is UNSET else max_meetings)
        except ValueError as exc:
            raise InvalidSession(str(exc), reason="bad_lengths") from exc
        changed = replace(changed, rules=rules)
    _check_allocation(credits_per_founder, "credits per founder")
    _check_allocation(credits_per_company, "credits per company")
    if credits_per_founder is not None:
        changed = replace(changed, credits_per_founder=credits_per_founder)
    if credits_per_company is not None:
        changed = replace(changed, credits_per_company=credits_per_company)
    if relay_days is not None:
        changed = replace(changed, relay_days=_check_relay_days(relay_days))
    if changed != current:
        uow.programmes.update(changed)
        _log(uow, now, f"programme:{programme_id}:{now.isoformat()}", "programme_set", programme_id, actor_id,
             subject=changed.name)
    return changed, allocate_programme(uow, changed)


def allocate_programme(uow: UnitOfWork, programme: Programme) -> TopUps:
    """Top every company and founder of the programme up to its allocations (idempotent)."""
    founders = companies = total = 0
    for company in uow.programmes.companies(programme.id):
        given = allocate_company(uow, company, programme)
        companies += bool(given)
        total += given
    for person in uow.programmes.founders(programme.id):
        given = allocate_founder(uow, person, programme)
        founders += bool(given)
        total += given
    return TopUps(founders, companies, total)


def _top_up(uow: UnitOfWork, prefix: str, target: int, **owner: int) -> int:
    if target <= 0:
        return 0
    missing = target - uow.programmes.granted_under(f"grant:{prefix}")
    if missing <= 0:
        return 0
    applied = grant(uow, key=f"{prefix}{target}", amount_milli=missing, source=Source.PROGRAMME,
                    note="programme allocation", **owner)
    return missing if applied else 0


def allocate_company(uow: UnitOfWork, company: Company, programme: Programme) -> int:
    target = company.credits_milli if company.credits_milli is not None else programme.credits_per_company
    return _top_up(uow, f"alloc:company:{company.id}:{programme.id}:", target, company_id=company.id)


def allocate_founder(uow: UnitOfWork, person: Person, programme: Programme) -> int:
    assert person.id is not None
    return _top_up(uow, f"alloc:founder:{person.id}:{programme.id}:", programme.credits_per_founder, person_id=person.id)


# ---------------------------------------------------------------- companies


def put_company(
    uow: UnitOfWork, now: datetime, *, name: str, programme_id: int, credits_milli: int | None | Unset = UNSET,
    actor_id: int | None = None,
) -> tuple[Company, int]:
    """Create a company in a programme, or change its allocation; returns it and the credits topped up.
    A company stays in its programme: moving one is refused (its credits and sessions belong there)."""
    if actor_id is not None:
        require_staff(uow, actor_id, programme_id)
    programme = uow.people.programme(programme_id)
    if programme is None:
        raise NotFound(f"no programme {programme_id}", reason="programme_not_found")
    if credits_milli is not UNSET:
        _check_allocation(credits_milli, "a company's credits")
    company = uow.people.company_by_name(_check_name(name), any_case=True)
    if company is None:
        company = uow.people.add_company(_check_name(name), programme_id)
    elif company.programme_id != programme_id:
        raise NotAllowed(f"{company.name} belongs to another programme", reason="other_programme")
    if credits_milli is not UNSET and credits_milli != company.credits_milli:
        uow.programmes.set_company(company.id, programme_id=programme_id, credits_milli=credits_milli)
        company = replace(company, credits_milli=credits_milli)
        _log(uow, now, f"company:{company.id}:{now.isoformat()}", "company_set", programme_id, actor_id,
             subject=company.name, amount=company.credits_milli)
    return company, allocate_company(uow, company, programme)


# ---------------------------------------------------------------- staff and roster


def set_staff_roles(uow: UnitOfWork, now: datetime, *, person_id: int, programme_ids: frozenset[int],
                    actor_id: int | None = None) -> None:
    """Exactly these programmes for this person. Staff may only add or remove their own programmes."""
    current = uow.programmes.staff_programmes(person_id)
    if actor_id is not None:
        for programme_id in current ^ programme_ids:
            require_staff(uow, actor_id, programme_id)
    if current != programme_ids:
        uow.programmes.set_staff(person_id, programme_ids)
        person = uow.people.get(person_id)
        for programme_id in current ^ programme_ids:
            _log(uow, now, f"staff:{person_id}:{programme_id}:{now.isoformat()}",
                 "staff_added" if programme_id in programme_ids else "staff_removed", programme_id, actor_id,
                 subject=f"@{person.handle}" if person else "")


def add_to_roster(uow: UnitOfWork, now: datetime, *, programme_id: int, expert_id: int,
                  actor_id: int | None = None) -> bool:
    if actor_id is not None:
        require_staff(uow, actor_id, programme_id)
    expert = uow.experts.get(expert_id)
    if expert is None:
        raise NotFound(f"no expert {expert_id}", reason="expert_not_found")
    added = uow.programmes.add_to_roster(programme_id, expert_id)
    if added:
        _log(uow, now, f"roster:{programme_id}:{expert_id}:{now.isoformat()}", "roster_added", programme_id, actor_id,
             subject=f"@{expert.handle}")
    return added


def remove_from_roster(uow: UnitOfWork, now: datetime, *, programme_id: int, expert_id: int,
                       actor_id: int | None = None) -> bool:
    if actor_id is not None:
        require_staff(uow, actor_id, programme_id)
    removed = uow.programmes.remove_from_roster(programme_id, expert_id)
    if removed:
        _log(uow, now, f"roster:{programme_id}:{expert_id}:{now.isoformat()}:out", "roster_removed", programme_id,
             actor_id, subject=str(expert_id))
    return removed


def assign_expert(uow: UnitOfWork, now: datetime, *, company_id: int, expert_id: int,
                  actor_id: int | None = None) -> bool:
    """Admin-assigned pairing: the company may book this expert. Staff only for their programme's companies.
    False if it was assigned already."""
    company = uow.people.company(company_id)
    if company is None:
        raise NotFound(f"no company {company_id}", reason="company_not_found")
    if actor_id is not None:
        require_staff(uow, actor_id, company.programme_id)
    expert = uow.experts.get(expert_id)
    if expert is None:
        raise NotFound(f"no expert {expert_id}", reason="expert_not_found")
    added = uow.people.assign_expert(company_id, expert_id)
    if added:
        _log(uow, now, f"assign:{company_id}:{expert_id}", "assign", company.programme_id, actor_id,
             subject=f"@{expert.handle} to {company.name}")
    return added
