"""The Telegram side of a process: python-telegram-bot's Application (the Bot, its rate limiter), our
adapter and the outbox pump, started and stopped together.

Updates are written to the database before Telegram is told they arrived (durable intake): long polling
confirms an update (the next getUpdates' offset) only once it is stored, and the webhook answers 200 only
after the insert. Workers (this process's embedded one, or `headstrt worker`) then run the stored
updates through the adapter. Long polling and the webhook share everything but the way updates arrive."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from bot.adapters.telegram.adapter import MalformedUpdate, TelegramAdapter
from bot.adapters.telegram.limiter import FloodLimiter
from bot.adapters.telegram.parse import to_incoming
from bot.adapters.telegram.render import command_menu
from bot.adapters.telegram.sender import TelegramSender
from bot.bodies import MalformedBody, json_object
from bot.delivery import OutboxPump
from bot.dispatcher import Dispatcher
from bot.events import Sender
from bot.files.intake import FileIntake
from bot.files.outgoing import FileReader
from bot.intake import Processing
from bot.intake_batch import StoreBatches
from bot.process import within
from bot.serial import SerialDispatch
from bot.i18n import DEFAULT_LOCALE, Translator, available_locales
from bot.settings import FileSettings, file_settings, payment_settings
from storage.errors import one_line, unavailable
from storage.intake_repo import NewEvent, StoredEvent
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# pre_checkout_query: answered by the receiving process itself, at once (Telegram waits 10 s at most).
ALLOWED_UPDATES = ["message", "callback_query", "pre_checkout_query"]
PLATFORM = "telegram"
POLL_TIMEOUT = 10  # seconds a getUpdates long poll waits for updates
POLL_BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)  # after failed polls or stores, the last repeating


@dataclass(frozen=True, slots=True)
class TelegramSettings:
    token: str
    api_base_url: str = DEFAULT_API_BASE_URL
    webhook_url: str = ""
    webhook_secret: str = ""
    payment_provider_token: str = ""  # "" = credits are sold in Telegram Stars

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> TelegramSettings | None:
        """None when TELEGRAM_BOT_TOKEN is not set: this deployment has no Telegram bot. ValueError (one line)
        when the credit packs it sells are not set up right (HEADSTRT_CREDIT_PACKS)."""
        token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
        if not token:
            return None
        return cls(
            token, (env.get("TELEGRAM_API_BASE_URL") or DEFAULT_API_BASE_URL).rstrip("/"),
            env.get("TELEGRAM_WEBHOOK_URL", "").strip(), env.get("TELEGRAM_WEBHOOK_SECRET", "").strip(),
            payment_settings(env).provider_token,
        )


class TelegramRuntime:
    platform = PLATFORM

    def __init__(
        self, settings: TelegramSettings, dispatcher: Dispatcher, uow_factory: Callable[[], SqlUnitOfWork], *,
        limiter: FloodLimiter | None = None, poll_seconds: float = 1.0, files: FileSettings | None = None,
        processing: Processing | None = None,
    ) -> None:
        """processing: this process's heartbeat and intake worker (default: its own, embedded)."""
        self.settings = settings
        self.dispatcher = dispatcher
        self.uow_factory = uow_factory
        self.limiter = limiter or FloodLimiter()
        self.application = (
            Application.builder().token(settings.token)
            .base_url(f"{settings.api_base_url}/bot").base_file_url(f"{settings.api_base_url}/file/bot")
            .rate_limiter(self.limiter)
            # httpx walks its whole pool on every request: a modest pool is faster than the default 256.
            .connection_pool_size(32)
            .build()
        )
        self.files = files or file_settings()
        reader = FileReader.from_settings(uow_factory, self.files)
        sender = TelegramSender(self.application.bot, reader, payment_provider_token=settings.payment_provider_token)
        self.pump = OutboxPump(uow_factory, sender, poll_seconds=poll_seconds)
        self.pump.serve(dispatcher)
        self.processing = processing or Processing(uow_factory, kind=PLATFORM)
        self.processing.heartbeat.add(self.pump.token)
        self.processing.worker.serve(self)
        self._adapter: TelegramAdapter | None = None
        self._pump_task: asyncio.Task[None] | None = None
        self._poll_task: asyncio.Task[None] | None = None
        self._checkouts: set[asyncio.Task[None]] = set()  # pre-checkout queries being answered
        self._stopping = asyncio.Event()  # set by stop(): retries give up instead of holding the process
        self._batches = StoreBatches.for_platform(uow_factory, PLATFORM)  # every insert before an ack
        self.polling = False
        self.offset: int | None = None  # the next getUpdates confirms every update below it

    @property
    def adapter(self) -> TelegramAdapter:
        if self._adapter is None:
            raise RuntimeError("TelegramRuntime.start() first")
        return self._adapter

    async def start(self, *, polling: bool, receive: bool = True) -> None:
        """polling: take updates by long polling (else by the webhook, when configured); receive=False:
        take none at all (a `headstrt worker` runs the stored ones)."""
        app = self.application
        await app.initialize()  # getMe: also proves the token
        self._adapter = TelegramAdapter(SerialDispatch(self.dispatcher), app.bot.username, bot=app.bot,
                                        intake=FileIntake(self.uow_factory, self.dispatcher.clock, self.files))
        if receive:
            await self.set_commands()
            await self._batches.warm()
        await self.processing.start()
        if receive and polling:
            await app.bot.delete_webhook()  # getUpdates is refused while a webhook is set
            self._poll_task = asyncio.get_running_loop().create_task(self._poll())
            self.polling = True
        elif receive and self.settings.webhook_url:
            if not self.settings.webhook_secret:
                raise RuntimeError("TELEGRAM_WEBHOOK_SECRET is required with TELEGRAM_WEBHOOK_URL")
            await app.bot.set_webhook(self.settings.webhook_url, secret_token=self.settings.webhook_secret,
                                      allowed_updates=ALLOWED_UPDATES)
        self._pump_task = asyncio.get_running_loop().create_task(self.pump.run())
        log.info("telegram bot @%s started (%s)", app.bot.username,
                 "polling" if self.polling else "webhook" if receive else "worker")

    async def stop(self, drain_seconds: float = 5.0) -> None:
        """Stop taking updates, finish the ones in hand, then let the pump deliver what they queued. Every
        step is bounded (about drain_seconds + 4 s in all, whatever the database or Telegram do): what is
        left stays in the outbox, and stored updates in the table, for the next process."""
        self._stopping.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + drain_seconds

        def left() -> float:
            return max(deadline - loop.time(), 0.1)

        app = self.application
        if self._poll_task is not None:
            self._poll_task.cancel()
            await within(asyncio.gather(self._poll_task, return_exceptions=True), 1.0)
            if self._checkouts:  # each is bounded by its own 10 s check
                await asyncio.wait(set(self._checkouts), timeout=left())
            await within(self._confirm(), min(2.0, left()))
        if not await within(self.processing.stop(left()), left() + 1.0):
            log.warning("stopping with updates still in hand; the next worker runs them again")
        task = self._pump_task
        if task is not None:
            task.cancel()
            await within(asyncio.gather(task, return_exceptions=True), 1.0)
        try:
            if not await within(self.pump.drain(), left()):
                log.warning("stopping with messages still in the outbox; the next process sends them")
        except Exception as error:
            if not unavailable(error):
                raise
            log.warning("stopping without delivering the outbox: the database failed (%s)", one_line(error))
        await within(self.processing.goodbye(), 1.5)
        await within(app.shutdown(), 2.0)  # a no-op when a stop came before initialize() finished
        self._batches.shutdown()

    async def set_commands(self) -> None:
        """The command menu in every language we have; Telegram shows the one matching the app's language."""
        bot = self.application.bot
        await bot.set_my_commands(command_menu(Translator(DEFAULT_LOCALE)))
        for locale in available_locales():
            code = locale.split("_")[0].lower()
            if len(code) == 2:
                await bot.set_my_commands(command_menu(Translator(locale)), language_code=code)

    # ---- receiving: store, then confirm

    async def _poll(self) -> None:
        """Long polling that never loses an update: a batch is stored before the next getUpdates confirms
        it (its offset), so a process killed at any point gets the unstored ones again on restart."""
        failures = 0
        while not self._stopping.is_set():
            try:
                updates = await self.application.bot.get_updates(
                    offset=self.offset, timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES)
                if updates:
                    self._answer_checkouts([u for u in updates if u.pre_checkout_query is not None])
                    events = [_new_event(u) for u in updates if u.pre_checkout_query is None]
                    if events:
                        await self._batches.store_many(events)
                    self.offset = updates[-1].update_id + 1
                    self.processing.wake()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - Telegram or the database away: wait, try again
                pause = _pause(error, failures)
                level = logging.ERROR if isinstance(error, (Conflict, InvalidToken)) or failures == 0 else logging.INFO
                what = "storing updates" if not isinstance(error, TelegramError) else "getUpdates"
                log.log(level, "telegram polling: %s failed (%s); again in %.1f s", what, one_line(error), pause,
                        exc_info=not isinstance(error, TelegramError) and not unavailable(error))
                failures += 1
                try:
                    await asyncio.wait_for(self._stopping.wait(), pause)
                except TimeoutError:
                    pass

    async def _confirm(self) -> None:
        """On a clean stop, confirm what was stored (a restart would otherwise fetch it again; harmless,
        the table keeps one copy, but slower)."""
        if self.offset is None:
            return
        try:
            await asyncio.wait_for(self.application.bot.get_updates(offset=self.offset, timeout=0, limit=1), 2.0)
        except Exception as error:  # noqa: BLE001 - the next process confirms them instead
            log.info("telegram polling: final confirmation skipped (%s)", one_line(error))

    def _answer_checkouts(self, updates: list[Update]) -> None:
        """A pre-checkout query is answered by the process that received it, at once and beside the poll
        (Telegram waits 10 s at most, and a worker may be busy or not running); it is not stored: a retry
        after a crash would come too late anyway, and the payment itself arrives as a message, which is."""
        for update in updates:
            task = asyncio.get_running_loop().create_task(self._answer_checkout(update))
            self._checkouts.add(task)
            task.add_done_callback(self._checkouts.discard)

    async def _answer_checkout(self, update: Update) -> None:
        try:
            await self.adapter.handle(update)  # answer_checkout: bounded by its own check, refuses on failure
        except Exception:  # noqa: BLE001 - a task nobody awaits must not end with an unseen error
            log.exception("telegram pre-checkout %s not answered", update.update_id)

    async def webhook(self, secret: str, body: bytes) -> tuple[int, dict[str, Any] | None]:
        """The HTTP status to answer a webhook delivery with, and what the answer may carry: 403 without the
        right secret; 200 and a log line for a body that is not a Telegram update (retrying it would never
        help); 200 once the update is stored; 500 (Telegram delivers it again) when it could not be stored.
        A press in a private chat is answered in the 200 itself (a Bot API method in the webhook's answer,
        which Telegram performs), so its button stops spinning at the ack, however far behind the workers
        are, and without a request of our own. The stored update says so, and the worker does not answer
        it again."""
        expected = self.settings.webhook_secret
        if not expected or not hmac.compare_digest(secret.encode(), expected.encode()):
            return 403, None
        try:
            data = json_object(body)
            if not isinstance(data.get("update_id"), int) or isinstance(data.get("update_id"), bool):
                raise MalformedBody("no update_id")
            update = Update.de_json(data, self.application.bot)
            if update is None:
                raise MalformedBody("empty update")
            if len(data) == 1 or update.api_kwargs:  # nothing in it, or fields no Telegram update has
                raise MalformedBody(f"an update of unknown shape (fields: {', '.join(sorted(data))[:120]})")
        except Exception as error:  # noqa: BLE001 - whatever the shape broke in the parser, it is the body's fault
            log.warning("telegram webhook: ignored a malformed update (%s)", one_line(error))
            return 200, None
        if update.pre_checkout_query is not None:  # answered here and now (10 s at most), not stored
            await self.adapter.handle(update)  # the adapter answers it (bounded: it never raises)
            return 200, None
        try:  # parts that are not what Telegram sends (text that is not text): said now, never stored
            to_incoming(update, self.adapter.bot_username)
        except (AttributeError, TypeError, ValueError) as error:
            log.warning("telegram webhook: ignored a malformed update (update %s: %s)", update.update_id,
                        one_line(error))
            return 200, None
        answer = _spinner_answer(update)
        payload = body.decode() if answer is None else answered_payload(data)
        event = NewEvent(PLATFORM, str(update.update_id), _person_key(update), payload)
        try:
            await self._batches.store(event)  # with whatever else arrived meanwhile: one commit
        except Exception as error:
            if not unavailable(error):  # answered with 500 so Telegram tries again
                log.exception("telegram update %s not stored", update.update_id)
                return 500, None
            log.error("telegram update %s not stored, the database failed: %s", update.update_id,
                      one_line(error))
            return 500, None
        self.processing.wake()
        return 200, answer

    # ---- working: a stored update through the adapter (IntakeHandler)

    async def process(self, event: StoredEvent) -> None:
        """Raises when the update should be tried again (the database or Telegram away)."""
        data, answered = stored_update(event.payload)
        update = Update.de_json(data, self.application.bot)
        if update is None:
            return
        try:
            await self.adapter.handle(update, answered=answered)
        except MalformedUpdate as error:
            log.warning("telegram update ignored: %s", error)

    def sender_of(self, event: StoredEvent) -> Sender | None:
        try:
            update = Update.de_json(stored_update(event.payload)[0], self.application.bot)
        except Exception:  # noqa: BLE001 - a payload we cannot read has nobody to tell
            return None
        user, chat = (update.effective_user, update.effective_chat) if update else (None, None)
        if user is None or chat is None:
            return None
        return Sender(PLATFORM, str(user.id), str(chat.id), user.first_name or "", user.language_code,
                      is_group=chat.type != "private")


def _new_event(update: Update) -> NewEvent:
    return NewEvent(PLATFORM, str(update.update_id), _person_key(update), update.to_json())


# A stored update whose press the webhook's 200 answered carries this key beside Telegram's own fields: a
# worker of an older release reads it as an update still (PTB keeps an unknown key aside) and only answers
# the press a second time, which Telegram refuses harmlessly.
ANSWERED = "_headstrt_answered"


def answered_payload(update: dict[str, Any]) -> str:
    return json.dumps({**update, ANSWERED: True}, separators=(",", ":"))


def stored_update(payload: str) -> tuple[dict[str, Any], bool]:
    """The update a stored payload holds, and whether its press was answered already."""
    data = json.loads(payload)
    answered = isinstance(data, dict) and data.pop(ANSWERED, None) is True
    return data, answered


def _spinner_answer(update: Update) -> dict[str, Any] | None:
    """answerCallbackQuery for a press in a private chat, to send back in the webhook's 200. A group's
    press is not: whether it was meant for the presser needs the database, and its answer then says so."""
    query = update.callback_query
    if query is None or query.message is None or query.message.chat.type != "private":
        return None
    return {"method": "answerCallbackQuery", "callback_query_id": query.id}


def _person_key(update: Update) -> str:
    """Whose order an update keeps: its sender (or, for an update without one, its chat)."""
    user = update.effective_user
    if user is not None:
        return f"{PLATFORM}:{user.id}"
    chat = update.effective_chat
    return f"{PLATFORM}:chat:{chat.id}" if chat is not None else f"{PLATFORM}:-"


def _pause(error: Exception, failures: int) -> float:
    if isinstance(error, RetryAfter):
        return float(error.retry_after if isinstance(error.retry_after, (int, float))
                     else error.retry_after.total_seconds())
    if isinstance(error, NetworkError) and not isinstance(error, Conflict):
        return POLL_BACKOFF[min(failures, 3)]  # a network blip: soon again
    return POLL_BACKOFF[min(failures, len(POLL_BACKOFF) - 1)]
