"""Per-key order without unbounded memory: what the adapters and the outbox pump rely on."""

from __future__ import annotations

import asyncio

from bot.keyed_locks import KeyedLocks


def test_one_key_runs_in_order_others_in_parallel_and_nothing_is_kept_after():
    locks = KeyedLocks()
    log: list[str] = []

    async def work(key: str, name: str, pause: float) -> None:
        async with locks.hold(key):
            log.append(f"{name}+")
            await asyncio.sleep(pause)
            log.append(f"{name}-")

    async def scenario() -> None:
        await asyncio.gather(work("a", "a1", 0.05), work("a", "a2", 0.0), work("b", "b1", 0.01))

    asyncio.run(scenario())
    assert log.index("a1-") < log.index("a2+")  # the same key waits its turn, in arrival order
    assert log.index("b1+") < log.index("a1-")  # another key does not
    assert len(locks) == 0
