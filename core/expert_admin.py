"""Staff look after the experts on their programme's roster: booking rules (minimum notice, horizon,
buffer, daily cap) and pausing. The operator (actor None) may do it for any expert.

Paused means: no new requests (request_booking refuses with "expert_paused", and so does a triage
reassignment to them), and discovery does not offer them (search leaves them out). What is already
booked or waiting for their answer carries on: they can still accept, decline, suggest times, and their
confirmed meetings stay. A paused expert's rules and hours are kept for when they are resumed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from core.clock import Clock
from core.errors import InvalidSession, NotFound
from core.experts import Expert
from core.ports import UnitOfWork
from core.schedule import BookingRules
from core.staff import StaffAction
from core.staff_access import require_staff_for_expert
from core.unset import UNSET, Unset

MAX_NOTICE = timedelta(days=30)
MAX_HORIZON = timedelta(days=365)
MAX_BUFFER = timedelta(hours=4)
MAX_DAILY_CAP = 48
NOTE_MAX = 300

def _expert(uow: UnitOfWork, expert_id: int, actor_id: int | None) -> tuple[Expert, int | None]:
    expert = uow.experts.get(expert_id)
    if expert is None:
        raise NotFound(f"no expert {expert_id}", reason="expert_not_found")
    programme_id = None
    if actor_id is not None:
        programme_id = min(require_staff_for_expert(uow, actor_id, expert_id))
    return expert, programme_id


def check_rules(rules: BookingRules) -> BookingRules:
    """Within bounds a person can mean, whole minutes; InvalidSession names the first that is not."""
    for value, top, name in ((rules.min_notice, MAX_NOTICE, "notice"), (rules.horizon, MAX_HORIZON, "horizon"),
                             (rules.buffer, MAX_BUFFER, "buffer")):
        if value < timedelta(0) or value > top or value.total_seconds() % 60:
            raise InvalidSession(f"{name} must be whole minutes between 0 and {top}", reason=f"bad_{name}")
    if rules.horizon < timedelta(days=1) or rules.horizon.total_seconds() % 86400:
        raise InvalidSession("the horizon is whole days, at least 1", reason="bad_horizon")
    if rules.horizon <= rules.min_notice:
        raise InvalidSession("the horizon must be longer than the notice", reason="bad_horizon")
    if rules.daily_cap is not None and not 1 <= rules.daily_cap <= MAX_DAILY_CAP:
        raise InvalidSession(f"a daily cap is 1 to {MAX_DAILY_CAP} meetings, or none", reason="bad_daily_cap")
    return rules


def set_booking_rules(
    uow: UnitOfWork, clock: Clock, *, expert_id: int, actor_id: int | None = None,
    min_notice: timedelta | None = None, horizon: timedelta | None = None, buffer: timedelta | None = None,
    daily_cap: int | None | Unset = UNSET,
) -> BookingRules:
    """Change the rules given (daily_cap None: no cap); the others stay. Returns the rules now in force."""
    expert, programme_id = _expert(uow, expert_id, actor_id)
    current = uow.experts.schedule(expert_id).rules
    new = replace(
        current,
        min_notice=current.min_notice if min_notice is None else min_notice,
        horizon=current.horizon if horizon is None else horizon,
        buffer=current.buffer if buffer is None else buffer,
        daily_cap=current.daily_cap if daily_cap is UNSET else daily_cap,
    )
    check_rules(new)
    if new != current:
        uow.programmes.set_expert_rules(expert_id, new)
        now = clock.now()
        uow.programmes.log(StaffAction(
            key=f"rules:{expert_id}:{now.isoformat()}", action="rules", programme_id=programme_id, actor_id=actor_id,
            created_at=now, subject=f"@{expert.handle}", note=describe(new)))
    return new


def describe(rules: BookingRules) -> str:
    cap = str(rules.daily_cap) if rules.daily_cap is not None else "none"
    return (f"notice {int(rules.min_notice.total_seconds() // 60)} min, horizon {rules.horizon.days} days, "
            f"buffer {int(rules.buffer.total_seconds() // 60)} min, daily cap {cap}")


def pause_expert(uow: UnitOfWork, clock: Clock, *, expert_id: int, actor_id: int | None = None, note: str = "") -> bool:
    """False if they were paused already (a second press changes nothing)."""
    expert, programme_id = _expert(uow, expert_id, actor_id)
    if expert.paused_at is not None:
        return False
    now = clock.now()
    note = " ".join(note.split())[:NOTE_MAX]
    uow.programmes.set_paused(expert_id, now, note)
    uow.programmes.log(StaffAction(key=f"pause:{expert_id}:{now.isoformat()}", action="pause",
                                   programme_id=programme_id, actor_id=actor_id, created_at=now,
                                   subject=f"@{expert.handle}", note=note))
    return True


def resume_expert(uow: UnitOfWork, clock: Clock, *, expert_id: int, actor_id: int | None = None) -> bool:
    expert, programme_id = _expert(uow, expert_id, actor_id)
    if expert.paused_at is None:
        return False
    now = clock.now()
    uow.programmes.set_paused(expert_id, None)
    uow.programmes.log(StaffAction(key=f"resume:{expert_id}:{now.isoformat()}", action="resume",
                                   programme_id=programme_id, actor_id=actor_id, created_at=now,
                                   subject=f"@{expert.handle}"))
    return True
