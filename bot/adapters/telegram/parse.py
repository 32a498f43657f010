"""A Telegram update as our Incoming, or None when it is not for us (another bot's command, group chatter,
edits, membership changes). Pure: no network, so it is tested with plain Update objects."""

from __future__ import annotations

import re

from telegram import Message, Update, User
from telegram.constants import ChatType

from bot.events import Incoming, PaymentIn, Press, Sender, parse_text

PLATFORM = "telegram"
REF_PREFIX = "telegram:"


PHOTO = "photo:"  # a photo's file id can only be sent again as a photo ("type of file mismatch" otherwise)


def file_ref(file_id: str, name: str, *, photo: bool = False) -> str:
    """Telegram file ids are only usable by this bot on Telegram, so the ref says so and keeps the name."""
    return f"{REF_PREFIX}{PHOTO if photo else ''}{file_id}#{name}"


def parse_file_ref(ref: str) -> tuple[str, str] | None:
    """(file_id, name) for a ref made by file_ref (the name may be missing: "file"), else None."""
    if not ref.startswith(REF_PREFIX):
        return None
    file_id, _, name = ref[len(REF_PREFIX):].removeprefix(PHOTO).partition("#")
    return (file_id, name or "file") if file_id else None


def is_photo_ref(ref: str) -> bool:
    return ref.startswith(REF_PREFIX + PHOTO)


def to_incoming(update: Update, bot_username: str) -> Incoming | None:
    event_id = f"u{update.update_id}"  # a redelivered update keeps its id: the inbox drops the repeat
    username = bot_username.lstrip("@")
    if update.callback_query is not None:
        return _press(update, event_id)
    message = update.message  # edited_message, channel_post, … are deliberately not looked at
    if message is None or message.from_user is None or message.from_user.is_bot:
        return None
    sender = _sender(message.from_user, message)
    is_group = sender.is_group
    paid = message.successful_payment
    if paid is not None:  # the money is taken: whatever chat it is in, it is counted
        return Incoming(sender, event_id, payment=PaymentIn(
            paid.invoice_payload, paid.currency, paid.total_amount, paid.telegram_payment_charge_id,
            paid.provider_payment_charge_id or ""))
    if message.text is not None:
        return _text(sender, event_id, message, message.text, username)
    ref = _attachment(message)
    if ref is None:
        return None
    if is_group and not (_replies_to_bot(message, username) or _mention(username).search(message.caption or "")):
        return None  # a file shared with the group, not sent to us
    return Incoming(sender, event_id, file_ref=ref)


def _press(update: Update, event_id: str) -> Incoming | None:
    query = update.callback_query
    if query is None or query.data is None:  # no data: a game's button, nothing of ours
        return None
    message = query.message  # None for a button on an inline-mode message
    user = query.from_user
    if message is None:
        sender = Sender(PLATFORM, str(user.id), str(user.id), user.full_name, user.language_code)
        return Incoming(sender, event_id, press=Press(query.data))
    chat = message.chat
    sender = Sender(
        PLATFORM, str(user.id), str(chat.id), user.full_name, user.language_code,
        is_group=chat.type != ChatType.PRIVATE,
    )
    return Incoming(sender, event_id, press=Press(query.data, str(message.message_id)))


def _sender(user: User, message: Message) -> Sender:
    return Sender(
        platform=PLATFORM,
        user_id=str(user.id),
        chat_id=str(message.chat.id),
        display_name=user.full_name,
        language=user.language_code,
        timezone=None,
        is_group=message.chat.type != ChatType.PRIVATE,
    )


def _text(sender: Sender, event_id: str, message: Message, text: str, username: str) -> Incoming | None:
    """In a group only what is addressed to this bot: its commands, replies to it, mentions of it."""
    if not sender.is_group:
        return parse_text(sender, event_id, text)
    stripped = text.strip()
    if stripped.startswith("/"):
        head = stripped[1:].split(maxsplit=1)[0] if len(stripped) > 1 else ""
        _, at, target = head.partition("@")
        if at and target.lower() != username.lower():
            return None  # /book@OtherBot
        return parse_text(sender, event_id, text)
    mention = _mention(username)
    if mention.search(text):
        return parse_text(sender, event_id, " ".join(mention.sub(" ", text).split()))
    if _replies_to_bot(message, username):
        return parse_text(sender, event_id, text)
    return None


def _mention(username: str) -> re.Pattern[str]:
    return re.compile(rf"@{re.escape(username)}(?![A-Za-z0-9_])", re.IGNORECASE)


def _replies_to_bot(message: Message, username: str) -> bool:
    reply = message.reply_to_message
    if reply is None or reply.from_user is None:
        return False
    if message.is_topic_message and reply.message_id == message.message_thread_id:
        return False  # in a forum topic every message "replies" to the topic's first message
    return reply.from_user.is_bot and (reply.from_user.username or "").lower() == username.lower()


def _attachment(message: Message) -> str | None:
    if message.document is not None:
        return file_ref(message.document.file_id, message.document.file_name or "file")
    if message.photo:
        largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        return file_ref(largest.file_id, "photo.jpg", photo=True)
    return None
