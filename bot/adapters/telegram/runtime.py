"""The Telegram side of a process: python-telegram-bot's Application (the Bot, its rate limiter, the
poller), our adapter and the outbox pump, started and stopped together. Long polling and the webhook
share everything but the way updates arrive."""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.adapters.telegram.adapter import MalformedUpdate, TelegramAdapter
from bot.adapters.telegram.limiter import FloodLimiter
from bot.adapters.telegram.render import command_menu
from bot.adapters.telegram.sender import TelegramSender
from bot.bodies import MalformedBody, json_object
from bot.delivery import OutboxPump
from bot.dispatcher import Dispatcher
from bot.files.intake import FileIntake
from bot.files.outgoing import FileReader
from bot.settings import FileSettings, file_settings
from bot.serial import SerialDispatch
from bot.i18n import DEFAULT_LOCALE, Translator, available_locales
from bot.settings import payment_settings
from storage.errors import one_line, unavailable
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query", "pre_checkout_query"]
# Pauses after each failed attempt: a database failover of up to about 5 minutes loses nothing.
POLLING_RETRIES = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 60.0, 60.0, 60.0, 0.0)


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
    def __init__(
        self, settings: TelegramSettings, dispatcher: Dispatcher, uow_factory: Callable[[], SqlUnitOfWork], *,
        limiter: FloodLimiter | None = None, poll_seconds: float = 1.0, files: FileSettings | None = None,
    ) -> None:
        self.settings = settings
        self.dispatcher = dispatcher
        self.uow_factory = uow_factory
        self.limiter = limiter or FloodLimiter()
        self.application = (
            Application.builder().token(settings.token)
            .base_url(f"{settings.api_base_url}/bot").base_file_url(f"{settings.api_base_url}/file/bot")
            .rate_limiter(self.limiter).concurrent_updates(256)
            # httpx walks its whole pool on every request: a modest pool is faster than the default 256.
            .connection_pool_size(32)
            .build()
        )
        self.files = files or file_settings()
        reader = FileReader.from_settings(uow_factory, self.files)
        sender = TelegramSender(self.application.bot, reader, payment_provider_token=settings.payment_provider_token)
        self.pump = OutboxPump(uow_factory, sender, poll_seconds=poll_seconds)
        self.pump.serve(dispatcher)
        self._adapter: TelegramAdapter | None = None
        self._pump_task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()  # set by stop(): retries give up instead of holding the process
        self.polling = False

    @property
    def adapter(self) -> TelegramAdapter:
        if self._adapter is None:
            raise RuntimeError("TelegramRuntime.start() first")
        return self._adapter

    async def start(self, *, polling: bool) -> None:
        app = self.application
        await app.initialize()  # getMe: also proves the token
        self._adapter = TelegramAdapter(SerialDispatch(self.dispatcher, self.pump), app.bot.username, bot=app.bot,
                                        intake=FileIntake(self.uow_factory, self.dispatcher.clock, self.files))
        app.add_handler(TypeHandler(Update, self._on_update))
        await self.set_commands()
        await app.start()
        if polling:
            assert app.updater is not None
            await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES, timeout=10)  # removes any webhook
            self.polling = True
        elif self.settings.webhook_url:
            if not self.settings.webhook_secret:
                raise RuntimeError("TELEGRAM_WEBHOOK_SECRET is required with TELEGRAM_WEBHOOK_URL")
            await app.bot.set_webhook(self.settings.webhook_url, secret_token=self.settings.webhook_secret,
                                      allowed_updates=ALLOWED_UPDATES)
        self._pump_task = asyncio.get_running_loop().create_task(self.pump.run())
        log.info("telegram bot @%s started (%s)", app.bot.username, "polling" if polling else "webhook")

    async def stop(self, drain_seconds: float = 5.0) -> None:
        """Stop taking updates, finish the ones in hand, then let the pump deliver what they queued
        (bounded: what is left stays in the outbox for the next process)."""
        self._stopping.set()
        app = self.application
        if self.polling and app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        task = self._pump_task
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        try:
            await asyncio.wait_for(self.pump.drain(), drain_seconds)
        except TimeoutError:
            log.warning("stopping with messages still in the outbox; the next process sends them")
        except Exception as error:
            if not unavailable(error):
                raise
            log.warning("stopping without delivering the outbox: the database failed (%s)", one_line(error))
        await app.shutdown()  # a no-op when a stop came before initialize() finished

    async def set_commands(self) -> None:
        """The command menu in every language we have; Telegram shows the one matching the app's language."""
        bot = self.application.bot
        await bot.set_my_commands(command_menu(Translator(DEFAULT_LOCALE)))
        for locale in available_locales():
            code = locale.split("_")[0].lower()
            if len(code) == 2:
                await bot.set_my_commands(command_menu(Translator(locale)), language_code=code)

    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Polling has no redelivery (the offset has moved on), so an update that could not be recorded
        (the database briefly away) is tried again here; the inbox makes a retry act once. A stop ends
        the retries: the process must go within seconds, and the update is then lost (logged)."""
        for attempt, pause in enumerate(POLLING_RETRIES):
            try:
                await self.adapter.handle(update)
                return
            except MalformedUpdate as error:
                log.warning("telegram update ignored: %s", error)
                return
            except Exception as error:  # noqa: BLE001 - logged, retried, and finally given up loudly
                last = attempt == len(POLLING_RETRIES) - 1
                if last or self._stopping.is_set():
                    why = "stopping" if not last else f"{attempt + 1} attempts"
                    log.error("telegram update %s dropped (%s): %s", update.update_id, why, one_line(error),
                              exc_info=not unavailable(error))
                    return
                log.warning("telegram update %s failed (%s); retrying in %.1f s", update.update_id,
                            one_line(error), pause, exc_info=not unavailable(error))
                try:
                    await asyncio.wait_for(self._stopping.wait(), pause)
                except TimeoutError:
                    pass

    async def webhook(self, secret: str, body: bytes) -> int:
        """The HTTP status to answer a webhook delivery with: 403 without the right secret; 200 and a log
        line for a body that is not a Telegram update (retrying it would never help); 500 (Telegram
        retries, and the inbox drops the repeat) when a real update could not be recorded."""
        expected = self.settings.webhook_secret
        if not expected or not hmac.compare_digest(secret.encode(), expected.encode()):
            return 403
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
            return 200
        try:
            await self.adapter.handle(update)
        except MalformedUpdate as error:
            log.warning("telegram webhook: ignored a malformed update (%s)", one_line(error))
            return 200
        except Exception as error:
            if not unavailable(error):  # answered with 500 so Telegram tries again
                log.exception("telegram update %s failed", update.update_id)
                return 500
            # the database is away: one line, and Telegram delivers it again
            log.error("telegram update %s not recorded, the database failed: %s", update.update_id,
                      one_line(error))
            return 500
        return 200



