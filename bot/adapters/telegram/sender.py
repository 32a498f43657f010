"""Sends one outbox row to Telegram through python-telegram-bot (whose rate limiter keeps the flood
limits), and says which failures are worth another try."""

from __future__ import annotations

import json
from datetime import timedelta

from telegram import Bot, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError

from bot.adapters.telegram.render import Outgoing, plan
from bot.delivery import GiveUp, Retry
from bot.files.outgoing import FileReader
from storage.chat_repo import OutboxMessage

PLATFORM = "telegram"

# An edit that finds nothing to edit (too old, deleted) is sent as a new message instead.
_EDIT_GONE = ("message to edit not found", "message can't be edited", "message_id_invalid", "no text in the message")


class TelegramSender:
    platform = PLATFORM

    def __init__(self, bot: Bot, files: FileReader | None = None, *, payment_provider_token: str = "") -> None:
        self.bot = bot
        self.files = files  # stored files are read here and uploaded (sendDocument with the bytes)
        self.payment_provider_token = payment_provider_token  # "" = Telegram Stars

    async def send(self, message: OutboxMessage) -> str | None:
        chat_id = int(message.chat_id)
        marked: str | None = None
        payload = json.loads(message.payload)
        if self.files is not None:
            payload = await self.files.inline(payload)
        for outgoing in plan(payload):
            try:
                sent = await self._one(chat_id, outgoing)
            except ChatMigrated as moved:  # a group became a supergroup: the message goes to its new id
                chat_id = int(moved.new_chat_id)
                sent = await self._one(chat_id, outgoing)
            if sent is not None and (marked is None or "reply_markup" in outgoing.kwargs):
                marked = sent
        return marked

    async def _one(self, chat_id: int, outgoing: Outgoing) -> str | None:
        kwargs = dict(outgoing.kwargs)
        if outgoing.method == "edit_message_text":
            try:
                result = await self.bot.edit_message_text(chat_id=chat_id, **kwargs)
            except BadRequest as error:
                text = error.message.lower()
                if "message is not modified" in text:  # pressed twice, or nothing changed: already on screen
                    return str(kwargs["message_id"])
                if not any(gone in text for gone in _EDIT_GONE):
                    raise
                kwargs.pop("message_id")
                result = await self.bot.send_message(chat_id=chat_id, **kwargs)
            return _id(result, kwargs.get("message_id"))
        if outgoing.method == "send_document":
            return _id(await self.bot.send_document(chat_id=chat_id, **kwargs), None)
        if outgoing.method == "send_invoice":
            return _id(await self.bot.send_invoice(chat_id=chat_id, provider_token=self.payment_provider_token,
                                                   **kwargs), None)
        if outgoing.method == "send_photo":
            return _id(await self.bot.send_photo(chat_id=chat_id, **kwargs), None)
        return _id(await self.bot.send_message(chat_id=chat_id, **kwargs), None)

    def classify(self, error: Exception) -> Retry | GiveUp:
        if isinstance(error, RetryAfter):
            after = error.retry_after
            return Retry(after.total_seconds() if isinstance(after, timedelta) else float(after))
        if isinstance(error, Forbidden):  # blocked the bot, or never started it: no retry will help
            return GiveUp("forbidden")
        if isinstance(error, ChatMigrated):  # moved twice while sending: the new id refuses as well
            return GiveUp(f"chat moved to {error.new_chat_id}")
        if isinstance(error, InvalidToken):
            return Retry()  # an operator fixes the token; keep the message
        if isinstance(error, BadRequest):
            return GiveUp("refused")  # a malformed message or a chat that is gone: a bug to read in the log
        if isinstance(error, (NetworkError, TelegramError)):
            return Retry()
        return GiveUp("bug")  # not Telegram's answer but our own error (a bad payload): trying again repeats it


def _id(result: Message | bool, fallback: object) -> str | None:
    if isinstance(result, Message):
        return str(result.message_id)
    return None if fallback is None else str(fallback)
