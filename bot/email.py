"""Email as one more outbox platform: confirmations and changes go to people's inboxes as well as their
chat, with the calendar invite attached, so the session reaches calendars that no chat can write to.

Rows for "email" carry a Reply like any chat's (text, optional file) and the address as their chat id;
an OutboxPump with the EmailSender below delivers them with the same leases and retries as the chats.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from bot.delivery import GiveUp, OutboxPump, Retry
from bot.files.outgoing import FileReader
from bot.replies import FileOut
from bot.settings import DEFAULT_SMTP_FROM, file_settings, smtp_from, smtp_url
from core.text import clip as shorten
from storage.chat_repo import OutboxMessage
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

PLATFORM = "email"
SUBJECT_CHARS = 80
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)
    tls: bool = False  # smtps: TLS from the first byte
    starttls: bool = False  # smtp, upgraded to TLS before the login
    sender: str = DEFAULT_SMTP_FROM
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str, sender: str = DEFAULT_SMTP_FROM) -> SmtpSettings:
        """smtp://user:pass@host:587?starttls=true, smtps://user:pass@host:465 or smtp://127.0.0.1:1025;
        user and password percent-encoded. A bad URL stops the process at start, not at the first mail."""
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:pass@host:587?starttls=true or smtps://host:465")
        query = {k.lower(): v[-1].strip().lower() for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        raw_starttls = query.get("starttls", "")
        if raw_starttls not in _TRUE + _FALSE:
            raise ValueError(f"SMTP_URL: starttls must be true or false, not {raw_starttls!r}")
        if not parseaddr(sender)[1]:
            raise ValueError(f"SMTP_FROM has no address: {sender!r}")
        tls = scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if tls else 25),
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            tls=tls,
            starttls=not tls and raw_starttls in _TRUE,
            sender=sender,
            timeout=float(query.get("timeout") or 30),
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> SmtpSettings | None:
        url = smtp_url(env)
        return None if url is None else cls.from_url(url, smtp_from(env))


class EmailSender:
    """A PlatformSender for the outbox: one mail per row, sent with smtplib off the event loop."""

    platform: str = PLATFORM

    def __init__(self, settings: SmtpSettings, files: FileReader | None = None) -> None:
        self.settings = settings
        self.files = files  # stored files a mail carries are read here

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> EmailSender | None:
        settings = SmtpSettings.from_env(env)
        return None if settings is None else cls(settings)

    async def send(self, message: OutboxMessage) -> str | None:
        """No id back: a mail has no buttons to press or edit later (and a Message-ID may not fit the row)."""
        if self.files is not None:
            payload = await self.files.inline(json.loads(message.payload))
            message = replace(message, payload=json.dumps(payload))
        mail = compose(message, self.settings.sender)
        await asyncio.to_thread(self._deliver, mail, message.chat_id)
        return None

    def _deliver(self, mail: EmailMessage, to: str) -> None:
        s = self.settings
        smtp: smtplib.SMTP
        if s.tls:
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        with smtp:
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.username:
                smtp.login(s.username, s.password)
            smtp.send_message(mail, from_addr=parseaddr(s.sender)[1], to_addrs=[to])

    def classify(self, error: Exception) -> Retry | GiveUp:
        """A 5xx about this mail (no such mailbox, sender or content refused) never gets better; 4xx, a server
        that is down or a login the operator has to fix are worth another try."""
        if isinstance(error, smtplib.SMTPRecipientsRefused):
            codes = [code for code, _ in error.recipients.values()]
            if codes and all(500 <= code < 600 for code in codes):
                return GiveUp(f"recipient refused ({codes[0]})")
            return Retry()
        if isinstance(error, (smtplib.SMTPSenderRefused, smtplib.SMTPDataError)):
            if 500 <= error.smtp_code < 600:
                return GiveUp(f"{'sender' if isinstance(error, smtplib.SMTPSenderRefused) else 'message'} "
                              f"refused ({error.smtp_code})")
            return Retry()
        if isinstance(error, (smtplib.SMTPException, OSError)):  # refused connection, timeout, TLS, auth
            return Retry()
        return GiveUp("bug")


def compose(message: OutboxMessage, sender: str) -> EmailMessage:
    """The row's Reply as a plain-text mail: the first line is the subject, the file an attachment."""
    data = json.loads(message.payload)
    text = str(data.get("text") or "")
    file = FileOut.from_dict(data["file"]) if data.get("file") else None
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.chat_id
    mail["Subject"] = subject(text, file.name if file else "")
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a no-reply address
    mail.set_content(text or "\n")
    files = [file] if file is not None else []
    files += [FileOut.from_dict(f) for f in data.get("attachments") or []]
    for one in files:
        if one.data:
            maintype, subtype, params = _content_type(one.content_type)
            mail.add_attachment(one.data, maintype=maintype, subtype=subtype, filename=one.name, params=params)
        else:  # a platform's file reference: nothing we can fetch from here
            log.info("outbox %s: %s not attached (a reference, not data)", message.id, one.name)
    return mail


def subject(text: str, fallback: str = "") -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "") or fallback or "Headstrt"
    return shorten(first, SUBJECT_CHARS)


def _content_type(value: str) -> tuple[str, str, dict[str, str]]:
    """"text/calendar; method=REQUEST" -> ("text", "calendar", {"method": "REQUEST", "charset": "utf-8"})."""
    header = Message()
    header["Content-Type"] = value
    params = {k: v for k, v in (header.get_params() or [])[1:] if isinstance(v, str)}  # None only without a header
    if header.get_content_maintype() == "text":
        params.setdefault("charset", "utf-8")  # an .ics is UTF-8 by definition
    return header.get_content_maintype(), header.get_content_subtype(), params


def email_pump(uow_factory: Callable[[], SqlUnitOfWork], env: Mapping[str, str] = os.environ,
               ) -> OutboxPump | None:
    """The pump that sends email rows, when SMTP_URL is set (run it beside the chat pumps)."""
    settings = SmtpSettings.from_env(env)
    if settings is None:
        return None
    return OutboxPump(uow_factory, EmailSender(settings, FileReader.from_settings(uow_factory, file_settings(env))))
