"""The flood limiter never lets a window hold more calls than Telegram allows, keeps each chat in order,
and waits out RetryAfter. Real time with tiny windows for the concurrency test, a fake clock elsewhere."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import NetworkError, RetryAfter

from bot.adapters.telegram.limiter import FloodLimiter

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


class FakeTime:
    """A clock that only moves when someone sleeps: waits are exact and the test takes no time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def _max_in_window(times: list[float], period: float) -> int:
    """The most calls in any half-open window [t, t + period)."""
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - period:
            start += 1
        best = max(best, end - start + 1)
    return best


async def _send(limiter: FloodLimiter, chat_id: int | str, callback: Any, endpoint: str = "sendMessage") -> Any:
    return await limiter.process_request(callback, (), {}, endpoint, {"chat_id": chat_id, "text": "x"}, None)


def test_concurrent_sends_never_exceed_any_window_and_keep_chat_order():
    limiter = FloodLimiter(overall=(5, 0.1), private_chat=(2, 0.1), group=(3, 0.3), margin=0.02)
    sent: list[tuple[float, int, int]] = []
    chats = [11, 12, 13, 14, -100]

    def recorder(chat: int, n: int) -> Any:
        async def call() -> bool:
            sent.append((time.monotonic(), chat, n))
            await asyncio.sleep(0.001)  # an HTTP round trip, shortened
            return True
        return call

    async def main() -> None:
        tasks = [_send(limiter, chats[i % len(chats)], recorder(chats[i % len(chats)], i)) for i in range(40)]
        assert all(await asyncio.gather(*tasks))

    asyncio.run(main())
    assert len(sent) == 40
    assert _max_in_window([t for t, _, _ in sent], 0.1) <= 5
    by_chat: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for t, chat, n in sent:
        by_chat[chat].append((t, n))
    for chat, calls in by_chat.items():
        numbers = [n for _, n in calls]
        assert numbers == sorted(numbers), f"chat {chat} out of order"
        assert _max_in_window([t for t, _ in calls], 0.1) <= 2
    assert _max_in_window([t for t, _ in by_chat[-100]], 0.3) <= 3
    assert limiter.stats.counted == 40
    assert limiter.stats.delayed > 0 and limiter.stats.max_wait > 0


def test_groups_have_their_own_window_and_do_not_hold_up_private_chats():
    limiter = FloodLimiter(overall=(100, 1.0), private_chat=(10, 1.0), group=(2, 0.2), margin=0.01)
    sent: dict[object, list[float]] = defaultdict(list)
    start = 0.0

    def recorder(chat: object) -> Any:
        async def call() -> bool:
            sent[chat].append(time.monotonic() - start)
            return True
        return call

    async def main() -> None:
        nonlocal start
        start = time.monotonic()
        chats: list[object] = ["@Channel", -5, 7]
        await asyncio.gather(*[_send(limiter, chat, recorder(chat)) for chat in chats for _ in range(4)])

    asyncio.run(main())
    for group in ("@Channel", -5):
        assert _max_in_window(sent[group], 0.2) <= 2
        assert sent[group][2] - sent[group][0] >= 0.2
    assert max(sent[7]) < 0.15  # a private chat's window is wider, and the groups don't block it


def test_uncounted_calls_pass_straight_through_a_full_window():
    fake = FakeTime()
    limiter = FloodLimiter(overall=(1, 5.0), private_chat=(1, 5.0), margin=0.0, clock=fake.clock, sleep=fake.sleep)

    async def ok() -> bool:
        return True

    async def main() -> None:
        await _send(limiter, 1, ok)
        start = fake.now
        assert await limiter.process_request(ok, (), {}, "answerCallbackQuery", {"callback_query_id": "q"}, None)
        assert await limiter.process_request(ok, (), {}, "getMe", {}, None)
        assert fake.now == start  # no wait although the windows are full
        await _send(limiter, 1, ok)
        assert fake.now == start + 5.0  # while a message does wait

    asyncio.run(main())
    assert limiter.stats.counted == 2 and limiter.stats.delayed == 1 and limiter.stats.max_wait == 5.0


@pytest.mark.parametrize("retry_after", [3, timedelta(seconds=3)])
def test_retry_after_pauses_all_sending_then_succeeds(retry_after: int | timedelta):
    fake = FakeTime()
    limiter = FloodLimiter(margin=0.5, clock=fake.clock, sleep=fake.sleep)
    attempts: list[float] = []
    other: list[float] = []

    async def flaky() -> bool:
        attempts.append(fake.now)
        if len(attempts) == 1:
            raise RetryAfter(retry_after)
        return True

    async def elsewhere() -> bool:
        other.append(fake.now)
        return True

    async def main() -> None:
        first = asyncio.create_task(_send(limiter, 1, flaky))
        await asyncio.sleep(0)  # the first call is made and refused
        assert await _send(limiter, 2, elsewhere)
        assert await limiter.process_request(elsewhere, (), {}, "answerCallbackQuery", {}, None)
        assert await first

    asyncio.run(main())
    assert attempts == [1000.0, 1003.5]
    assert other == [1003.5, 1003.5]  # another chat and an uncounted call also waited out the pause
    assert limiter.stats.retried == 1


def test_retry_after_beyond_max_retries_is_raised():
    fake = FakeTime()
    limiter = FloodLimiter(max_retries=2, margin=0.0, clock=fake.clock, sleep=fake.sleep)
    calls = 0

    async def refused() -> bool:
        nonlocal calls
        calls += 1
        raise RetryAfter(1)

    with pytest.raises(RetryAfter):
        asyncio.run(_send(limiter, 1, refused))
    assert calls == 3 and limiter.stats.retried == 2


def test_other_errors_propagate_untouched_and_free_the_chat():
    fake = FakeTime()
    limiter = FloodLimiter(clock=fake.clock, sleep=fake.sleep)
    error = NetworkError("connection reset")

    async def broken() -> bool:
        raise error

    async def ok() -> bool:
        return True

    async def main() -> None:
        with pytest.raises(NetworkError) as caught:
            await _send(limiter, 1, broken)
        assert caught.value is error
        assert await _send(limiter, 1, ok)

    asyncio.run(main())
    assert limiter.stats.retried == 0


def test_idle_chats_are_forgotten():
    fake = FakeTime()
    limiter = FloodLimiter(private_chat=(3, 1.0), overall=(10_000, 1.0), margin=0.0, clock=fake.clock, sleep=fake.sleep)

    async def ok() -> bool:
        return True

    async def main() -> None:
        for chat in range(1, 3001):
            await _send(limiter, chat, ok)
        assert limiter.chats_tracked == 3000  # their windows still bind
        fake.now += 2.0
        for chat in range(10_001, 12_001):
            await _send(limiter, chat, ok)
        assert limiter.chats_tracked == 2000  # a sweep dropped the 3000 whose windows had emptied

    asyncio.run(main())
