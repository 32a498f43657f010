"""Telegram over the shared dispatcher: an update becomes an event, the dispatcher commits its answer to
the outbox, and the pump sends it. The same handler serves long polling and the webhook."""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot, CallbackQuery, Update
from telegram.error import BadRequest

from bot.adapters.telegram.parse import parse_file_ref, to_incoming
from bot.adapters.telegram.payments import answer_checkout
from bot.dispatcher import Handled
from bot.serial import SerialDispatch
from bot.events import Incoming
from bot.files.intake import Fetch, FileIntake, TooBig
from bot.i18n import Translator, normalise_locale

log = logging.getLogger(__name__)


class MalformedUpdate(ValueError):
    """An update that is not shaped like Telegram's (a forged body with the right secret): there is
    nothing to act on and nothing to retry."""


class TelegramAdapter:
    def __init__(self, dispatch: SerialDispatch, bot_username: str, *, bot: Bot | None = None,
                 intake: FileIntake | None = None) -> None:
        self.dispatch = dispatch
        self.bot_username = bot_username
        self.bot = bot
        self.intake = intake  # files people send are fetched and stored before the dispatcher sees them

    async def handle(self, update: Update, *, answered: bool = False) -> Handled | None:
        """Act on one update. Raises only when the event could not be recorded (the database is down),
        so a webhook can answer 500 and Telegram delivers it again; MalformedUpdate when the update's
        parts are not what Telegram sends (text that is not text, a button whose data is not a string).
        answered: the press was answered in the webhook's 200 already (its spinner stopped)."""
        if update.pre_checkout_query is not None:  # answered at once, outside the per-chat order: 10 s at most
            await answer_checkout(self.dispatch.dispatcher.uow_factory, update.pre_checkout_query)
            return None
        try:
            incoming = to_incoming(update, self.bot_username)
        except (AttributeError, TypeError, ValueError) as error:
            raise MalformedUpdate(f"update {update.update_id!r}: {error}") from None
        query = update.callback_query
        if incoming is None:
            if query is not None and not answered:
                await _answer(query)
            return None
        if query is not None and incoming.sender.is_group and not await asyncio.to_thread(self.dispatch.meant_for, incoming):
            await _answer(query, _stranger_text(incoming))
            return None
        if incoming.kind == "file" and incoming.file_ref and self.intake is not None and self.bot is not None:
            found = parse_file_ref(incoming.file_ref)
            if found is not None:
                incoming = await self.intake.take(incoming, found[1], _fetcher(self.bot, found[0]))
        answering = None
        if query is not None and not answered:  # stop the spinner at once; the answer itself edits the message
            answering = asyncio.get_running_loop().create_task(_answer(query))
        handled = await self.dispatch(incoming)
        if answering is not None:
            await answering
        return handled


def _fetcher(bot: Bot, file_id: str) -> Fetch:
    """getFile, then the download from the file path (the Bot API serves bots files up to 20 MB)."""
    async def fetch(limit: int) -> bytes:
        try:
            file = await bot.get_file(file_id)
        except BadRequest as error:
            if "too big" in error.message.lower():
                raise TooBig from None
            raise
        if file.file_size is not None and file.file_size > limit:
            raise TooBig
        data = bytes(await file.download_as_bytearray())
        if len(data) > limit:
            raise TooBig
        return data

    return fetch


def _stranger_text(incoming: Incoming) -> str:
    t = Translator(normalise_locale(incoming.sender.language))
    return t("This button is for someone else.")


async def _answer(query: CallbackQuery, text: str | None = None) -> None:
    """Every press is answered, so no button keeps spinning; a query too old to answer is no error."""
    try:
        await query.answer(text)
    except BadRequest as error:
        log.info("callback %s not answered: %s", query.id, error.message)
