"""A strict fake of the Telegram Bot API, served over HTTP on 127.0.0.1, for tests and benchmarks.

The real python-telegram-bot talks to it (``base_url=f"{fake.base_url}/bot"``), so tests exercise
PTB's own serialisation, error mapping and retries. It refuses what real Telegram refuses, with
Telegram's error strings: bad HTML, over-long text, 65-byte callback data, flood limits, "message
is not modified", stale callback queries. A bug that Telegram would reject fails the test instead
of production. The server runs in its own thread and event loop, so sync tests and tests that run
their own asyncio loop can both use it; all state sits behind one lock.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import math
import mimetypes
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

COUNTED = frozenset({
    "sendMessage", "sendDocument", "sendPhoto", "sendMediaGroup", "copyMessage", "forwardMessage", "sendInvoice",
    "editMessageText", "editMessageReplyMarkup", "editMessageCaption",
})
NOT_MODIFIED = ("message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message")
WEBHOOK_CONFLICT = ("Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first")
POLL_CONFLICT = ("Conflict: terminated by other getUpdates request; "
                 "make sure that only one bot instance is running")
_INT_PARAMS = frozenset({"chat_id", "from_chat_id", "message_id", "offset", "limit", "timeout", "user_id",
                         "max_connections", "reply_to_message_id", "cache_time", "message_thread_id"})
_BOOL_PARAMS = frozenset({"show_alert", "disable_notification", "protect_content", "drop_pending_updates",
                          "disable_web_page_preview", "allow_sending_without_reply",
                          "disable_content_type_detection", "show_caption_above_media", "ok"})
_JSON_PARAMS = frozenset({"reply_markup", "allowed_updates", "commands", "scope", "reply_parameters",
                          "link_preview_options", "entities", "caption_entities", "media", "message_ids",
                          "prices"})
_CHAT_ACTIONS = frozenset({"typing", "upload_photo", "record_video", "upload_video", "record_voice",
                           "upload_voice", "upload_document", "choose_sticker", "find_location",
                           "record_video_note", "upload_video_note"})
_DEFAULT_OFF_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_URL_RE = re.compile(r"(https?|tg)://\S+")


# --------------------------------------------------------------------------------------------- records

@dataclass
class Call:
    """One API request as the fake saw it. status 0: not answered yet, or the connection was dropped."""

    method: str
    params: dict[str, Any]
    status: int = 0
    at: float = 0.0  # time.monotonic() at receipt
    answered_at: float = 0.0
    via_webhook: bool = False  # performed from a webhook's answer, not requested by the bot


@dataclass
class Upload:
    """A file part of a multipart request."""

    filename: str
    data: bytes = field(repr=False)
    mime: str


@dataclass
class StoredFile:
    """A file the fake can serve back through getFile and the download URL."""

    file_id: str
    file_unique_id: str
    data: bytes = field(repr=False)
    file_name: str
    mime_type: str
    file_path: str


@dataclass
class Msg:
    """A message in a chat. ``history`` holds every version, the original first and the current last."""

    message_id: int
    chat_id: int
    text: str | None  # plain text after entity parsing; None for media messages
    html: str | None  # the raw source when parse_mode was HTML
    reply_markup: dict[str, Any] | None  # the inline keyboard the message carries
    document: dict[str, Any] | None
    edits: int = 0
    from_bot: bool = True
    sender_id: int = 0
    entities: list[dict[str, Any]] = field(default_factory=list)  # of the text, or of the caption
    caption: str | None = None
    photo: list[dict[str, Any]] | None = None
    date: int = 0
    edit_date: int | None = None
    reply_to: int | None = None
    deleted: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # forward_origin, media_group_id, ...
    history: list[dict[str, Any]] = field(default_factory=list)

    def version(self) -> dict[str, Any]:
        return copy.deepcopy({"text": self.text, "html": self.html, "entities": self.entities,
                              "caption": self.caption, "reply_markup": self.reply_markup})


class _ApiError(Exception):
    """An error answer: raised anywhere in a method, turned into Telegram's JSON by the dispatcher."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad(reason: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {reason}")


@dataclass
class _Fault:
    error: _ApiError | None  # None: drop the connection
    perform: bool = False  # for drops: do the call, then lose the answer


class _Poll:
    """One waiting getUpdates: woken by new updates, or terminated by a newer getUpdates."""

    def __init__(self) -> None:
        self.wake = asyncio.Event()
        self.terminated = False


# --------------------------------------------------------------------------------------------- text

class HtmlError(ValueError):
    """Why Telegram would refuse an HTML text ("can't parse entities: <reason>")."""


_TAG_ENTITY = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
               "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
               "span": "spoiler", "tg-spoiler": "spoiler", "a": "text_link", "code": "code", "pre": "pre",
               "blockquote": "blockquote", "tg-emoji": "custom_emoji"}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8}));")
_SPECIAL_RE = re.compile(r"[<&]")
_NAME_RE = re.compile(r"[a-zA-Z0-9-]*")
_ATTR_NAME_RE = re.compile(r"[a-zA-Z0-9_-]*")
_UNQUOTED_RE = re.compile(r"[^\s>]*")


def utf16_len(text: str) -> int:
    """Telegram measures lengths and entity offsets in UTF-16 code units (an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def _decode_entity(src: str, i: int) -> tuple[str, int]:
    m = _HTML_ENTITY_RE.match(src, i)
    if m is None:
        raise HtmlError(f'Character "&" must be escaped as "&amp;" at byte offset {len(src[:i].encode())}')
    if m.group(1):
        return _NAMED_ENTITIES[m.group(1)], m.end()
    code = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
    if not 0 < code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise HtmlError(f"Invalid character code {code} at byte offset {len(src[:i].encode())}")
    return chr(code), m.end()


def _unescape(raw: str) -> str:
    out, i = [], 0
    while (j := raw.find("&", i)) >= 0:
        out.append(raw[i:j])
        char, i = _decode_entity(raw, j)
        out.append(char)
    return "".join(out) + raw[i:]


def _check_tag(name: str, attrs: dict[str, str]) -> None:
    if name == "a" and not attrs.get("href"):
        raise HtmlError('Tag "a" must have a non-empty attribute "href"')
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise HtmlError('Tag "span" must have class "tg-spoiler"')
    if name == "tg-emoji" and not attrs.get("emoji-id"):
        raise HtmlError('Tag "tg-emoji" must have attribute "emoji-id"')


def _entity(tag: str, start: int, end: int, attrs: dict[str, str]) -> dict[str, Any] | None:
    if end <= start:
        return None
    kind = _TAG_ENTITY[tag]
    if tag == "blockquote" and "expandable" in attrs:
        kind = "expandable_blockquote"
    entity: dict[str, Any] = {"type": kind, "offset": start, "length": end - start}
    if tag == "a":
        entity["url"] = attrs["href"]
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = attrs["emoji-id"]
    elif tag == "pre" and attrs.get("_language"):
        entity["language"] = attrs["_language"]
    return entity


def parse_html(src: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram's HTML subset into (plain text, entities) or raise HtmlError like Telegram does."""
    out: list[str] = []
    pos = 0  # UTF-16 offset in the plain text
    stack: list[tuple[str, int, dict[str, str]]] = []
    entities: list[dict[str, Any]] = []
    i, n = 0, len(src)

    def at(k: int) -> str:
        return f"byte offset {len(src[:k].encode())}"

    while i < n:
        special = _SPECIAL_RE.search(src, i)
        stop = special.start() if special else n
        if stop > i:
            out.append(src[i:stop])
            pos += utf16_len(src[i:stop])
            i = stop
            continue
        if src[i] == "&":
            char, i = _decode_entity(src, i)
            out.append(char)
            pos += utf16_len(char)
            continue
        if src.startswith("</", i):
            k = _NAME_RE.match(src, i + 2).end()  # type: ignore[union-attr]
            name = src[i + 2:k].lower()
            while k < n and src[k].isspace():
                k += 1
            if k >= n or src[k] != ">":
                raise HtmlError(f"Unclosed end tag at {at(i)}")
            if not stack:
                raise HtmlError(f"Unexpected end tag at {at(i)}")
            tag, start, attrs = stack.pop()
            if name != tag:
                raise HtmlError(f'Unmatched end tag at {at(i)}, expected "</{tag}>", found "</{name}>"')
            if tag == "code" and stack and stack[-1][0] == "pre":  # <pre><code class="language-x">
                if attrs.get("class", "").startswith("language-"):
                    stack[-1][2]["_language"] = attrs["class"][len("language-"):]
            elif made := _entity(tag, start, pos, attrs):
                entities.append(made)
            i = k + 1
            continue
        k = _NAME_RE.match(src, i + 1).end()  # type: ignore[union-attr]
        name = src[i + 1:k].lower()
        if k >= n:
            raise HtmlError(f"Unclosed start tag at {at(i)}")
        if name not in _TAG_ENTITY:
            raise HtmlError(f'Unsupported start tag "{name}" at {at(i)}')
        attrs: dict[str, str] = {}
        while True:
            while k < n and src[k].isspace():
                k += 1
            if k >= n:
                raise HtmlError(f"Unclosed start tag at {at(i)}")
            if src[k] == ">":
                k += 1
                break
            end = _ATTR_NAME_RE.match(src, k).end()  # type: ignore[union-attr]
            if end == k:
                raise HtmlError(f'Empty attribute name in the tag "{name}" at {at(k)}')
            attr, k, value = src[k:end].lower(), end, ""
            while k < n and src[k].isspace():
                k += 1
            if k < n and src[k] == "=":
                k += 1
                while k < n and src[k].isspace():
                    k += 1
                if k < n and src[k] in "\"'":
                    close = src.find(src[k], k + 1)
                    if close < 0:
                        raise HtmlError(f"Unclosed start tag at {at(i)}")
                    value, k = _unescape(src[k + 1:close]), close + 1
                else:
                    end = _UNQUOTED_RE.match(src, k).end()  # type: ignore[union-attr]
                    value, k = _unescape(src[k:end]), end
            attrs[attr] = value
        _check_tag(name, attrs)
        stack.append((name, pos, attrs))
        i = k
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _strip(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims leading and trailing whitespace, moving and clipping the entities to match."""
    stripped = text.strip()
    shift = utf16_len(text[:len(text) - len(text.lstrip())]) if stripped else 0
    total = utf16_len(stripped)
    kept = []
    for e in entities:
        start, end = max(e["offset"] - shift, 0), min(e["offset"] + e["length"] - shift, total)
        if end > start:
            kept.append({**e, "offset": start, "length": end - start})
    return stripped, kept


# --------------------------------------------------------------------------------------------- markup

_INLINE_ACTIONS = ("callback_data", "url", "web_app", "login_url", "switch_inline_query",
                   "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
                   "callback_game", "pay")


def check_markup(markup: Any, *, inline_only: bool = False) -> dict[str, Any] | None:
    """Validate reply_markup like Telegram; return the inline keyboard the message will carry, if any."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad("can't parse reply keyboard markup JSON object")
        if sum(len(row) for row in rows) > 100:
            raise _bad("reply markup is too long")
        for button in (b for row in rows for b in row):
            if not isinstance(button, dict):
                raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
            text = button.get("text")
            actions = [key for key in _INLINE_ACTIONS if key in button]
            if not isinstance(text, str) or not text.strip() or not actions:
                raise _bad("text buttons are unallowed in the inline keyboard")
            if len(actions) > 1:
                raise _bad("can't parse inline keyboard button: exactly one of the optional fields must be used")
            data = button.get("callback_data")
            if "callback_data" in button and (not isinstance(data, str) or not 1 <= len(data.encode()) <= 64):
                raise _bad("BUTTON_DATA_INVALID")
            if "url" in button and not (isinstance(button["url"], str) and _URL_RE.fullmatch(button["url"])):
                raise _bad("BUTTON_URL_INVALID")
        return copy.deepcopy(markup) if any(rows) else None
    if inline_only:
        raise _bad("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad("can't parse reply keyboard markup JSON object")
        for button in (b for row in rows for b in row):
            text = button.get("text") if isinstance(button, dict) else button
            if not isinstance(text, str) or not text.strip():
                raise _bad("keyboard button text must be non-empty")
    elif markup.get("remove_keyboard") is not True and markup.get("force_reply") is not True:
        raise _bad("can't parse reply keyboard markup JSON object")
    return None


def _coerce(params: dict[str, Any]) -> dict[str, Any]:
    """Form fields arrive as strings: turn them into what the JSON body would have carried."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, str):
            if key in _JSON_PARAMS:
                try:
                    value = json.loads(value)
                except ValueError:
                    what = "reply keyboard markup" if key == "reply_markup" else key
                    raise _bad(f"can't parse {what} JSON object") from None
            elif key in _INT_PARAMS and re.fullmatch(r"-?\d+", value.strip()):
                value = int(value)
            elif key in _BOOL_PARAMS:
                value = value.strip().lower() in ("true", "1")
        out[key] = value
    return out


def _method_names(cls: type) -> dict[str, str]:
    return {name[5:].lower(): name[5:] for name in dir(cls) if name.startswith("_api_")}


# --------------------------------------------------------------------------------------------- server

class FakeTelegram:
    """The fake Bot API server plus the people who talk to the bot (see the module docstring)."""

    def __init__(self, token: str = "123456:TEST-TOKEN", *, bot_username: str = "HeadstrtTestBot",
                 overall_limit: tuple[int, float] | None = (30, 1.0),
                 private_limit: tuple[int, float] | None = (3, 3.0),
                 group_limit: tuple[int, float] | None = (20, 60.0),
                 require_start: bool = True) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.overall_limit, self.private_limit, self.group_limit = overall_limit, private_limit, group_limit
        self.require_start = require_start
        self.base_url = ""
        self.calls: list[Call] = []
        self.throttled: list[Call] = []
        self.answered: dict[str, dict[str, Any]] = {}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.webhook: dict[str, Any] | None = None
        self._lock = threading.RLock()  # the one lock; reentrant so wait_for predicates may call sent()
        self._users: dict[int, dict[str, Any]] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._started: set[int] = set()
        self._blocked: set[int] = set()
        self._migrated: dict[int, int] = {}  # a group upgraded to a supergroup: old id -> new id
        self._messages: dict[int, dict[int, Msg]] = {}
        self._files: dict[str, StoredFile] = {}
        self._file_paths: dict[str, str] = {}
        self._updates: list[dict[str, Any]] = []
        self._allowed_updates: list[str] = []
        self._queries: dict[str, dict[str, Any]] = {}
        self.issued_queries: list[str] = []  # every callback query id a press created, answered or not
        # Payments: invoices sent, by (chat, message); pre-checkout queries open and answered; charges made.
        self.invoices: dict[tuple[int, int], dict[str, Any]] = {}
        self._checkouts: dict[str, dict[str, Any]] = {}
        self.checkout_answers: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self._charge_ids = itertools.count(1)
        self._faults: dict[str, list[_Fault]] = {}
        self._windows: dict[object, list[float]] = {}
        self._update_ids = itertools.count(100_001)
        self._query_ids = itertools.count(4_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._poll: _Poll | None = None
        self._closing = False

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeTelegram:
        """Serve on an ephemeral 127.0.0.1 port from a background thread with its own event loop."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:  # noqa: BLE001 - reported to start()
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._closing = False
        self._thread = threading.Thread(target=run, name="fake-telegram", daemon=True)
        self._thread.start()
        if not ready.wait(10) or failure:
            raise RuntimeError("the fake Telegram server did not start") from (failure[0] if failure else None)
        return self

    async def _serve(self) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._on_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._on_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    def stop(self) -> None:
        """Wake any long poll, close the server and join the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._closing = True

        async def shutdown() -> None:
            self._wake_poll()
            if self._session is not None:
                await self._session.close()
                self._session = None
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = self._thread = None

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- people ---------------------------------------------------------------------------------

    def user(self, user_id: int, first_name: str = "Ana", username: str | None = None,
             language_code: str | None = "en") -> dict[str, Any]:
        """Register a person (and their private chat with the bot); returns the User dict."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        person: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        chat: dict[str, Any] = {"id": user_id, "type": "private", "first_name": first_name}
        if username:
            person["username"] = chat["username"] = username
        if language_code:
            person["language_code"] = language_code
        with self._lock:
            self._users[user_id] = person
            self._chats[user_id] = chat
        return dict(person)

    def group(self, chat_id: int, title: str = "Founders") -> dict[str, Any]:
        """Register a group chat (ids below -10**12 are supergroups, as on Telegram)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat = {"id": chat_id, "type": "supergroup" if chat_id <= -10**12 else "group", "title": title}
        with self._lock:
            self._chats[chat_id] = chat
        return dict(chat)

    def migrate(self, chat_id: int, new_chat_id: int) -> None:
        """A group becomes a supergroup with a new id: calls naming the old id answer 400 with
        migrate_to_chat_id (python-telegram-bot raises ChatMigrated), as Telegram does."""
        if chat_id >= 0 or new_chat_id > -10**12:
            raise ValueError("a group (negative id) migrates to a supergroup (id below -10**12)")
        with self._lock:
            title = self._chats.get(chat_id, {}).get("title", "Founders")
            self._migrated[chat_id] = new_chat_id
        self.group(new_chat_id, title=title)

    def block(self, user_id: int) -> None:
        """The person blocks the bot: sends to them answer 403 until they write again."""
        with self._lock:
            self._blocked.add(user_id)

    def message(self, user_id: int, text: str = "", *, chat_id: int | None = None,
                document: tuple[str, bytes, str] | None = None) -> dict[str, Any]:
        """A person writes to the bot; returns the Update (deliver() it). With a document, text is its caption."""
        with self._lock:
            person = self._person(user_id)
            chat_id = user_id if chat_id is None else chat_id
            if chat_id > 0 and chat_id != user_id:
                raise ValueError("a private chat's id is the user's id")
            if chat_id not in self._chats:
                self.group(chat_id)
            entities = []
            if text.startswith("/"):
                entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(text.split()[0])})
            doc = None
            if document is not None:
                name, data, mime = document
                doc = self._doc_dict(self._store(data, name, mime, "documents"))
            msg = self._new_msg(chat_id, text=None if doc else text, caption=(text or None) if doc else None,
                                entities=entities, document=doc, from_bot=False, sender_id=person["id"])
            if chat_id > 0:
                self._started.add(user_id)
                self._blocked.discard(user_id)
            return {"update_id": next(self._update_ids), "message": self._msg_dict(msg)}

    def press(self, user_id: int, message_id: int, data: str, *, chat_id: int | None = None) -> dict[str, Any]:
        """A person presses an inline button of the bot's message; returns the Update (deliver() it).

        Raises ValueError when the message (in its current version) has no such button, as a person
        can only press what they see."""
        with self._lock:
            person = self._person(user_id)
            chat_id = user_id if chat_id is None else chat_id
            msg = self._messages.get(chat_id, {}).get(message_id)
            if msg is None or msg.deleted or not msg.from_bot:
                raise ValueError(f"the bot has no message {message_id} in chat {chat_id}")
            datas = [b.get("callback_data") for row in (msg.reply_markup or {}).get("inline_keyboard", [])
                     for b in row]
            if data not in datas:
                raise ValueError(f"message {message_id} has no button with callback_data {data!r}: {datas}")
            query = {"id": str(next(self._query_ids)), "from": dict(person), "message": self._msg_dict(msg),
                     "chat_instance": str(abs(chat_id) * 7919 + self.bot_id), "data": data}
            self._queries[query["id"]] = query
            self.issued_queries.append(query["id"])
            return {"update_id": next(self._update_ids), "callback_query": copy.deepcopy(query)}

    def checkout(self, user_id: int, message_id: int, *, chat_id: int | None = None, payload: str | None = None,
                 currency: str | None = None, total_amount: int | None = None) -> dict[str, Any]:
        """The person taps Pay on the bot's invoice: the pre_checkout_query Update (deliver() it). The keyword
        arguments forge what a tampered client could send instead of the invoice's own values."""
        with self._lock:
            person = self._person(user_id)
            chat_id = user_id if chat_id is None else chat_id
            invoice = self.invoices.get((chat_id, message_id))
            if invoice is None:
                raise ValueError(f"the bot sent no invoice as message {message_id} in chat {chat_id}")
            query = {"id": str(next(self._query_ids)), "from": dict(person),
                     "currency": invoice["currency"] if currency is None else currency,
                     "total_amount": invoice["total_amount"] if total_amount is None else total_amount,
                     "invoice_payload": invoice["payload"] if payload is None else payload}
            self._checkouts[query["id"]] = {**query, "chat_id": chat_id}
            return {"update_id": next(self._update_ids), "pre_checkout_query": copy.deepcopy(query)}

    def successful_payment(self, query_id: str, *, charge_id: str | None = None) -> dict[str, Any]:
        """Telegram took the money after the bot answered this pre-checkout query ok: the service message
        Update (deliver() it). The same charge_id again models Telegram delivering one payment twice."""
        with self._lock:
            answer = self.checkout_answers.get(query_id)
            if answer is None or not answer["ok"]:
                raise ValueError(f"pre-checkout query {query_id} was not answered ok: {answer}")
            query = answer["query"]
            user_id, chat_id = query["from"]["id"], query["chat_id"]
            stars = query["currency"] == "XTR"
            if charge_id is None:
                charge_id = f"{'stxCHARGE' if stars else 'tgCHARGE'}{next(self._charge_ids)}"
            if charge_id not in self.charges:
                self.charges[charge_id] = {"user_id": user_id, "currency": query["currency"],
                                           "total_amount": query["total_amount"], "refunded": False}
            paid: dict[str, Any] = {"currency": query["currency"], "total_amount": query["total_amount"],
                                    "invoice_payload": query["invoice_payload"],
                                    "telegram_payment_charge_id": charge_id,
                                    "provider_payment_charge_id": "" if stars else f"prov_{charge_id}"}
            msg = self._new_msg(chat_id, from_bot=False, sender_id=user_id,
                                extra={"successful_payment": paid})
            return {"update_id": next(self._update_ids), "message": self._msg_dict(msg)}

    def deliver(self, update: dict[str, Any]) -> int | None:
        """Hand an update to the bot like Telegram: POST it to the webhook (blocking, returns the HTTP
        status, 0 when the receiver was unreachable) or queue it for getUpdates (returns None). Don't call
        it from a loop that also serves the webhook receiver: use ``await fake.adeliver(update)`` there."""
        hook = self._route(update)
        if hook is None:
            return None
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(self._post(hook, update), self._loop).result(35)

    async def adeliver(self, update: dict[str, Any]) -> int | None:
        """deliver() for code running in its own event loop: the POST happens on the fake's loop."""
        hook = self._route(update)
        if hook is None:
            return None
        assert self._loop is not None
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._post(hook, update), self._loop))

    def _route(self, update: dict[str, Any]) -> dict[str, Any] | None:
        """Return the webhook to POST to, or queue the update (dropping kinds not in allowed_updates)."""
        with self._lock:
            allowed = self.webhook["allowed_updates"] if self.webhook is not None else self._allowed_updates
            kinds = set(update) - {"update_id"}
            if (kinds & set(allowed)) if allowed else not (kinds & _DEFAULT_OFF_UPDATES):
                if self.webhook is not None:
                    return dict(self.webhook)
                self._updates.append(copy.deepcopy(update))
        if self._loop is not None and not self._closing:
            self._loop.call_soon_threadsafe(self._wake_poll)
        return None

    async def _post(self, hook: dict[str, Any], update: dict[str, Any]) -> int:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {"X-Telegram-Bot-Api-Secret-Token": hook["secret_token"]} if hook.get("secret_token") else {}
        try:
            async with self._session.post(hook["url"], json=update, headers=headers,
                                          timeout=aiohttp.ClientTimeout(total=30)) as response:
                answer = await response.read()
                if response.status == 200:
                    self.perform_webhook_answer(answer)
                return response.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            with self._lock:
                if self.webhook is not None:
                    self.webhook.update(last_error_date=int(time.time()), last_error_message=repr(exc))
            return 0

    def perform_webhook_answer(self, answer: bytes) -> Call | None:
        """What Telegram does with a webhook's 200 that carries a Bot API method: performs it (recorded
        as a call, via_webhook; its outcome is never told to the bot). None when the answer holds none."""
        try:
            body = json.loads(answer) if answer.strip() else None
        except ValueError:
            return None
        if not isinstance(body, dict) or not isinstance(body.get("method"), str):
            return None
        method = _API_METHODS.get(body["method"].lower())
        call = Call(method or body["method"], {k: v for k, v in body.items() if k != "method"},
                    at=time.monotonic(), via_webhook=True)
        with self._lock:
            self.calls.append(call)
        status = 200
        try:
            if method is None or method == "getUpdates":
                raise _ApiError(404, "Not Found")
            self._perform(method, call)
        except _ApiError as err:
            status = err.status
        with self._lock:
            call.status, call.answered_at = status, time.monotonic()
        return call

    def _wake_poll(self) -> None:
        if self._poll is not None:
            self._poll.wake.set()

    # -- observation ----------------------------------------------------------------------------

    def sent(self, chat_id: int) -> list[Msg]:
        """Snapshots of the bot's messages in a chat, oldest first (deleted ones left out)."""
        with self._lock:
            return [copy.deepcopy(m) for m in self._messages.get(chat_id, {}).values()
                    if m.from_bot and not m.deleted]

    def file_data(self, file_id: str) -> bytes:
        """The bytes of a file the fake holds (one a person sent, or one the bot uploaded)."""
        with self._lock:
            return self._files[file_id].data

    def last(self, chat_id: int) -> Msg:
        sent = self.sent(chat_id)
        if not sent:
            raise AssertionError(f"the bot has no message in chat {chat_id}\n{self.dump()}")
        return sent[-1]

    def buttons(self, chat_id: int, message_id: int | None = None) -> list[tuple[str, str]]:
        """(text, callback_data) of a message's callback buttons; default: the last message with a keyboard."""
        sent = [m for m in self.sent(chat_id) if message_id is None and m.reply_markup or m.message_id == message_id]
        if message_id is not None and not sent:
            raise AssertionError(f"the bot has no message {message_id} in chat {chat_id}")
        if not sent or not sent[-1].reply_markup:
            return []
        return [(b["text"], b["callback_data"]) for row in sent[-1].reply_markup["inline_keyboard"]
                for b in row if "callback_data" in b]

    def wait_for(self, predicate: Callable[[FakeTelegram], bool], timeout: float = 5.0) -> None:
        """Block until predicate(fake) holds (checked under the lock); AssertionError with a dump if not."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if predicate(self):
                    return
            if time.monotonic() >= deadline:
                raise AssertionError(f"condition not met within {timeout}s\n{self.dump()}")
            time.sleep(0.005)

    async def wait_for_async(self, predicate: Callable[[FakeTelegram], bool], timeout: float = 5.0) -> None:
        """wait_for() for code running an event loop (a bot in the same loop keeps working meanwhile)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if predicate(self):
                    return
            if time.monotonic() >= deadline:
                raise AssertionError(f"condition not met within {timeout}s\n{self.dump()}")
            await asyncio.sleep(0.005)

    def dump(self) -> str:
        """A readable picture of the fake's state, for failure messages."""
        with self._lock:
            lines = [f"last calls ({len(self.calls)} in all):"]
            for c in self.calls[-15:]:
                shown = {k: (v if len(repr(v)) < 80 else repr(v)[:77] + "...") for k, v in c.params.items()}
                lines.append(f"  {c.status or '---'} {c.method} {shown}")
            for chat_id, msgs in self._messages.items():
                lines.append(f"chat {chat_id}:")
                for m in list(msgs.values())[-8:]:
                    who = "bot" if m.from_bot else f"user {m.sender_id}"
                    keys = [b["text"] for row in (m.reply_markup or {}).get("inline_keyboard", []) for b in row]
                    body = m.text if m.text is not None else f"[file] {m.caption or ''}"
                    lines.append(f"  #{m.message_id} {who}{' (deleted)' if m.deleted else ''}: {body!r} {keys or ''}")
            lines.append(f"queued updates: {len(self._updates)}; open callback queries: {len(self._queries)}; "
                         f"throttled: {len(self.throttled)}; webhook: {self.webhook}")
            return "\n".join(lines)

    def fail_next(self, method: str, *, status: int, description: str, retry_after: int | None = None,
                  times: int = 1) -> None:
        """The next `times` calls of `method` answer this error and are not performed."""
        error = _ApiError(status, description, {"retry_after": retry_after} if retry_after is not None else None)
        self._add_fault(method, _Fault(error), times)

    def drop_next(self, method: str, times: int = 1, *, perform: bool = False) -> None:
        """The next `times` calls of `method` lose their connection unanswered (a network error for the
        client). With perform=True the call takes effect first, so the client can't know it happened."""
        self._add_fault(method, _Fault(None, perform), times)

    def _add_fault(self, method: str, fault: _Fault, times: int) -> None:
        if method.lower() not in _API_METHODS:
            raise ValueError(f"the fake has no method {method!r}")
        with self._lock:
            self._faults.setdefault(method.lower(), []).extend([fault] * times)

    # -- HTTP -----------------------------------------------------------------------------------

    async def _on_api(self, request: web.Request) -> web.StreamResponse:
        at = time.monotonic()
        name = request.match_info["method"]
        method = _API_METHODS.get(name.lower())
        call = Call(method or name, {}, at=at)
        with self._lock:
            self.calls.append(call)
        try:
            if request.match_info["token"] != self.token:
                raise _ApiError(401, "Unauthorized")
            if method is None:
                raise _ApiError(404, "Not Found")
            call.params = await self._read_params(request)
            with self._lock:
                faults = self._faults.get(method.lower())
                fault = faults.pop(0) if faults else None
            if fault is not None and fault.error is not None:
                raise fault.error
            if fault is not None:  # drop the connection
                if fault.perform and method != "getUpdates":
                    try:
                        self._perform(method, call)
                    except _ApiError:
                        pass
                call.answered_at = time.monotonic()
                request.transport.close()  # type: ignore[union-attr]
                return web.Response()
            if method == "getUpdates":
                result = await self._get_updates(call.params)
            else:
                result = self._perform(method, call)
            return self._answer(call, 200, {"ok": True, "result": result})
        except _ApiError as err:
            return self._answer(call, err.status, err.body())

    def _answer(self, call: Call, status: int, body: dict[str, Any]) -> web.Response:
        with self._lock:
            call.status, call.answered_at = status, time.monotonic()
            if status == 429:
                self.throttled.append(call)
        return web.json_response(body, status=status)

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        """Parameters from the query string and a JSON, url-encoded or multipart body."""
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise _bad("can't parse JSON request body") from None
                if not isinstance(body, dict):
                    raise _bad("request body must be a JSON object")
                params.update(body)
            elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                for key, value in (await request.post()).items():
                    if isinstance(value, web.FileField):
                        value = Upload(value.filename or key, value.file.read(), value.content_type)
                    params[key] = value
        return _coerce(params)

    async def _on_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        with self._lock:
            stored = self._files.get(self._file_paths.get(request.match_info["path"], ""))
        if stored is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(body=stored.data, content_type=stored.mime_type)

    def _perform(self, method: str, call: Call) -> Any:
        """Run a method under the lock: flood check, then the method, then count it if it succeeded."""
        with self._lock:
            keys = self._flood_keys(call.params) if method in COUNTED else []
            self._check_flood(keys, call.at)
            result = getattr(self, f"_api_{method}")(call.params)
            for key, _ in keys:
                self._windows.setdefault(key, []).append(call.at)
            return result

    # -- flood control ----------------------------------------------------------------------------

    def _flood_keys(self, params: dict[str, Any]) -> list[tuple[object, tuple[int, float]]]:
        keys: list[tuple[object, tuple[int, float]]] = []
        if self.overall_limit:
            keys.append(("all", self.overall_limit))
        chat = params.get("chat_id")
        limit = self.private_limit if isinstance(chat, int) and chat > 0 else self.group_limit
        if isinstance(chat, int) and limit:
            keys.append((chat, limit))
        return keys

    def _check_flood(self, keys: list[tuple[object, tuple[int, float]]], at: float) -> None:
        """Sliding windows: refuse a call that would make more than N counted calls within S seconds."""
        wait: float | None = None
        for key, (count, span) in keys:
            times = sorted(t for t in self._windows.get(key, []) if t > at - span)
            self._windows[key] = times
            if len(times) >= count:
                frees = times[len(times) - count] + span - at
                wait = frees if wait is None else max(wait, frees)
        if wait is not None:
            retry = max(1, math.ceil(wait))
            raise _ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})

    # -- shared rules ---------------------------------------------------------------------------------

    def _person(self, user_id: int) -> dict[str, Any]:
        if user_id not in self._users:
            self.user(user_id, first_name=f"User{user_id}")
        return self._users[user_id]

    def _target_chat(self, chat_id: Any) -> int:
        """The chat a send goes to: known, and (for a private chat) one the person opened."""
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        self._not_migrated(chat_id)
        if not isinstance(chat_id, int) or chat_id not in self._chats:
            raise _bad("chat not found")
        if chat_id > 0 and chat_id in self._blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id > 0 and self.require_start and chat_id not in self._started:
            raise _ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat_id

    def _not_migrated(self, chat_id: Any) -> None:
        if chat_id in self._migrated:
            raise _ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                            {"migrate_to_chat_id": self._migrated[chat_id]})

    def _format(self, text: Any, parse_mode: Any, entities: Any, *, limit: int,
                caption: bool) -> tuple[str, list[dict[str, Any]], str | None]:
        """(plain text, entities, raw html) after Telegram's parsing, trimming and length check."""
        text = "" if text is None else str(text)
        mode = str(parse_mode or "").strip().lower()
        html = None
        if not mode:
            plain, found = text, list(entities) if isinstance(entities, list) else []
        elif mode == "html":
            try:
                plain, found = parse_html(text)
            except HtmlError as err:
                raise _bad(f"can't parse entities: {err}") from None
            html = text
        elif mode in ("markdown", "markdownv2"):
            raise _bad(f"the fake Telegram does not implement parse_mode {parse_mode}; use HTML")
        else:
            raise _bad("unsupported parse_mode")
        plain, found = _strip(plain, found)
        if not plain and not caption:
            raise _bad("message text is empty")
        if utf16_len(plain) > limit:
            raise _bad("message caption is too long" if caption else "message is too long")
        return plain, found, html

    def _caption(self, p: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]], str | None]:
        caption, entities, html = self._format(p.get("caption"), p.get("parse_mode"), p.get("caption_entities"),
                                               limit=1024, caption=True)
        return caption or None, entities, html

    def _reply_target(self, chat_id: int, p: dict[str, Any]) -> int | None:
        reply = p.get("reply_parameters")
        if isinstance(reply, dict):
            target, lenient = reply.get("message_id"), bool(reply.get("allow_sending_without_reply"))
        else:
            target, lenient = p.get("reply_to_message_id"), bool(p.get("allow_sending_without_reply"))
        if target is None:
            return None
        found = self._messages.get(chat_id, {}).get(target)
        if found is None or found.deleted:
            if lenient:
                return None
            raise _bad("message to be replied not found")
        return target

    def _existing(self, p: dict[str, Any], missing: str) -> Msg:
        """The message (chat_id, message_id) names, or 400 `missing`."""
        if "inline_message_id" in p:
            raise _bad("the fake Telegram does not implement inline_message_id")
        chat, message_id = p.get("chat_id"), p.get("message_id")
        if chat is None:
            raise _bad("chat_id is empty")
        self._not_migrated(chat)
        if message_id is None:
            raise _bad("message identifier is not specified")
        if chat not in self._chats:
            raise _bad("chat not found")
        msg = self._messages.get(chat, {}).get(message_id)
        if msg is None or msg.deleted:
            raise _bad(missing)
        return msg

    def _editable(self, p: dict[str, Any]) -> Msg:
        msg = self._existing(p, "message to edit not found")
        if not msg.from_bot:
            raise _bad("message to edit not found")
        return msg

    def _new_msg(self, chat_id: int, **fields: Any) -> Msg:
        msgs = self._messages.setdefault(chat_id, {})
        msg = Msg(message_id=max(msgs, default=0) + 1, chat_id=chat_id, text=fields.pop("text", None),
                  html=fields.pop("html", None), reply_markup=fields.pop("reply_markup", None),
                  document=fields.pop("document", None), date=int(time.time()), **fields)
        if msg.from_bot:
            msg.sender_id = self.bot_id
        msg.history.append(msg.version())
        msgs[msg.message_id] = msg
        return msg

    def _edit(self, msg: Msg, **changes: Any) -> dict[str, Any]:
        for key, value in changes.items():
            setattr(msg, key, value)
        msg.edits += 1
        msg.edit_date = int(time.time())
        msg.history.append(msg.version())
        return self._msg_dict(msg)

    def _store(self, data: bytes, name: str, mime: str | None, folder: str) -> StoredFile:
        n = next(self._file_ids)
        file_id = f"FILE{n}"
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", name) or "file"
        mime = mime if mime and mime != "application/octet-stream" else None
        mime = mime or mimetypes.guess_type(name)[0] or "application/octet-stream"
        stored = StoredFile(file_id, f"UNIQ{n}", data, name, mime, f"{folder}/{file_id}_{safe}")
        self._files[file_id] = stored
        self._file_paths[stored.file_path] = file_id
        return stored

    def _file_param(self, value: Any, kind: str, p: dict[str, Any], folder: str) -> StoredFile:
        """An upload, an attach://name reference to one, or a file_id the fake issued."""
        if isinstance(value, str) and value.startswith("attach://"):
            value = p.get(value[len("attach://"):])
        if isinstance(value, Upload):
            if not value.data:
                raise _bad("file must be non-empty")
            return self._store(value.data, value.filename, value.mime, folder)
        if value is None or value == "":
            raise _bad(f"there is no {kind} in the request")
        if isinstance(value, str) and value in self._files:
            return self._files[value]
        raise _bad("wrong file identifier/HTTP URL specified")

    @staticmethod
    def _doc_dict(f: StoredFile) -> dict[str, Any]:
        return {"file_id": f.file_id, "file_unique_id": f.file_unique_id, "file_name": f.file_name,
                "mime_type": f.mime_type, "file_size": len(f.data)}

    @staticmethod
    def _photo_sizes(f: StoredFile) -> list[dict[str, Any]]:
        return [{"file_id": f.file_id, "file_unique_id": f.file_unique_id, "width": 320, "height": 320,
                 "file_size": len(f.data)}]

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Headstrt Test Bot", "username": self.bot_username}

    def _msg_dict(self, m: Msg, *, nested: bool = True) -> dict[str, Any]:
        """The Message object Telegram would answer with."""
        out: dict[str, Any] = {"message_id": m.message_id, "date": m.date, "chat": dict(self._chats[m.chat_id]),
                               "from": self._bot_user() if m.from_bot else dict(self._users[m.sender_id])}
        if m.edit_date:
            out["edit_date"] = m.edit_date
        if m.text is not None:
            out["text"] = m.text
            if m.entities:
                out["entities"] = copy.deepcopy(m.entities)
        if m.document:
            out["document"] = dict(m.document)
        if m.photo:
            out["photo"] = copy.deepcopy(m.photo)
        if m.caption is not None:
            out["caption"] = m.caption
            if m.entities:
                out["caption_entities"] = copy.deepcopy(m.entities)
        if m.reply_markup:
            out["reply_markup"] = copy.deepcopy(m.reply_markup)
        target = self._messages.get(m.chat_id, {}).get(m.reply_to) if m.reply_to else None
        if nested and target is not None:
            out["reply_to_message"] = self._msg_dict(target, nested=False)
        out.update(copy.deepcopy(m.extra))
        return out

    # -- methods (names as in the Bot API; case-insensitive routing) ---------------------------------------

    def _api_getMe(self, p: dict[str, Any]) -> dict[str, Any]:
        return {**self._bot_user(), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False, "has_main_web_app": False}

    def _api_sendMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(p.get("chat_id"))
        text, entities, html = self._format(p.get("text"), p.get("parse_mode"), p.get("entities"),
                                            limit=4096, caption=False)
        markup = check_markup(p.get("reply_markup"))
        reply_to = self._reply_target(chat, p)
        msg = self._new_msg(chat, text=text, html=html, entities=entities, reply_markup=markup, reply_to=reply_to)
        return self._msg_dict(msg)

    def _api_sendDocument(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(p.get("chat_id"))
        stored = self._file_param(p.get("document"), "document", p, "documents")
        caption, entities, html = self._caption(p)
        markup = check_markup(p.get("reply_markup"))
        msg = self._new_msg(chat, document=self._doc_dict(stored), caption=caption, entities=entities, html=html,
                            reply_markup=markup, reply_to=self._reply_target(chat, p))
        return self._msg_dict(msg)

    def _api_sendPhoto(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(p.get("chat_id"))
        stored = self._file_param(p.get("photo"), "photo", p, "photos")
        caption, entities, html = self._caption(p)
        markup = check_markup(p.get("reply_markup"))
        msg = self._new_msg(chat, photo=self._photo_sizes(stored), caption=caption, entities=entities, html=html,
                            reply_markup=markup, reply_to=self._reply_target(chat, p))
        return self._msg_dict(msg)

    def _api_sendMediaGroup(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._target_chat(p.get("chat_id"))
        media = p.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise _bad("wrong number of media in the album: must be 2-10")
        planned = []
        for item in media:
            kind = item.get("type") if isinstance(item, dict) else None
            if kind not in ("photo", "document"):
                raise _bad("the fake Telegram only implements photo and document albums")
            stored = self._file_param(item.get("media"), kind, p, kind + "s")
            caption, entities, html = self._caption(item)
            planned.append((kind, stored, caption, entities, html))
        group_id = str(next(self._file_ids) * 1_000_003)
        sent = []
        for kind, stored, caption, entities, html in planned:
            files = {"document": self._doc_dict(stored)} if kind == "document" else {"photo": self._photo_sizes(stored)}
            sent.append(self._msg_dict(self._new_msg(chat, caption=caption, entities=entities, html=html,
                                                     extra={"media_group_id": group_id}, **files)))
        return sent

    def _copy(self, p: dict[str, Any], missing: str) -> tuple[int, Msg, dict[str, Any]]:
        chat = self._target_chat(p.get("chat_id"))
        source = self._existing({"chat_id": p.get("from_chat_id"), "message_id": p.get("message_id")}, missing)
        fields = {"text": source.text, "document": copy.deepcopy(source.document), "photo": copy.deepcopy(source.photo),
                  "caption": source.caption, "entities": copy.deepcopy(source.entities), "html": source.html}
        return chat, source, fields

    def _api_copyMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        chat, _, fields = self._copy(p, "message to copy not found")
        if "caption" in p and fields["text"] is None:
            fields["caption"], fields["entities"], fields["html"] = self._caption(p)
        markup = check_markup(p.get("reply_markup"))
        msg = self._new_msg(chat, reply_markup=markup, reply_to=self._reply_target(chat, p), **fields)
        return {"message_id": msg.message_id}

    def _api_forwardMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        chat, source, fields = self._copy(p, "message to forward not found")
        origin: dict[str, Any] = {"type": "user", "date": source.date,
                                  "sender_user": self._bot_user() if source.from_bot else self._users[source.sender_id]}
        return self._msg_dict(self._new_msg(chat, extra={"forward_origin": origin}, **fields))

    def _api_editMessageText(self, p: dict[str, Any]) -> dict[str, Any]:
        msg = self._editable(p)
        if msg.text is None:
            raise _bad("there is no text in the message to edit")
        text, entities, html = self._format(p.get("text"), p.get("parse_mode"), p.get("entities"),
                                            limit=4096, caption=False)
        markup = check_markup(p.get("reply_markup"), inline_only=True)
        if (text, entities, markup) == (msg.text, msg.entities, msg.reply_markup):
            raise _bad(NOT_MODIFIED)
        return self._edit(msg, text=text, entities=entities, html=html, reply_markup=markup)

    def _api_editMessageCaption(self, p: dict[str, Any]) -> dict[str, Any]:
        msg = self._editable(p)
        if msg.text is not None:
            raise _bad("there is no caption in the message to edit")
        caption, entities, html = self._caption(p)
        markup = check_markup(p.get("reply_markup"), inline_only=True)
        if (caption, entities, markup) == (msg.caption, msg.entities, msg.reply_markup):
            raise _bad(NOT_MODIFIED)
        return self._edit(msg, caption=caption, entities=entities, html=html, reply_markup=markup)

    def _api_editMessageReplyMarkup(self, p: dict[str, Any]) -> dict[str, Any]:
        msg = self._editable(p)
        markup = check_markup(p.get("reply_markup"), inline_only=True)
        if markup == msg.reply_markup:
            raise _bad(NOT_MODIFIED)
        return self._edit(msg, reply_markup=markup)

    def _api_deleteMessage(self, p: dict[str, Any]) -> bool:
        self._existing(p, "message to delete not found").deleted = True
        return True

    def _api_sendChatAction(self, p: dict[str, Any]) -> bool:
        self._target_chat(p.get("chat_id"))
        if p.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    def _api_answerCallbackQuery(self, p: dict[str, Any]) -> bool:
        query_id = str(p.get("callback_query_id") or "")
        if query_id not in self._queries:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        text = p.get("text") or ""
        if len(text) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        self._queries.pop(query_id)
        self.answered[query_id] = {"text": text, "show_alert": bool(p.get("show_alert")), "url": p.get("url"),
                                   "cache_time": p.get("cache_time"), "at": time.monotonic()}
        return True

    def _api_sendInvoice(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(p.get("chat_id"))
        title, description, payload = str(p.get("title") or ""), str(p.get("description") or ""), p.get("payload")
        if not 1 <= len(title) <= 32:
            raise _bad("INVOICE_TITLE_EMPTY" if not title else "INVOICE_TITLE_TOO_LONG")
        if not 1 <= len(description) <= 255:
            raise _bad("INVOICE_DESCRIPTION_EMPTY" if not description else "INVOICE_DESCRIPTION_TOO_LONG")
        if not isinstance(payload, str) or not 1 <= len(payload.encode()) <= 128:
            raise _bad("INVOICE_PAYLOAD_INVALID")
        currency = str(p.get("currency") or "")
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise _bad("CURRENCY_INVALID")
        prices = p.get("prices")
        if not isinstance(prices, list) or not prices or not all(
                isinstance(x, dict) and isinstance(x.get("label"), str) and x["label"]
                and isinstance(x.get("amount"), int) for x in prices):
            raise _bad("can't parse prices JSON object")
        total = sum(x["amount"] for x in prices)
        provider = p.get("provider_token") or ""
        if currency == "XTR":
            if provider:
                raise _bad("PROVIDER_TOKEN_INVALID: Telegram Stars take an empty provider token")
            if len(prices) != 1:
                raise _bad("STARS_INVOICE_INVALID: exactly one price is allowed")
        elif not provider:
            raise _bad("PAYMENT_PROVIDER_INVALID")
        if total <= 0:
            raise _bad("CURRENCY_TOTAL_AMOUNT_INVALID")
        markup = check_markup(p.get("reply_markup"), inline_only=True)
        invoice = {"title": title, "description": description, "start_parameter": "", "currency": currency,
                   "total_amount": total}
        msg = self._new_msg(chat, text=None, reply_markup=markup, extra={"invoice": invoice})
        self.invoices[(chat, msg.message_id)] = {**invoice, "payload": payload, "provider_token": provider,
                                                 "prices": copy.deepcopy(prices)}
        return self._msg_dict(msg)

    def _api_answerPreCheckoutQuery(self, p: dict[str, Any]) -> bool:
        query_id = str(p.get("pre_checkout_query_id") or "")
        query = self._checkouts.pop(query_id, None)
        if query is None:
            raise _bad("QUERY_ID_INVALID")
        ok = p.get("ok")
        if not isinstance(ok, bool):
            raise _bad("ok must be a boolean")
        message = p.get("error_message")
        if not ok and not (isinstance(message, str) and message.strip()):
            raise _bad("ERROR_MESSAGE_EMPTY")
        self.checkout_answers[query_id] = {"ok": ok, "error_message": message, "query": query,
                                           "at": time.monotonic()}
        return True

    def _api_refundStarPayment(self, p: dict[str, Any]) -> bool:
        charge = self.charges.get(str(p.get("telegram_payment_charge_id") or ""))
        if charge is None or charge["currency"] != "XTR" or charge["user_id"] != p.get("user_id"):
            raise _bad("CHARGE_NOT_FOUND")
        if charge["refunded"]:
            raise _bad("CHARGE_ALREADY_REFUNDED")
        charge["refunded"] = True
        return True

    def _api_getFile(self, p: dict[str, Any]) -> dict[str, Any]:
        stored = self._files.get(str(p.get("file_id") or ""))
        if stored is None:
            raise _bad("invalid file_id")
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data), "file_path": stored.file_path}

    def _scope_key(self, p: dict[str, Any]) -> tuple[str, str]:
        """Commands are stored per (scope, language): 'default', 'all_private_chats', ..., 'chat:<id>'."""
        scope = p.get("scope") or {"type": "default"}
        language = p.get("language_code") or ""
        if not re.fullmatch(r"(|[a-z]{2})", language):
            raise _bad("LANG_CODE_INVALID")
        kind = scope.get("type") if isinstance(scope, dict) else None
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            return kind, language
        if kind in ("chat", "chat_administrators", "chat_member") and scope.get("chat_id") in self._chats:
            member = f":{scope.get('user_id')}" if kind == "chat_member" else ""
            return f"{kind}:{scope['chat_id']}{member}", language
        raise _bad("can't parse BotCommandScope JSON object" if kind is None else "chat not found")

    def _api_setMyCommands(self, p: dict[str, Any]) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        for c in commands:
            if not isinstance(c, dict) or not _COMMAND_RE.fullmatch(str(c.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not isinstance(c.get("description"), str) or not 1 <= len(c["description"].strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._scope_key(p)
        if commands:
            self.commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        else:
            self.commands.pop(key, None)
        return True

    def _api_getMyCommands(self, p: dict[str, Any]) -> list[dict[str, str]]:
        return copy.deepcopy(self.commands.get(self._scope_key(p), []))

    def _api_deleteMyCommands(self, p: dict[str, Any]) -> bool:
        self.commands.pop(self._scope_key(p), None)
        return True

    def _api_setWebhook(self, p: dict[str, Any]) -> bool:
        url = str(p.get("url") or "")
        if not url:
            return self._api_deleteWebhook(p)
        if not re.fullmatch(r"https?://[^/\s:]+(:\d+)?(/\S*)?", url):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.get("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(str(secret)):
            raise _bad("secret token contains unallowed characters")
        connections = p.get("max_connections", 40)
        if not isinstance(connections, int) or not 1 <= connections <= 100:
            raise _bad("bad webhook: max_connections must be between 1 and 100")
        allowed = p.get("allowed_updates")
        if allowed is not None and not isinstance(allowed, list):
            raise _bad("can't parse allowed_updates JSON object")
        if p.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {"url": url, "secret_token": secret, "max_connections": connections,
                        "allowed_updates": allowed if allowed is not None else
                        (self.webhook or {}).get("allowed_updates", [])}
        return True

    def _api_deleteWebhook(self, p: dict[str, Any]) -> bool:
        self.webhook = None
        if p.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _api_getWebhookInfo(self, p: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}
        if self.webhook is not None:
            info.update({k: v for k, v in self.webhook.items() if k != "secret_token" and v})
        return info

    def _api_close(self, p: dict[str, Any]) -> bool:
        return True

    def _api_logOut(self, p: dict[str, Any]) -> bool:
        return True

    def _api_getUpdates(self, p: dict[str, Any]) -> list[dict[str, Any]]:  # pragma: no cover - see _get_updates
        raise AssertionError("getUpdates is served by _get_updates")

    async def _get_updates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        """Long poll: confirm updates below offset, answer at once if any are queued, else wait up to timeout."""
        timeout = p.get("timeout") if isinstance(p.get("timeout"), int) else 0
        limit = p.get("limit") if isinstance(p.get("limit"), int) and 1 <= p["limit"] <= 100 else 100
        deadline = time.monotonic() + max(timeout, 0)
        with self._lock:
            if self.webhook is not None:
                raise _ApiError(409, WEBHOOK_CONFLICT)
            offset = p.get("offset")
            if isinstance(offset, int) and offset > 0:  # confirms every update below offset
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif isinstance(offset, int) and offset < 0:
                self._updates = self._updates[offset:]
            if isinstance(p.get("allowed_updates"), list):
                self._allowed_updates = list(p["allowed_updates"])
        if self._poll is not None:  # an earlier getUpdates is still waiting: it loses
            self._poll.terminated = True
            self._poll.wake.set()
        poll = self._poll = _Poll()
        try:
            while True:
                with self._lock:
                    batch = copy.deepcopy(self._updates[:limit])
                remaining = deadline - time.monotonic()
                if batch or remaining <= 0 or self._closing:
                    return batch
                try:
                    await asyncio.wait_for(poll.wake.wait(), remaining)
                except asyncio.TimeoutError:
                    pass
                poll.wake.clear()
                if poll.terminated:
                    raise _ApiError(409, POLL_CONFLICT)
        finally:
            if self._poll is poll:
                self._poll = None


_API_METHODS = _method_names(FakeTelegram)
