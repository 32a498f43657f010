"""A process says it is alive, every few seconds, for every lease owner it runs (its intake worker, its
outbox senders). When it dies the beats stop, its heartbeat expires within `dead_after`, and any live
process takes over what it held; a clean stop says goodbye, so that happens at once."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from datetime import timedelta

from storage.errors import one_line
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

GOODBYE_SECONDS = 1.0  # a stop waits no longer for its goodbye (the database may be locked or away)


class Heartbeat:
    def __init__(self, uow_factory: Callable[[], SqlUnitOfWork], kind: str, *, interval: float = 2.0,
                 dead_after: float = 10.0) -> None:
        self.uow_factory = uow_factory
        self.kind = kind
        self.interval = interval
        self.dead_after = timedelta(seconds=dead_after)
        self.owners: list[str] = []
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    def add(self, owner: str) -> None:
        if owner not in self.owners:
            self.owners.append(owner)

    def beat(self) -> None:
        """One beat (blocking). The first is taken before any lease, so no lease is ever held by an owner
        that has no heartbeat row."""
        with self.uow_factory() as uow:
            uow.heartbeats.beat(self.owners, kind=self.kind, host=socket.gethostname(), pid=os.getpid(),
                                dead_after=self.dead_after)
            uow.commit()

    async def start(self) -> None:
        await asyncio.to_thread(self.beat)
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await asyncio.to_thread(self.beat)
            except Exception as error:  # noqa: BLE001 - a missed beat is retried; others may take over meanwhile
                if not self._failing:
                    log.warning("heartbeat failed (%s); leases may pass to other processes", one_line(error))
                self._failing = True
            else:
                self._failing = False

    async def stop(self) -> None:
        """Stop beating and free what this process still holds."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        try:
            await asyncio.wait_for(asyncio.to_thread(self._goodbye), GOODBYE_SECONDS)
        except TimeoutError:
            log.warning("heartbeat goodbye took over %.0f s; leases pass on when it expires", GOODBYE_SECONDS)
        except Exception as error:  # noqa: BLE001 - then the heartbeat simply expires
            log.warning("heartbeat goodbye failed (%s); leases pass on when it expires", one_line(error))

    def _goodbye(self) -> None:
        with self.uow_factory() as uow:
            uow.heartbeats.goodbye(self.owners)
            uow.commit()
