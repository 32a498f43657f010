"""Keep every message the bot sends inside Telegram's flood limits, so none is refused with a 429.

PTB routes each Bot API call through a rate limiter; this one throttles the calls that post or change
messages with sliding-window logs (overall, per chat, per group), keeps each chat's messages in order,
and when Telegram still answers RetryAfter, pauses all sending for as long as it asks.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger(__name__)

Result = bool | dict[str, Any] | list[dict[str, Any]]
Callback = Callable[..., Coroutine[Any, Any, Result]]
ChatKey = int | str

# The calls that put something in a chat; Telegram counts these against its flood limits.
COUNTED = frozenset({
    "sendMessage", "sendDocument", "sendPhoto", "sendMediaGroup", "sendAudio", "sendVideo", "sendVoice",
    "sendSticker", "sendAnimation", "sendLocation", "sendContact", "sendPoll", "sendInvoice",
    "copyMessage", "copyMessages", "forwardMessage", "forwardMessages",
    "editMessageText", "editMessageReplyMarkup", "editMessageCaption", "editMessageMedia",
})

# A timer may fire a hair early or float rounding leave a sliver: never spin on a zero sleep.
_MIN_SLEEP = 1e-4
# How often to look again while a call that decides the wait is still in flight.
_IN_FLIGHT_RECHECK = 0.01
# Forget idle chats once this many are known (then at twice the number still in use).
_SWEEP_AT = 1024


@dataclass(slots=True)
class LimiterStats:
    """What throttling cost, for benchmarks and logs."""

    counted: int = 0  # calls that went through the windows
    delayed: int = 0  # of those, how many had to wait
    retried: int = 0  # RetryAfter answers that were retried
    max_wait: float = 0.0  # longest wait before a call went out, in seconds


class _Window:
    """At most `limit` calls in any `period` seconds. Each call is logged by when its answer came back
    (the server received it before that), so however slow a request, the server never sees more than
    `limit` in a period; a call still in flight counts as made just now."""

    __slots__ = ("limit", "period", "log")

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.log: list[_Cell] = []

    def wait(self, now: float) -> float:
        """Seconds until one more call fits (0 when it fits now)."""
        self.log = [c for c in self.log if c.at is None or c.at + self.period > now]
        if len(self.log) < self.limit:
            return 0.0
        times = sorted(now if c.at is None else c.at for c in self.log)
        wait = times[len(times) - self.limit] + self.period - now
        if any(c.at is None for c in self.log):
            wait = min(wait, _IN_FLIGHT_RECHECK)  # its answer may come any moment and set the real time
        return wait

    def add(self, cell: _Cell) -> None:
        self.log.append(cell)

    def idle(self, now: float) -> bool:
        """Nothing in the log binds any more: forgetting the window changes nothing."""
        self.wait(now)  # drops what has expired
        return not self.log


class _Cell:
    """One call in the windows it counts against: None while in flight, then when its answer came."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at: float | None = None


@dataclass(slots=True)
class _Chat:
    """One chat's queue (a lock, so its messages leave in order) and windows."""

    lock: asyncio.Lock
    windows: tuple[_Window, ...]
    users: int = 0  # tasks holding or waiting for the lock: the entry is kept while any are


class FloodLimiter(BaseRateLimiter[int]):
    """Throttle, don't react: reserve a slot in every window a call counts against before making it.

    Limits are (calls, seconds). `private_chat` applies to every chat (Telegram: about one message a
    second per chat, short bursts allowed); groups and channels (negative ids, "@name") also get `group`,
    and every counted call also counts against `overall`. Windows are `margin` seconds longer than the
    limit because Telegram measures by when it receives a call, not when we send it.

    `rate_limit_args`, when PTB passes an int, overrides `max_retries` for that call.
    """

    __slots__ = (
        "_overall", "_private", "_group", "_margin", "_max_retries", "_clock", "_sleep",
        "_chats", "_overall_lock", "_paused_until", "_sweep_at", "stats",
    )

    def __init__(
        self,
        *,
        overall: tuple[int, float] = (30, 1.0),
        private_chat: tuple[int, float] = (3, 3.0),
        group: tuple[int, float] = (20, 60.0),
        margin: float = 0.02,
        max_retries: int = 5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        for name, (limit, period) in (("overall", overall), ("private_chat", private_chat), ("group", group)):
            if limit < 1 or period <= 0:
                raise ValueError(f"{name} limit must be at least 1 call in a positive period: {(limit, period)}")
        if margin < 0 or max_retries < 0:
            raise ValueError("margin and max_retries may not be negative")
        self._overall = _Window(overall[0], overall[1] + margin)
        self._private = (private_chat[0], private_chat[1] + margin)
        self._group = (group[0], group[1] + margin)
        self._margin = margin
        self._max_retries = max_retries
        self._clock = clock
        self._sleep = sleep
        self._chats: dict[ChatKey, _Chat] = {}
        self._overall_lock = asyncio.Lock()  # overall slots are handed out first come, first served
        self._paused_until = 0.0
        self._sweep_at = _SWEEP_AT
        self.stats = LimiterStats()

    async def initialize(self) -> None:
        """Nothing to open: the windows live in memory."""

    async def shutdown(self) -> None:
        """Nothing to close; forget the windows so a restarted bot starts clean."""
        self._chats.clear()

    @property
    def chats_tracked(self) -> int:
        """How many chats have state here (bounded: idle chats are forgotten)."""
        return len(self._chats)

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        max_retries = self._max_retries if rate_limit_args is None else rate_limit_args
        if endpoint not in COUNTED:  # answers to presses and polling never wait for a pause on messages
            return await self._retrying(_no_wait, callback, args, kwargs, max_retries)
        key = _chat_key(data.get("chat_id"))
        if key is None:  # an inline message edit: no chat to queue in, only the overall limit
            return await self._retrying(lambda: self._reserve(()), callback, args, kwargs, max_retries)
        chat = self._enter(key)
        try:
            async with chat.lock:
                return await self._retrying(lambda: self._reserve(chat.windows), callback, args, kwargs, max_retries)
        finally:
            self._leave(key, chat)

    # ---- the steps

    async def _retrying(
        self, ready: Callable[[], Awaitable[_Cell | None]], callback: Callback, args: Any, kwargs: dict[str, Any],
        max_retries: int,
    ) -> Result:
        """Call once a slot is ready; on RetryAfter pause everything, then take a new slot and call again."""
        for attempt in range(max_retries + 1):
            cell = await ready()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == max_retries:
                    log.warning("Telegram flood limit still hit after %d retries", max_retries)
                    raise
                pause = _seconds(exc) + self._margin
                self._paused_until = max(self._paused_until, self._clock() + pause)
                self.stats.retried += 1
                log.info("Telegram asked to wait %.1fs; pausing all sending", pause)
            finally:
                if cell is not None:
                    cell.at = self._clock()
        raise AssertionError("unreachable")  # the loop returns or raises


    async def _reserve(self, chat_windows: tuple[_Window, ...]) -> _Cell:
        """Wait until this chat's windows, then the overall one, have room; take a slot in all at once.

        The chat lock is already held, so nothing else fills the chat's windows meanwhile; the overall
        lock makes chats queue fairly for overall slots instead of racing for them."""
        start = self._clock()
        await self._until_free(chat_windows)
        async with self._overall_lock:
            windows = (*chat_windows, self._overall)
            now = await self._until_free(windows)
            cell = _Cell()
            for window in windows:  # no await since the check: no other task can take this slot
                window.add(cell)
        waited = now - start
        self.stats.counted += 1
        if waited > 0.001:  # the clock is read twice: a real wait, not the time between the reads
            self.stats.delayed += 1
            self.stats.max_wait = max(self.stats.max_wait, waited)
        return cell

    async def _until_free(self, windows: tuple[_Window, ...]) -> float:
        """Sleep until every window has room and no RetryAfter pause is on; returns the time it was so."""
        while True:
            now = self._clock()
            wait = max((w.wait(now) for w in windows), default=0.0)
            wait = max(wait, self._paused_until - now)
            if wait <= 0:
                return now
            await self._sleep(max(wait, _MIN_SLEEP))

    # ---- per-chat state, bounded

    def _enter(self, key: ChatKey) -> _Chat:
        chat = self._chats.get(key)
        if chat is None:
            if len(self._chats) >= self._sweep_at:
                self._sweep()
            windows = [_Window(*self._private)]
            if _is_group(key):
                windows.append(_Window(*self._group))
            chat = self._chats[key] = _Chat(asyncio.Lock(), tuple(windows))
        chat.users += 1
        return chat

    def _leave(self, key: ChatKey, chat: _Chat) -> None:
        chat.users -= 1
        if chat.users == 0 and all(w.idle(self._clock()) for w in chat.windows):
            self._chats.pop(key, None)

    def _sweep(self) -> None:
        """Forget chats nobody is sending to whose windows have emptied: their limits no longer bind."""
        now = self._clock()
        for key in [k for k, c in self._chats.items() if c.users == 0 and all(w.idle(now) for w in c.windows)]:
            del self._chats[key]
        self._sweep_at = max(_SWEEP_AT, 2 * len(self._chats))


async def _no_wait() -> None:
    return None


def _chat_key(chat_id: object) -> ChatKey | None:
    """Telegram's chat ids: ints (also sent as digit strings) or "@channelname"."""
    if chat_id is None:
        return None
    if isinstance(chat_id, int):
        return chat_id
    text = str(chat_id).strip()
    try:
        return int(text)
    except ValueError:
        return text.lower()  # "@name": usernames are case-insensitive


def _is_group(key: ChatKey) -> bool:
    return key < 0 if isinstance(key, int) else True


def _seconds(exc: RetryAfter) -> float:
    """RetryAfter.retry_after is int seconds in PTB 22 (with a deprecation warning), timedelta later."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: float | timedelta = exc.retry_after
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return max(seconds, 0.0)
