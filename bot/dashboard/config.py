"""What the dashboard needs from the process: a database, a clock, the public base URL, and a way to queue
the chat messages a staff action causes (a triage approval puts the request in front of the expert)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.clock import Clock, SystemClock
from storage.uow import SqlUnitOfWork

Notify = Callable[[SqlUnitOfWork, str, int | None], None]  # (unit of work with events, key prefix, actor)


@dataclass(frozen=True)
class DashboardConfig:
    uow_factory: Callable[[], SqlUnitOfWork]
    clock: Clock
    public_url: str | None
    notify: Notify

    @classmethod
    def from_env(cls) -> DashboardConfig:
        """The web process's: DATABASE_URL, PUBLIC_URL, and notices routed like the chat processes route them."""
        from bot.dispatcher import Dispatcher
        from bot.router import Router
        from bot.settings import enabled_platforms, public_url, smtp_url
        from storage.db import make_engine

        engine = make_engine()
        clock = SystemClock()

        def factory() -> SqlUnitOfWork:
            return SqlUnitOfWork(engine, clock)

        dispatcher = Dispatcher(factory, clock, [], Router(enabled_platforms() or ["console"]),
                                email_enabled=smtp_url() is not None)
        return cls(factory, clock, public_url(), notices_through(dispatcher))


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
