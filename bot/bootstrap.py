"""The composition root: a process's engine, clock, policy and dispatcher, built from the environment in
one place. Every part of a process (its chat runtimes, the dashboard, calendar feeds, the scheduler's
jobs) takes them from here, so a process has one connection pool, one clock and one set of rules."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from core.clock import Clock, SystemClock
from core.policy import Policy
from bot.dispatcher import Dispatcher
from bot.flows import all_flows
from bot.router import CHAT_PLATFORMS, Router
from bot.settings import enabled_platforms, policy, smtp_url
from storage.db import make_engine
from storage.uow import SqlUnitOfWork


@dataclass(frozen=True, slots=True)
class Parts:
    engine: Engine
    clock: Clock
    policy: Policy
    dispatcher: Dispatcher

    @property
    def uow(self) -> Callable[[], SqlUnitOfWork]:
        """A new unit of work (one transaction) on the process's engine and clock."""
        return self.dispatcher.uow_factory


def build(*, console: bool = False, with_flows: bool = True, engine: Engine | None = None,
          platforms: Sequence[str] | None = None) -> Parts:
    """The parts of one process. console: the local chat (notices stay in the console); otherwise notices
    go to every chat platform this deployment has a token for, and are queued for the others' processes.
    with_flows=False: a process that runs no conversation (the dashboard's notices only).
    ValueError (one line) for a setting that is wrong, e.g. REQUEST_EXPIRY."""
    rules = policy()
    engine = engine or make_engine()
    clock = SystemClock()

    def factory() -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, clock)

    if console:
        router = Router(["console"])
    else:
        chats = list(platforms) if platforms is not None else enabled_platforms()
        router = Router(chats, reach_beyond=CHAT_PLATFORMS)
    dispatcher = Dispatcher(factory, clock, all_flows() if with_flows else [], router,
                            email_enabled=not console and smtp_url() is not None, policy=rules)
    return Parts(engine, clock, rules, dispatcher)
