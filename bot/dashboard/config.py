"""What the dashboard needs from the process: a database, a clock, the public base URL, and a way to queue
the chat messages a staff action causes (a triage approval puts the request in front of the expert)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from typing import TYPE_CHECKING

from core.clock import Clock
from storage.uow import SqlUnitOfWork

if TYPE_CHECKING:
    from bot.bootstrap import Parts

Notify = Callable[[SqlUnitOfWork, str, int | None], None]  # (unit of work with events, key prefix, actor)


@dataclass(frozen=True)
class DashboardConfig:
    uow_factory: Callable[[], SqlUnitOfWork]
    clock: Clock
    public_url: str | None
    notify: Notify

    @classmethod
    def from_env(cls) -> DashboardConfig:
        """For an app built without the process's parts: DATABASE_URL, PUBLIC_URL, notices routed like the
        chat processes route them."""
        from bot.bootstrap import build

        return cls.from_parts(build(with_flows=False))

    @classmethod
    def from_parts(cls, parts: Parts) -> DashboardConfig:
        """The web process's own engine, clock and dispatcher (bot.bootstrap)."""
        from bot.settings import public_url

        return cls(parts.uow, parts.clock, public_url(), notices_through(parts.dispatcher))


def notices_through(dispatcher: object) -> Notify:
    """Turn the events in a unit of work into outbox rows, as the dispatcher does after a chat step; the chat
    processes deliver them (rows queued by another process go out within a second)."""
    from bot.dispatcher import Dispatcher
    from bot.notifications import event_notices

    assert isinstance(dispatcher, Dispatcher)

    def notify(uow: SqlUnitOfWork, key_prefix: str, actor_id: int | None) -> None:
        for notice in event_notices(uow, uow.events, key_prefix=key_prefix, actor_id=actor_id):
            dispatcher.queue_notice(uow, notice)

    return notify
