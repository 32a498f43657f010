"""A strict fake of the Slack Web API, served over HTTP on 127.0.0.1, plus Slack's side of the Events API
and interactivity, for tests and benchmarks.

The real slack_sdk / slack_bolt talk to it (``WebClient(token=..., base_url=fake.api_url)``), so tests
exercise the SDK's own serialisation, error mapping and retries. It refuses what real Slack refuses, with
Slack's error codes: invalid Block Kit (``invalid_blocks`` with ``response_metadata.messages``), bad modals
(``invalid_arguments``), stale, reused or unknown trigger ids, messages that don't exist, unknown channels,
rate limits (HTTP 429 with ``Retry-After``). A bug that Slack would reject fails the test instead of
production. It also plays Slack towards the app: it builds signed Events API envelopes, slash commands,
button presses and modal submissions that reference what the fake really stores, and POSTs them to
``fake.app_url`` -- or, in Socket Mode, hands the app (authenticated with the app-level token) a websocket
URL from ``apps.connections.open`` and pushes the same payloads there as envelopes, waiting for the app's
acks (``socket_send()``). The server runs in its own thread and event loop, so sync tests and tests that run their
own asyncio loop can both use it; all state sits behind one lock.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import itertools
import json
import math
import mimetypes
import random
import re
import socket
import string
import threading
import time
import uuid
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

_JSON_PARAMS = frozenset({"blocks", "attachments", "view", "files", "metadata"})
_SCOPES = "chat:write,im:write,im:history,users:read,files:write,reactions:write,commands"
_ALNUM = string.ascii_uppercase + string.digits
_TS_RE = re.compile(r"\d{10}\.\d{6}")
_EMOJI_RE = re.compile(r"[a-z0-9_+'\-]{1,100}")
VERIFICATION_TOKEN = "fake-verification-token"  # the legacy token Slack puts in every payload


# --------------------------------------------------------------------------------------------- records

@dataclass
class Call:
    """One API request as the fake saw it (the token is not kept). status 0: not answered yet, or dropped."""

    method: str
    params: dict[str, Any]
    status: int = 0
    at: float = 0.0  # time.monotonic() at receipt
    answered_at: float = 0.0
    error: str | None = None  # the Slack error code answered (ok: false), if any


@dataclass
class Msg:
    """A message in a conversation. ``history`` holds every version, the original first, the current last."""

    ts: str
    channel: str
    text: str
    blocks: list[dict[str, Any]]  # as stored by Slack: block_id / action_id filled in where the app left them out
    user: str  # the author: the bot's user id for the bot's messages
    bot: bool = True
    thread_ts: str | None = None
    attachments: list[dict[str, Any]] | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)  # emoji name -> users who reacted
    options: dict[str, Any] = field(default_factory=dict)  # unfurl_links, unfurl_media, mrkdwn, metadata, ...
    edits: int = 0
    deleted: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)

    def version(self) -> dict[str, Any]:
        return copy.deepcopy({"text": self.text, "blocks": self.blocks, "attachments": self.attachments})


@dataclass
class Ephemeral:
    """A chat.postEphemeral message (or an ephemeral response_url answer): only `user` saw it."""

    message_ts: str
    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None


@dataclass
class StoredFile:
    """A file uploaded through files.getUploadURLExternal + upload URL + files.completeUploadExternal."""

    id: str
    name: str
    length: int  # as declared to files.getUploadURLExternal
    data: bytes | None = field(default=None, repr=False)  # None until the bytes were POSTed to the upload URL
    title: str = ""
    channels: list[str] = field(default_factory=list)
    initial_comment: str | None = None
    thread_ts: str | None = None
    alt_txt: str | None = None
    snippet_type: str | None = None
    completed: bool = False
    created: int = 0

    @property
    def mimetype(self) -> str:
        return mimetypes.guess_type(self.name)[0] or "application/octet-stream"


@dataclass
class View:
    """A modal (or App Home) view. ``view`` is the current definition in Slack's answer shape."""

    id: str
    user: str
    type: str  # "modal" | "home"
    view: dict[str, Any]
    hash: str
    root_id: str
    previous_id: str | None = None
    closed: bool = False
    errors: dict[str, str] = field(default_factory=dict)  # the last response_action "errors" shown
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Delivery:
    """One request the fake POSTed to the app (see post())."""

    body: bytes = field(repr=False)
    content_type: str
    status: int  # 0: unreachable or no answer within 30 s
    elapsed: float  # seconds until the app answered
    retry_num: int | None = None
    response: bytes = field(default=b"", repr=False)


@dataclass
class Envelope:
    """One Socket Mode envelope the fake pushed to the app (see socket_send()), and the app's ack."""

    envelope_id: str
    type: str  # "events_api" | "slash_commands" | "interactive"
    payload: dict[str, Any] = field(repr=False)
    connection: str  # SocketConnection.id it went to
    retry_attempt: int = 0
    retry_reason: str = ""
    accepts_response_payload: bool = False
    acked: bool = False
    ack: dict[str, Any] | None = None  # the app's whole ack message: {"envelope_id", "payload"?}
    elapsed: float = 0.0  # seconds until the ack


@dataclass
class SocketConnection:
    """One Socket Mode websocket an app opened with a URL from apps.connections.open."""

    id: str
    ticket: str
    opened_at: float  # time.monotonic()
    closed_at: float | None = None
    hello: dict[str, Any] = field(default_factory=dict)  # the hello message the fake sent first
    received: list[Any] = field(default_factory=list)  # every message the app sent (parsed JSON, else the raw text)

    @property
    def open(self) -> bool:
        return self.closed_at is None


@dataclass
class _Socket:
    record: SocketConnection
    ws: web.WebSocketResponse


@dataclass
class Response:
    """One POST the app made to a response_url the fake handed out."""

    url: str
    user: str
    channel: str | None
    body: dict[str, Any]
    effect: str  # "replaced" | "deleted" | "posted" | "ephemeral"


@dataclass
class _Trigger:
    user: str
    at: float
    view_id: str | None = None  # set when the interaction happened inside this view
    used: bool = False


@dataclass
class _Hook:
    """A response_url: up to 5 uses within 30 minutes, like Slack's."""

    user: str
    channel: str | None
    message_ts: str | None
    at: float
    uses: int = 0


class _ApiError(Exception):
    """An error answer: raised anywhere in a method, turned into Slack's JSON by the dispatcher."""

    def __init__(self, error: str, *, status: int = 200, messages: list[str] | None = None,
                 headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(error if not messages else f"{error}: {messages}")
        self.error, self.status, self.messages = error, status, messages
        self.headers, self.extra = headers or {}, extra or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.error, **self.extra}
        if self.messages:
            body["response_metadata"] = {"messages": list(self.messages)}
        return body


def escape(text: str) -> str:
    """What Slack does to the text a person types before it reaches an app (message events, slash commands):
    &, < and > become entities, so "<" in a text is always Slack's own markup. Modal values are not escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _invalid(error: str, problems: list[str]) -> _ApiError:
    extra = {"errors": [re.sub(r"^\[ERROR\] ", "", p) for p in problems]} if error == "invalid_blocks" else None
    return _ApiError(error, messages=problems, extra=extra)


@dataclass
class _Fault:
    error: _ApiError | None  # None: drop the connection
    perform: bool = False  # for drops: do the call, then lose the answer


# --------------------------------------------------------------------------------------------- Block Kit

_BLOCK_TYPES = frozenset({"section", "actions", "context", "divider", "header", "image", "input", "rich_text",
                          "file", "video", "markdown"})
_SELECTS = frozenset({"static_select", "external_select", "users_select", "conversations_select",
                      "channels_select"})
_MULTI_SELECTS = frozenset("multi_" + s for s in _SELECTS)
_ACTIONS_ELEMENTS = frozenset({"button", "checkboxes", "datepicker", "datetimepicker", "overflow", "radio_buttons",
                               "timepicker", "workflow_button"}) | _SELECTS | _MULTI_SELECTS
_ACCESSORY_ELEMENTS = frozenset({"button", "checkboxes", "datepicker", "image", "overflow", "radio_buttons",
                                 "timepicker", "workflow_button"}) | _SELECTS | _MULTI_SELECTS
_INPUT_ELEMENTS = frozenset({"checkboxes", "datepicker", "datetimepicker", "radio_buttons", "timepicker",
                             "plain_text_input", "email_text_input", "url_text_input", "number_input",
                             "rich_text_input", "file_input"}) | _SELECTS | _MULTI_SELECTS
_TEXT_INPUTS = frozenset({"plain_text_input", "email_text_input", "url_text_input", "number_input"})
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME_RE = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


class _Checker:
    """Collects Slack-style problems ("[ERROR] <why> [json-pointer:<where>]") for one message or view."""

    def __init__(self, surface: str) -> None:
        self.surface = surface  # "message" | "modal" | "home"
        self.problems: list[str] = []
        self.action_ids: set[str] = set()
        self.block_ids: set[str] = set()

    def bad(self, path: str, reason: str) -> None:
        self.problems.append(f"[ERROR] {reason} [json-pointer:{path}]")

    def string(self, value: Any, path: str, *, max_len: int, min_len: int = 0, required: bool = False) -> bool:
        if value is None:
            if required:
                self.bad(path, "missing required field")
            return False
        if not isinstance(value, str):
            self.bad(path, "must be a string")
            return False
        if len(value) < min_len:
            self.bad(path, f"must be more than {min_len - 1} characters")
        if len(value) > max_len:
            self.bad(path, f"must be less than {max_len + 1} characters")
        return True

    def text(self, obj: Any, path: str, *, max_len: int, plain: bool = False, required: bool = True) -> None:
        if obj is None:
            if required:
                self.bad(path, "missing required field")
            return
        if not isinstance(obj, dict):
            self.bad(path, "must be a text object")
            return
        kind = obj.get("type")
        if kind not in (("plain_text",) if plain else ("plain_text", "mrkdwn")):
            self.bad(path + "/type", "must be plain_text" if plain else "must be plain_text or mrkdwn")
        elif kind == "mrkdwn" and "emoji" in obj:
            self.bad(path + "/emoji", "emoji is only allowed in plain_text objects")
        elif kind == "plain_text" and "verbatim" in obj:
            self.bad(path + "/verbatim", "verbatim is only allowed in mrkdwn objects")
        for flag in ("emoji", "verbatim"):
            if flag in obj and not isinstance(obj[flag], bool):
                self.bad(f"{path}/{flag}", "must be a boolean")
        self.string(obj.get("text"), path + "/text", max_len=max_len, min_len=1, required=True)

    def items(self, value: Any, path: str, *, max_items: int, min_items: int = 1) -> list[Any]:
        if not isinstance(value, list):
            self.bad(path, "must be an array")
            return []
        if len(value) > max_items:
            self.bad(path, f"no more than {max_items} items allowed")
        if len(value) < min_items:
            self.bad(path, f"must provide at least {min_items} item{'s' if min_items > 1 else ''}")
        return value

    def action_id(self, elem: dict[str, Any], path: str) -> None:
        aid = elem.get("action_id")
        if aid is not None and self.string(aid, path + "/action_id", max_len=255, min_len=1):
            if aid in self.action_ids:
                self.bad(path + "/action_id", f"action_id {aid!r} is already used by another element")
            self.action_ids.add(aid)

    def options(self, value: Any, path: str, *, max_items: int, plain: bool, url: bool = False) -> list[Any]:
        options = self.items(value, path, max_items=max_items)
        for i, o in enumerate(options):
            p = f"{path}/{i}"
            if not isinstance(o, dict):
                self.bad(p, "must be an option object")
                continue
            self.text(o.get("text"), p + "/text", max_len=75, plain=plain)
            self.string(o.get("value"), p + "/value", max_len=150, min_len=1, required=True)
            self.text(o.get("description"), p + "/description", max_len=75, plain=plain, required=False)
            if "url" in o:
                if not url:
                    self.bad(p + "/url", "url is only allowed in overflow options")
                self.string(o["url"], p + "/url", max_len=3000, min_len=1)
        return options

    def confirm(self, obj: Any, path: str) -> None:
        if not isinstance(obj, dict):
            self.bad(path, "must be a confirmation dialog object")
            return
        self.text(obj.get("title"), path + "/title", max_len=100, plain=True)
        self.text(obj.get("text"), path + "/text", max_len=300)
        self.text(obj.get("confirm"), path + "/confirm", max_len=30, plain=True)
        self.text(obj.get("deny"), path + "/deny", max_len=30, plain=True)

    def element(self, e: Any, path: str, allowed: frozenset[str]) -> None:
        if not isinstance(e, dict):
            self.bad(path, "must be an element object")
            return
        kind = e.get("type")
        if kind not in allowed:
            self.bad(path + "/type", f"{kind!r} is not a valid element type here")
            return
        if kind != "image":
            self.action_id(e, path)
        if "confirm" in e:
            self.confirm(e["confirm"], path + "/confirm")
        if "placeholder" in e:
            self.text(e["placeholder"], path + "/placeholder", max_len=150, plain=True)
        if kind == "button":
            self.text(e.get("text"), path + "/text", max_len=75, plain=True)
            self.string(e.get("value"), path + "/value", max_len=2000)
            self.string(e.get("url"), path + "/url", max_len=3000, min_len=1)
            self.string(e.get("accessibility_label"), path + "/accessibility_label", max_len=75, min_len=1)
            if "style" in e and e["style"] not in ("primary", "danger"):
                self.bad(path + "/style", "must be primary or danger")
        elif kind in ("static_select", "multi_static_select"):
            if ("options" in e) == ("option_groups" in e):
                self.bad(path, "must provide exactly one of options or option_groups")
            values = [o.get("value") for o in self.options(e["options"], path + "/options", max_items=100, plain=True)
                      if isinstance(o, dict)] if "options" in e else []
            if "option_groups" in e:
                for i, g in enumerate(self.items(e["option_groups"], path + "/option_groups", max_items=100)):
                    if not isinstance(g, dict):
                        self.bad(f"{path}/option_groups/{i}", "must be an option group object")
                        continue
                    self.text(g.get("label"), f"{path}/option_groups/{i}/label", max_len=75, plain=True)
                    values += [o.get("value") for o in self.options(
                        g.get("options"), f"{path}/option_groups/{i}/options", max_items=100, plain=True)
                        if isinstance(o, dict)]
            initial = [e["initial_option"]] if "initial_option" in e else e.get("initial_options", [])
            for o in initial if isinstance(initial, list) else []:
                if not isinstance(o, dict) or o.get("value") not in values:
                    self.bad(path, "initial option must be one of the options")
        elif kind == "overflow":
            self.options(e.get("options"), path + "/options", max_items=5, plain=True, url=True)
        elif kind in ("checkboxes", "radio_buttons"):
            self.options(e.get("options"), path + "/options", max_items=10, plain=False)
        elif kind == "plain_text_input":
            lengths = {}
            for key in ("min_length", "max_length"):
                if key in e:
                    value = e[key]
                    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 3000:
                        self.bad(f"{path}/{key}", "must be an integer between 0 and 3000")
                    else:
                        lengths[key] = value
            if lengths.get("max_length") == 0:
                self.bad(path + "/max_length", "must be at least 1")
            if "min_length" in lengths and "max_length" in lengths and lengths["min_length"] > lengths["max_length"]:
                self.bad(path + "/min_length", "must not be greater than max_length")
            if self.string(e.get("initial_value"), path + "/initial_value", max_len=lengths.get("max_length", 3000)):
                pass
        elif kind == "datepicker":
            date = e.get("initial_date")
            if "initial_date" in e and not (isinstance(date, str) and _DATE_RE.fullmatch(date)):
                self.bad(path + "/initial_date", "must be a date in the format YYYY-MM-DD")
        elif kind == "timepicker":
            hour = e.get("initial_time")
            if "initial_time" in e and not (isinstance(hour, str) and _TIME_RE.fullmatch(hour)):
                self.bad(path + "/initial_time", "must be a time in the format HH:mm")
        elif kind == "number_input":
            if not isinstance(e.get("is_decimal_allowed"), bool):
                self.bad(path + "/is_decimal_allowed", "missing required field")
        elif kind == "image":
            self.image(e, path)
        elif kind == "workflow_button":
            self.text(e.get("text"), path + "/text", max_len=75, plain=True)
            if not isinstance(e.get("workflow"), dict):
                self.bad(path + "/workflow", "missing required field")

    def image(self, e: dict[str, Any], path: str) -> None:
        if "image_url" not in e and "slack_file" not in e:
            self.bad(path, "must provide either image_url or slack_file")
        self.string(e.get("image_url"), path + "/image_url", max_len=3000, min_len=1)
        self.string(e.get("alt_text"), path + "/alt_text", max_len=2000, min_len=1, required=True)

    def block(self, b: Any, path: str) -> None:
        if not isinstance(b, dict):
            self.bad(path, "must be a block object")
            return
        kind = b.get("type")
        if kind not in _BLOCK_TYPES:
            self.bad(path + "/type", f"unsupported block type {kind!r}")
            return
        if kind in ("file", "markdown") and self.surface != "message":
            self.bad(path + "/type", f"{kind} blocks are only allowed in messages")
        bid = b.get("block_id")
        if bid is not None and self.string(bid, path + "/block_id", max_len=255, min_len=1):
            if bid in self.block_ids:
                self.bad(path + "/block_id", f"block_id {bid!r} is already used by another block")
            self.block_ids.add(bid)
        if kind == "section":
            if "text" not in b and "fields" not in b:
                self.bad(path, "must provide either text or fields")
            if "text" in b:
                self.text(b["text"], path + "/text", max_len=3000)
            if "fields" in b:
                for i, f in enumerate(self.items(b["fields"], path + "/fields", max_items=10)):
                    self.text(f, f"{path}/fields/{i}", max_len=2000)
            if "accessory" in b:
                self.element(b["accessory"], path + "/accessory", _ACCESSORY_ELEMENTS)
        elif kind == "header":
            self.text(b.get("text"), path + "/text", max_len=150, plain=True)
        elif kind == "actions":
            for i, e in enumerate(self.items(b.get("elements"), path + "/elements", max_items=25)):
                self.element(e, f"{path}/elements/{i}", _ACTIONS_ELEMENTS)
        elif kind == "context":
            for i, e in enumerate(self.items(b.get("elements"), path + "/elements", max_items=10)):
                if isinstance(e, dict) and e.get("type") == "image":
                    self.image(e, f"{path}/elements/{i}")
                else:
                    self.text(e, f"{path}/elements/{i}", max_len=3000)
        elif kind == "image":
            self.image(b, path)
            self.text(b.get("title"), path + "/title", max_len=2000, plain=True, required=False)
        elif kind == "input":
            self.text(b.get("label"), path + "/label", max_len=2000, plain=True)
            self.text(b.get("hint"), path + "/hint", max_len=2000, plain=True, required=False)
            if "element" not in b:
                self.bad(path + "/element", "missing required field")
            else:
                self.element(b["element"], path + "/element", _INPUT_ELEMENTS)
            for key in ("optional", "dispatch_action"):
                if key in b and not isinstance(b[key], bool):
                    self.bad(f"{path}/{key}", "must be a boolean")
        elif kind == "markdown":
            self.string(b.get("text"), path + "/text", max_len=12000, min_len=1, required=True)
        elif kind == "rich_text":
            self.items(b.get("elements"), path + "/elements", max_items=10**6, min_items=0)
        elif kind == "video":
            for key in ("alt_text", "thumbnail_url", "video_url"):
                self.string(b.get(key), f"{path}/{key}", max_len=3000, min_len=1, required=True)
            self.text(b.get("title"), path + "/title", max_len=199, plain=True)
        elif kind == "file":
            self.string(b.get("external_id"), path + "/external_id", max_len=255, min_len=1, required=True)
            if b.get("source") != "remote":
                self.bad(path + "/source", "must be remote")

    def blocks(self, blocks: Any, path: str, *, limit: int) -> None:
        if not isinstance(blocks, list):
            self.bad(path, "must be an array")
            return
        if len(blocks) > limit:
            self.bad(path, f"no more than {limit} items allowed")
        for i, b in enumerate(blocks):
            self.block(b, f"{path}/{i}")


def check_blocks(blocks: Any, *, surface: str = "message", path: str = "/blocks") -> list[str]:
    """Slack's problems with a message's (or a view's) blocks; [] when Slack would accept them."""
    checker = _Checker(surface)
    checker.blocks(blocks, path, limit=50 if surface == "message" else 100)
    return checker.problems


def check_view(view: Any, *, kind: str = "modal", path: str = "/view") -> list[str]:
    """Slack's problems with a view payload (type `kind`: "modal" or "home"); [] when Slack would accept it."""
    checker = _Checker(kind)
    if not isinstance(view, dict):
        checker.bad(path, "must be a view object")
        return checker.problems
    if view.get("type") != kind:
        checker.bad(path + "/type", f"must be {kind}")
    if kind == "modal":
        checker.text(view.get("title"), path + "/title", max_len=24, plain=True)
        checker.text(view.get("submit"), path + "/submit", max_len=24, plain=True, required=False)
        checker.text(view.get("close"), path + "/close", max_len=24, plain=True, required=False)
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
        if has_input and "submit" not in view:
            checker.bad(path + "/submit", "submit is required when the view has input blocks")
    if "blocks" not in view:
        checker.bad(path + "/blocks", "missing required field")
    else:
        checker.blocks(view["blocks"], path + "/blocks", limit=100)
    checker.string(view.get("private_metadata"), path + "/private_metadata", max_len=3000)
    checker.string(view.get("callback_id"), path + "/callback_id", max_len=255)
    checker.string(view.get("external_id"), path + "/external_id", max_len=255)
    for key in ("clear_on_close", "notify_on_close", "submit_disabled"):
        if key in view and not isinstance(view[key], bool):
            checker.bad(f"{path}/{key}", "must be a boolean")
    return checker.problems


def _elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    """The elements of a block that can carry an action_id."""
    if block.get("type") == "actions":
        return [e for e in block.get("elements") or [] if isinstance(e, dict)]
    if block.get("type") == "section" and isinstance(block.get("accessory"), dict):
        return [block["accessory"]]
    if block.get("type") == "input" and isinstance(block.get("element"), dict):
        return [block["element"]]
    return []


def _fill_ids(blocks: list[dict[str, Any]], new_id: Callable[[int], str]) -> list[dict[str, Any]]:
    """Slack stores every block with a block_id and every interactive element with an action_id."""
    blocks = copy.deepcopy(blocks)
    for block in blocks:
        block.setdefault("block_id", new_id(5))
        for elem in _elements(block):
            if elem.get("type") != "image":
                elem.setdefault("action_id", new_id(5))
    return blocks


# --------------------------------------------------------------------------------------------- helpers

def _blocks_of(item: Any) -> tuple[list[Any], str]:
    if isinstance(item, Msg):
        return item.blocks, item.text
    if isinstance(item, View):
        return item.view.get("blocks") or [], ""
    if isinstance(item, dict):
        if "blocks" in item:
            return item.get("blocks") or [], item.get("text") or ""
        return [item], ""
    if isinstance(item, list):
        return item, ""
    raise TypeError(f"expected a Msg, View, message/view dict or list of blocks, not {type(item).__name__}")


def all_text(blocks_or_msg: Any) -> str:
    """Every text string in the blocks, in order, one per line (for assertions). A message without blocks
    gives its top-level text, which is then what Slack shows; with blocks, the top-level text is only the
    notification fallback and is left out."""
    blocks, fallback = _blocks_of(blocks_or_msg)
    if not blocks:
        return fallback
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    out.append(value)
                elif isinstance(value, (dict, list)):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(out)


def buttons(msg: Any) -> list[tuple[str, str, str]]:
    """(text, action_id, value) of every button in a message's (or view's) blocks, in order."""
    blocks, _ = _blocks_of(msg)
    found: list[tuple[str, str, str]] = []
    for block in blocks:
        if isinstance(block, dict):
            for elem in _elements(block):
                if elem.get("type") == "button":
                    found.append(((elem.get("text") or {}).get("text", ""), elem.get("action_id", ""),
                                  elem.get("value", "")))
    return found


def _flag(value: Any) -> bool:
    return value is True or value == 1 or (isinstance(value, str) and value.strip().lower() in ("1", "true"))


def _api_name(attr: str) -> str:
    """_api_chat_postMessage -> chat.postMessage, _api_apps_connections_open -> apps.connections.open (Slack's
    method names are camelCase segments joined by dots, never underscores)."""
    return attr[len("_api_"):].replace("_", ".")


# --------------------------------------------------------------------------------------------- server

class FakeSlack:
    """The fake Web API plus the workspace's people, channels and Slack's outgoing requests (module doc)."""

    def __init__(self, *, bot_token: str = "xoxb-test-token", signing_secret: str = "test-signing-secret",
                 app_token: str = "xapp-test-token",  # the app-level token (connections:write) for Socket Mode
                 team_id: str = "T0TEST", bot_user_id: str = "U0BOT",
                 rate_limit: tuple[int, float] | None = None,  # per method: at most N calls in any S seconds
                 bot_id: str = "B0BOT", app_id: str = "A0APP", team_name: str = "Fake Workspace",
                 team_domain: str = "fakeworkspace", bot_name: str = "bookingbot") -> None:
        self.bot_token, self.signing_secret, self.app_token = bot_token, signing_secret, app_token
        self.team_id, self.team_name, self.team_domain = team_id, team_name, team_domain
        self.bot_user_id, self.bot_id, self.app_id, self.bot_name = bot_user_id, bot_id, app_id, bot_name
        self.rate_limit = rate_limit
        self.rate_limits: dict[str, tuple[int, float]] = {}  # per-method overrides of rate_limit
        self.trigger_ttl = 3.0  # seconds a trigger_id stays usable, as on Slack
        self.app_url: str | None = None  # where post() sends events and interactions
        self.base_url = ""
        self.calls: list[Call] = []
        self.throttled: list[Call] = []
        self.deliveries: list[Delivery] = []
        self.responses: list[Response] = []
        self._lock = threading.RLock()  # the one lock; reentrant so wait_for predicates may call messages()
        self._users: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._opened_dms: set[str] = set()
        self._messages: dict[str, dict[str, Msg]] = {}
        self._ephemerals: list[Ephemeral] = []
        self._files: dict[str, StoredFile] = {}
        self._views: dict[str, View] = {}
        self._stacks: dict[str, list[str]] = {}  # user -> open modal view ids, root first
        self._homes: dict[str, str] = {}  # user -> home view id
        self._external_ids: dict[str, str] = {}
        self._triggers: dict[str, _Trigger] = {}
        self._hooks: dict[str, _Hook] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._windows: dict[str, list[float]] = {}
        self._last_ts = 0
        self._seq = itertools.count(1)
        self._rand = random.Random(20240601)
        self._verifier = SignatureVerifier(signing_secret)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.envelopes: list[Envelope] = []  # Socket Mode envelopes pushed to the app, oldest first
        self._tickets: dict[str, float] = {}  # apps.connections.open tickets not used yet -> issued at
        self._sockets: dict[str, _Socket] = {}  # Socket Mode connections, open and closed, by id
        self._socket_turn = itertools.count()
        self._pending_acks: dict[str, tuple[asyncio.Future[dict[str, Any]], str]] = {}  # envelope id -> (ack, conn)

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """What to give WebClient/AsyncWebClient as base_url (ends with a slash, as slack_sdk expects)."""
        return f"{self.base_url}/api/"

    def start(self) -> FakeSlack:
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

        self._thread = threading.Thread(target=run, name="fake-slack", daemon=True)
        self._thread.start()
        if not ready.wait(10) or failure:
            raise RuntimeError("the fake Slack server did not start") from (failure[0] if failure else None)
        return self

    async def _serve(self) -> None:
        app = web.Application(client_max_size=1024 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._on_api)
        app.router.add_post("/upload/{file_id}", self._on_upload)
        app.router.add_get("/files/{file_id}/{name}", self._on_download)
        app.router.add_post("/hooks/{kind}/{team}/{hook_id}", self._on_response_url)
        app.router.add_get("/socket/{ticket}", self._on_socket)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    def stop(self) -> None:
        """Close the server and the outgoing session and join the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def shutdown() -> None:
            for sock in list(self._sockets.values()):
                if not sock.ws.closed:
                    await sock.ws.close(code=1001, message=b"server shutdown")
            if self._session is not None:
                await self._session.close()
                self._session = None
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the workspace ----------------------------------------------------------------------------

    def user(self, user_id: str = "U123", name: str = "ana", real_name: str = "Ana Rao", tz: str = "Asia/Kolkata",
             locale: str = "en-US", *, email: str | None = None, display_name: str | None = None) -> dict[str, Any]:
        """Register a person; returns the user object users.info answers with."""
        if not re.fullmatch(r"[UW][A-Z0-9]+", user_id):
            raise ValueError("Slack user ids look like U0123ABCD (or W... on Enterprise Grid)")
        zone = zoneinfo.ZoneInfo(tz)  # raises for an unknown IANA name, as Slack would never send one
        now = dt.datetime.now(zone)
        offset = now.utcoffset() or dt.timedelta(0)
        profile: dict[str, Any] = {"display_name": display_name if display_name is not None else name,
                                   "real_name": real_name, "real_name_normalized": real_name,
                                   "display_name_normalized": display_name if display_name is not None else name,
                                   "team": self.team_id, "image_48": "https://a.slack-edge.com/48.png"}
        if email:
            profile["email"] = email
        person = {"id": user_id, "team_id": self.team_id, "name": name, "deleted": False, "real_name": real_name,
                  "tz": tz, "tz_label": now.tzname() or tz, "tz_offset": int(offset.total_seconds()),
                  "locale": locale, "profile": profile, "is_admin": False, "is_owner": False, "is_bot": False,
                  "is_app_user": False, "updated": int(time.time())}
        with self._lock:
            self._users[user_id] = person
        return copy.deepcopy(person)

    def channel(self, channel_id: str = "C123", name: str = "general", *, is_member: bool = True,
                members: list[str] | None = None) -> dict[str, Any]:
        """Register a channel (C... public, G... private). The bot can post only where is_member; members
        (default: every registered user) limit chat.postEphemeral."""
        if not re.fullmatch(r"[CG][A-Z0-9]+", channel_id):
            raise ValueError("channel ids look like C0123ABCD (or G... for private ones)")
        chan = {"id": channel_id, "name": name, "is_channel": channel_id.startswith("C"),
                "is_private": channel_id.startswith("G"), "is_member": is_member, "members": members,
                "created": int(time.time())}
        with self._lock:
            self._channels[channel_id] = chan
        return copy.deepcopy(chan)

    def dm(self, user_id: str) -> str:
        """The id of the bot's DM conversation with a person ("D" + user id, stable)."""
        return f"D{user_id}"

    # -- Slack -> app: bodies ---------------------------------------------------------------------------

    def sign(self, body: bytes | str, timestamp: int | None = None) -> dict[str, str]:
        """The headers Slack signs a request with: v0=hmac_sha256(secret, f"v0:{ts}:{body}")."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signature = self._verifier.generate_signature(timestamp=ts, body=body)
        assert signature is not None
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}

    def event_body(self, event: dict[str, Any], *, event_id: str | None = None) -> bytes:
        """An Events API envelope around `event` (pass an earlier event_id to build a redelivery)."""
        with self._lock:
            envelope = {"token": VERIFICATION_TOKEN, "team_id": self.team_id, "context_team_id": self.team_id,
                        "context_enterprise_id": None, "api_app_id": self.app_id, "event": copy.deepcopy(event),
                        "type": "event_callback", "event_id": event_id or self._new_id(10, "Ev"),
                        "event_time": int(time.time()),
                        "authorizations": [{"enterprise_id": None, "team_id": self.team_id,
                                            "user_id": self.bot_user_id, "is_bot": True,
                                            "is_enterprise_install": False}],
                        "is_ext_shared_channel": False, "event_context": f"4-{self._new_id(24)}"}
        return json.dumps(envelope).encode()

    def url_verification(self, challenge: str = "fake-challenge") -> bytes:
        """The body Slack sends when the Events API request URL is saved."""
        return json.dumps({"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}).encode()

    def dm_event(self, user_id: str, text: str, *, thread_ts: str | None = None) -> bytes:
        """A person writes to the bot in their DM: stores the message, returns the message.im event envelope."""
        with self._lock:
            self._person(user_id)
            channel = self.dm(user_id)
            msg = self._new_msg(channel, text=escape(text), blocks=[self._rich_text(text)], user=user_id, bot=False,
                                thread_ts=thread_ts)
            event = {"user": user_id, "type": "message", "ts": msg.ts, "client_msg_id": str(uuid.uuid4()),
                     "text": escape(text), "team": self.team_id, "blocks": copy.deepcopy(msg.blocks), "channel": channel,
                     "event_ts": msg.ts, "channel_type": "im"}
            if thread_ts:
                event["thread_ts"] = thread_ts
            return self.event_body(event)

    def dm_file_event(self, user_id: str, name: str, data: bytes, *, text: str = "") -> bytes:
        """A person shares a file in their DM with the bot: the file is stored (files.info and its
        url_private_download serve it, with the bot token), the message posted, and the message.im
        event with subtype file_share returned."""
        with self._lock:
            self._person(user_id)
            channel = self.dm(user_id)
            file_id = self._new_id(10, "F")
            stored = StoredFile(file_id, name, len(data), data=data, title=name, channels=[channel],
                                completed=True, created=int(time.time()))
            self._files[file_id] = stored
            info = {**self._file_dict(stored), "user": user_id}
            msg = self._new_msg(channel, text=text, blocks=[], user=user_id, bot=False, files=[info])
            event = {"type": "message", "subtype": "file_share", "user": user_id, "ts": msg.ts, "text": text,
                     "team": self.team_id, "channel": channel, "event_ts": msg.ts, "channel_type": "im",
                     "files": [info], "upload": True, "display_as_bot": False}
            return self.event_body(event)

    def app_home_opened(self, user_id: str, *, tab: str = "home") -> bytes:
        """A person opens the app's Home (or Messages) tab."""
        with self._lock:
            self._person(user_id)
            event: dict[str, Any] = {"type": "app_home_opened", "user": user_id, "channel": self.dm(user_id),
                                     "tab": tab, "event_ts": self._next_ts()}
            home = self._homes.get(user_id)
            if home is not None:
                event["view"] = self._view_dict(self._views[home])
            return self.event_body(event)

    def slash(self, user_id: str, command: str = "/book", text: str = "pricing", *,
              channel_id: str | None = None) -> bytes:
        """A slash command, form-encoded like Slack's, with a fresh trigger_id and response_url."""
        with self._lock:
            person = self._person(user_id)
            channel = channel_id or self.dm(user_id)
            name = self._channels[channel]["name"] if channel in self._channels else "directmessage"
            form = {"token": VERIFICATION_TOKEN, "team_id": self.team_id, "team_domain": self.team_domain,
                    "channel_id": channel, "channel_name": name, "user_id": user_id, "user_name": person["name"],
                    "command": command, "text": escape(text), "api_app_id": self.app_id, "is_enterprise_install": "false",
                    "response_url": self._new_hook("commands", user_id, channel, None),
                    "trigger_id": self._new_trigger(user_id)}
        return urlencode(form).encode()

    def press(self, user_id: str, channel_id: str, ts: str, action_id: str, value: str | None = None) -> bytes:
        """A person uses an element (button, select, overflow, radio) of a stored message: the block_actions
        payload (form body payload=<json>). For a select/overflow/radio, `value` picks the option. Raises
        ValueError when the message has no such element or option: a person can only press what they see."""
        with self._lock:
            person = self._person(user_id)
            channel = self._resolve_known(channel_id)
            msg = self._messages.get(channel, {}).get(ts)
            if msg is None or msg.deleted:
                raise ValueError(f"no message {ts} in {channel_id}")
            action = self._action(msg.blocks, action_id, value, where=f"message {ts}")
            payload = {"type": "block_actions", "user": self._user_ref(person), "api_app_id": self.app_id,
                       "token": VERIFICATION_TOKEN,
                       "container": {"type": "message", "message_ts": ts, "channel_id": channel,
                                     "is_ephemeral": False},
                       "trigger_id": self._new_trigger(user_id), "team": {"id": self.team_id,
                                                                          "domain": self.team_domain},
                       "enterprise": None, "is_enterprise_install": False,
                       "channel": {"id": channel, "name": self._channel_name(channel)},
                       "message": self._msg_dict(msg), "state": {"values": {}},
                       "response_url": self._new_hook("actions", user_id, channel, ts), "actions": [action]}
        return urlencode({"payload": json.dumps(payload)}).encode()

    def press_view(self, user_id: str, view_id: str, action_id: str, value: str | None = None) -> bytes:
        """Like press(), on an element of an open modal or of the person's App Home."""
        with self._lock:
            person = self._person(user_id)
            v = self._views.get(view_id)
            if v is None or v.user != user_id or v.closed or (v.type == "modal" and
                                                               view_id not in self._stacks.get(user_id, [])):
                raise ValueError(f"{user_id} has no open view {view_id}")
            action = self._action(v.view.get("blocks") or [], action_id, value, where=f"view {view_id}")
            payload = {"type": "block_actions", "user": self._user_ref(person), "api_app_id": self.app_id,
                       "token": VERIFICATION_TOKEN, "container": {"type": "view", "view_id": view_id},
                       "trigger_id": self._new_trigger(user_id, view_id if v.type == "modal" else None),
                       "team": {"id": self.team_id, "domain": self.team_domain}, "enterprise": None,
                       "is_enterprise_install": False, "view": self._view_dict(v), "actions": [action]}
        return urlencode({"payload": json.dumps(payload)}).encode()

    def view_submission(self, user_id: str, view_id: str, values: dict[str, Any]) -> bytes:
        """A person submits the modal on top of their stack. values: {block_id: {action_id: value}} (a flat
        {action_id: value} works too); a text input takes a str, a select/radio the option value, checkboxes
        and multi-selects a list, a datepicker "YYYY-MM-DD". Raises ValueError for what Slack's client
        would not let through: unknown inputs or options, a required input left empty, a text outside
        min_length/max_length."""
        with self._lock:
            person = self._person(user_id)
            stack = self._stacks.get(user_id, [])
            if not stack or stack[-1] != view_id:
                raise ValueError(f"{view_id} is not the modal {user_id} sees (open: {stack})")
            v = self._views[view_id]
            view = self._view_dict(v)
            view["state"] = {"values": self._state_values(v, values)}
            payload = {"type": "view_submission", "team": {"id": self.team_id, "domain": self.team_domain},
                       "user": self._user_ref(person), "api_app_id": self.app_id, "token": VERIFICATION_TOKEN,
                       "trigger_id": self._new_trigger(user_id, view_id), "view": view, "response_urls": [],
                       "is_enterprise_install": False, "enterprise": None}
        return urlencode({"payload": json.dumps(payload)}).encode()

    # -- Slack -> app: delivery -------------------------------------------------------------------------

    def post(self, body: bytes, *, content_type: str | None = None, retry_num: int | None = None,
             retry_reason: str = "http_timeout", signed: bool = True, timestamp: int | None = None,
             url: str | None = None) -> tuple[int, dict[str, str], bytes]:
        """POST a body to the app like Slack (signed, with X-Slack-Retry-* when retry_num is given); returns
        (status, headers, body), status 0 when the app was unreachable or silent for 30 s. content_type
        defaults to JSON for a JSON body, else form-encoded. Blocking: from code running in an event
        loop that also serves the app, use ``await fake.apost(...)``."""
        assert self._loop is not None, "start() the fake first"
        coro = self._deliver(body, content_type, retry_num, retry_reason, signed, timestamp, url)
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(35)

    async def apost(self, body: bytes, *, content_type: str | None = None, retry_num: int | None = None,
                    retry_reason: str = "http_timeout", signed: bool = True, timestamp: int | None = None,
                    url: str | None = None) -> tuple[int, dict[str, str], bytes]:
        """post() for code running in its own event loop: the POST happens on the fake's loop."""
        assert self._loop is not None, "start() the fake first"
        coro = self._deliver(body, content_type, retry_num, retry_reason, signed, timestamp, url)
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    def submit(self, user_id: str, view_id: str, values: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        """view_submission() + post(), then do what Slack does with the app's answer: an empty 200 closes the
        view; response_action "errors" keeps it and shows the errors (unknown block ids are refused like
        Slack refuses them: AssertionError), "update" replaces it, "push" pushes a view, "clear" closes the
        whole stack. Returns (status, the parsed answer or None)."""
        status, _, raw = self.post(self.view_submission(user_id, view_id, values))
        answer: dict[str, Any] | None = None
        if raw.strip():
            try:
                answer = json.loads(raw)
            except ValueError:
                raise AssertionError(f"the app answered a view_submission with non-JSON: {raw[:200]!r}") from None
        if status != 200:
            return status, answer
        self._apply_submission(user_id, view_id, answer)
        return status, answer

    def _apply_submission(self, user_id: str, view_id: str, answer: dict[str, Any] | None) -> None:
        """What Slack does with the app's answer to a view_submission (see submit())."""
        with self._lock:
            action = (answer or {}).get("response_action")
            v = self._views[view_id]
            if action is None:
                self._close(user_id, view_id)
            elif action == "clear":
                for vid in self._stacks.pop(user_id, []):
                    self._views[vid].closed = True
            elif action == "errors":
                errors = answer.get("errors") if answer else None
                input_ids = {b.get("block_id") for b in v.view.get("blocks", []) if b.get("type") == "input"}
                if not isinstance(errors, dict) or not errors or not set(errors) <= input_ids:
                    raise AssertionError(f"Slack refuses response_action errors {errors!r}: keys must be input "
                                         f"block_ids of the view ({sorted(input_ids)})")
                v.errors = dict(errors)
            elif action in ("update", "push"):
                new = (answer or {}).get("view")
                problems = check_view(new, kind="modal", path="/view")
                if problems:
                    raise AssertionError(f"Slack refuses the response_action {action} view: {problems}")
                if action == "update":
                    self._set_view(v, new)
                else:
                    if len(self._stacks[user_id]) >= 3:
                        raise AssertionError("Slack refuses response_action push: at most 3 views in a stack")
                    self._open_view(user_id, new, push=True)
            else:
                raise AssertionError(f"unknown response_action {action!r}")

    async def _deliver(self, body: bytes, content_type: str | None, retry_num: int | None, retry_reason: str,
                       signed: bool, timestamp: int | None, url: str | None) -> tuple[int, dict[str, str], bytes]:
        target = url or self.app_url
        if not target:
            raise ValueError("set fake.app_url (or pass url=) before posting to the app")
        if content_type is None:
            content_type = "application/json" if body.lstrip().startswith(b"{") else "application/x-www-form-urlencoded"
        headers = {"Content-Type": content_type, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
        if signed:
            headers.update(self.sign(body, timestamp))
        if retry_num is not None:
            headers.update({"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason})
        if self._session is None:
            self._session = aiohttp.ClientSession()
        started = time.monotonic()
        status, answer_headers, answer = 0, {}, b""
        try:
            async with self._session.post(target, data=body, headers=headers,
                                          timeout=aiohttp.ClientTimeout(total=30)) as response:
                answer = await response.read()
                status, answer_headers = response.status, dict(response.headers)
        except (aiohttp.ClientError, asyncio.TimeoutError):
            pass
        with self._lock:
            self.deliveries.append(Delivery(body, content_type, status, time.monotonic() - started, retry_num, answer))
        return status, answer_headers, answer

    # -- Slack -> app: Socket Mode ----------------------------------------------------------------------

    def socket_payload(self, body: bytes) -> tuple[str, dict[str, Any]]:
        """Turn an HTTP body built by dm_event()/event_body()/app_home_opened(), slash(), press(), press_view()
        or view_submission() into what Slack sends over Socket Mode instead: (envelope type, payload). An
        Events API envelope becomes "events_api" with the same dict; a slash command's form "slash_commands"
        with the form fields as a dict of strings; a payload=<json> form "interactive" with the parsed JSON."""
        raw = body.strip()
        if raw.startswith(b"{"):
            payload = json.loads(raw)
            if payload.get("type") != "event_callback":
                raise ValueError(f"Slack sends only event_callback envelopes over Socket Mode, not "
                                 f"{payload.get('type')!r}")
            return "events_api", payload
        form = dict(parse_qsl(raw.decode(), keep_blank_values=True))
        if set(form) == {"payload"}:
            return "interactive", json.loads(form["payload"])
        if "command" in form:
            return "slash_commands", form
        raise ValueError(f"not a body Slack would send over Socket Mode: {raw[:100]!r}")

    def socket_send(self, kind: str, payload: dict[str, Any], *, timeout: float = 10.0, retry_attempt: int = 0,
                    retry_reason: str = "", envelope_id: str | None = None,
                    accepts_response_payload: bool | None = None) -> dict[str, Any] | None:
        """Push an envelope ({"envelope_id", "payload", "type", "accepts_response_payload", "retry_attempt",
        "retry_reason"}) to a connected app (round robin over its connections, like Slack) and wait for its
        ack ({"envelope_id", "payload"?}); returns the ack's payload, None when it had none. Raises
        ConnectionError when no app is connected (or the socket closes before the ack) and TimeoutError
        when the app does not ack within `timeout` seconds (Slack wants it within 3). A retry is a new
        envelope (new envelope_id) around the same payload with retry_attempt >= 1. Blocking and
        thread-safe; from code running an event loop that serves the app, use ``await asocket_send(...)``."""
        assert self._loop is not None, "start() the fake first"
        coro = self._socket_push(kind, payload, timeout, retry_attempt, retry_reason, envelope_id,
                                 accepts_response_payload)
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout + 5)

    async def asocket_send(self, kind: str, payload: dict[str, Any], *, timeout: float = 10.0,
                           retry_attempt: int = 0, retry_reason: str = "", envelope_id: str | None = None,
                           accepts_response_payload: bool | None = None) -> dict[str, Any] | None:
        """socket_send() for code running in its own event loop: the push happens on the fake's loop."""
        assert self._loop is not None, "start() the fake first"
        coro = self._socket_push(kind, payload, timeout, retry_attempt, retry_reason, envelope_id,
                                 accepts_response_payload)
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    def socket_submit(self, user_id: str, view_id: str, values: dict[str, Any], *,
                      timeout: float = 10.0) -> dict[str, Any] | None:
        """submit() over Socket Mode: the view_submission as an "interactive" envelope, then what Slack does
        with the ack's payload (close the view, show errors, update, push, clear). Returns the payload."""
        answer = self.socket_send(*self.socket_payload(self.view_submission(user_id, view_id, values)),
                                  timeout=timeout)
        self._apply_submission(user_id, view_id, answer)
        return answer

    def socket_connected(self) -> bool:
        """Whether an app holds an open Socket Mode connection (it has been sent its hello)."""
        with self._lock:
            return any(s.record.open for s in self._sockets.values())

    def wait_socket(self, timeout: float = 5.0, *, count: int = 1) -> None:
        """Block until at least `count` Socket Mode connections are open; AssertionError if not in time."""
        self.wait_for(lambda f: sum(s.record.open for s in f._sockets.values()) >= count, timeout)

    async def wait_socket_async(self, timeout: float = 5.0, *, count: int = 1) -> None:
        """wait_socket() for code running an event loop."""
        await self.wait_for_async(lambda f: sum(s.record.open for s in f._sockets.values()) >= count, timeout)

    @property
    def sockets(self) -> list[SocketConnection]:
        """Every Socket Mode connection so far, oldest first (snapshots)."""
        with self._lock:
            return [copy.deepcopy(s.record) for s in self._sockets.values()]

    def socket_disconnect(self, reason: str = "refresh_requested", *, close_after: float | None = None) -> None:
        """Send Slack's {"type": "disconnect", "reason": ...} to every open connection (Slack does it before it
        refreshes a connection, "warning" about 10 s ahead, "link_disabled" when Socket Mode was turned
        off): the app is expected to open a new one. With close_after, close them that many seconds later."""
        assert self._loop is not None, "start() the fake first"

        async def send() -> None:
            with self._lock:
                open_ = [s for s in self._sockets.values() if s.record.open and not s.ws.closed]
            message = json.dumps({"type": "disconnect", "reason": reason,
                                  "debug_info": {"host": "applink-fake-1"}})
            for sock in open_:
                try:
                    await sock.ws.send_str(message)
                except (ConnectionError, RuntimeError):
                    pass
            if close_after is not None:
                await asyncio.sleep(close_after)
                for sock in open_:
                    await sock.ws.close(code=1000, message=b"disconnected")

        asyncio.run_coroutine_threadsafe(send(), self._loop).result(10 + (close_after or 0))

    def socket_drop(self) -> None:
        """Close every open Socket Mode connection from Slack's side, without warning (a network cut or a
        server restart); the app is expected to reconnect with a new URL."""
        assert self._loop is not None, "start() the fake first"

        async def drop() -> None:
            with self._lock:
                open_ = [s for s in self._sockets.values() if s.record.open and not s.ws.closed]
            for sock in open_:
                await sock.ws.close(code=1001, message=b"dropped")

        asyncio.run_coroutine_threadsafe(drop(), self._loop).result(10)

    async def _socket_push(self, kind: str, payload: dict[str, Any], timeout: float, retry_attempt: int,
                           retry_reason: str, envelope_id: str | None,
                           accepts_response_payload: bool | None) -> dict[str, Any] | None:
        if kind not in ("events_api", "slash_commands", "interactive"):
            raise ValueError(f"unknown Socket Mode envelope type {kind!r}")
        if not isinstance(payload, dict):
            raise TypeError("a Socket Mode payload is a dict")
        if accepts_response_payload is None:  # as Slack sets it: where the ack's payload is used
            accepts_response_payload = kind == "slash_commands" or (
                kind == "interactive" and payload.get("type") in ("view_submission", "block_suggestion"))
        loop = asyncio.get_running_loop()
        with self._lock:
            open_ = [s for s in self._sockets.values() if s.record.open and not s.ws.closed]
            if not open_:
                raise ConnectionError("no app is connected over Socket Mode (call apps.connections.open and "
                                      "connect first; fake.wait_socket() waits for it)")
            sock = open_[next(self._socket_turn) % len(open_)]
            eid = envelope_id or str(uuid.uuid4())
            if eid in self._pending_acks:
                raise ValueError(f"envelope {eid} is already waiting for its ack")
            ack: asyncio.Future[dict[str, Any]] = loop.create_future()
            self._pending_acks[eid] = (ack, sock.record.id)
            record = Envelope(eid, kind, copy.deepcopy(payload), sock.record.id, retry_attempt, retry_reason,
                              accepts_response_payload)
            self.envelopes.append(record)
        envelope = {"envelope_id": eid, "payload": payload, "type": kind,
                    "accepts_response_payload": accepts_response_payload}
        if kind == "events_api":  # only events carry the retry fields
            envelope.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
        started = time.monotonic()
        try:
            try:
                await sock.ws.send_str(json.dumps(envelope))
            except (ConnectionError, RuntimeError) as exc:
                raise ConnectionError(f"the Socket Mode connection {sock.record.id} is gone: {exc}") from exc
            try:
                message = await asyncio.wait_for(ack, timeout)
            except asyncio.TimeoutError:
                raise TimeoutError(f"the app did not ack {kind} envelope {eid} within {timeout}s") from None
        finally:
            with self._lock:
                self._pending_acks.pop(eid, None)
        with self._lock:
            record.acked, record.ack, record.elapsed = True, copy.deepcopy(message), time.monotonic() - started
        answer = message.get("payload")
        if answer is not None and not isinstance(answer, dict):
            raise AssertionError(f"Slack refuses an ack payload that is not a JSON object: {answer!r}")
        return answer

    async def _on_socket(self, request: web.Request) -> web.StreamResponse:
        """The websocket URL apps.connections.open handed out (each ticket connects once): hello first, then
        envelopes pushed by socket_send(); whatever the app sends back is matched to them by envelope_id."""
        ticket = request.match_info["ticket"]
        with self._lock:
            issued = self._tickets.pop(ticket, None)
        if issued is None:
            return web.Response(status=401, text="invalid or used ticket", content_type="text/plain")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        with self._lock:
            record = SocketConnection(self._new_id(8, "S"), ticket, time.monotonic())
            record.hello = {"type": "hello",
                            "num_connections": 1 + sum(s.record.open for s in self._sockets.values()),
                            "debug_info": {"host": "applink-fake-1", "build_number": 1,
                                           "approximate_connection_time": 18060},
                            "connection_info": {"app_id": self.app_id}}
            self._sockets[record.id] = _Socket(record, ws)
        try:
            await ws.send_str(json.dumps(record.hello))
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    data: Any = json.loads(msg.data)
                except ValueError:
                    data = msg.data
                with self._lock:
                    record.received.append(data)
                    pending = self._pending_acks.get(data.get("envelope_id")) if isinstance(data, dict) else None
                if pending is not None and not pending[0].done():
                    pending[0].set_result(data)
        finally:
            with self._lock:
                record.closed_at = time.monotonic()
                orphans = [fut for fut, conn in self._pending_acks.values() if conn == record.id]
            for fut in orphans:
                if not fut.done():
                    fut.set_exception(ConnectionError(f"the Socket Mode connection {record.id} closed before "
                                                      f"the app acked"))
        return ws

    # -- observation ----------------------------------------------------------------------------

    def messages(self, channel: str, *, everyone: bool = False) -> list[Msg]:
        """Snapshots of the bot's messages in a conversation (a user id means their DM), oldest first,
        deleted ones left out; everyone=True adds the people's messages."""
        with self._lock:
            channel = self._resolve_known(channel)
            return [copy.deepcopy(m) for m in self._messages.get(channel, {}).values()
                    if not m.deleted and (m.bot or everyone)]

    def last(self, channel: str) -> Msg:
        sent = self.messages(channel)
        if not sent:
            raise AssertionError(f"the bot has no message in {channel}\n{self.dump()}")
        return sent[-1]

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[Ephemeral]:
        with self._lock:
            channel = self._resolve_known(channel) if channel else None
            return [copy.deepcopy(e) for e in self._ephemerals
                    if (channel is None or e.channel == channel) and (user is None or e.user == user)]

    @property
    def views(self) -> dict[str, View]:
        """Every modal ever opened, by view id (snapshots; see View.closed)."""
        with self._lock:
            return {vid: copy.deepcopy(v) for vid, v in self._views.items() if v.type == "modal"}

    def modal(self, user_id: str) -> View | None:
        """The modal the person sees (the top of their stack), if any."""
        with self._lock:
            stack = self._stacks.get(user_id)
            return copy.deepcopy(self._views[stack[-1]]) if stack else None

    def home(self, user_id: str) -> dict[str, Any] | None:
        """The App Home view last published for the person (Slack's view object), or None."""
        with self._lock:
            vid = self._homes.get(user_id)
            return self._view_dict(self._views[vid]) if vid else None

    def files(self, channel: str) -> list[StoredFile]:
        """Files shared in a conversation, oldest first."""
        with self._lock:
            channel = self._resolve_known(channel)
            return [copy.deepcopy(f) for f in self._files.values() if channel in f.channels]

    def wait_for(self, predicate: Callable[[FakeSlack], bool], timeout: float = 5.0) -> None:
        """Block until predicate(fake) holds (checked under the lock); AssertionError with a dump if not."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if predicate(self):
                    return
            if time.monotonic() >= deadline:
                raise AssertionError(f"condition not met within {timeout}s\n{self.dump()}")
            time.sleep(0.005)

    async def wait_for_async(self, predicate: Callable[[FakeSlack], bool], timeout: float = 5.0) -> None:
        """wait_for() for code running an event loop (an app in the same loop keeps working meanwhile)."""
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
                lines.append(f"  {c.status or '---'} {c.method}{f' -> {c.error}' if c.error else ''} {shown}")
            for channel, msgs in self._messages.items():
                lines.append(f"{channel}:")
                for m in list(msgs.values())[-8:]:
                    who = "bot" if m.bot else m.user
                    keys = [b[0] for b in buttons(m)]
                    text = all_text(m).replace("\n", " | ")
                    text = text if len(text) < 120 else text[:117] + "..."
                    lines.append(f"  {m.ts} {who}{' (deleted)' if m.deleted else ''}"
                                 f"{f' (edited x{m.edits})' if m.edits else ''}: {text!r} {keys or ''}")
            for user, stack in self._stacks.items():
                lines.append(f"modals of {user}: " + ", ".join(
                    f"{vid} {self._views[vid].view.get('callback_id')!r}" for vid in stack))
            for user, vid in self._homes.items():
                lines.append(f"home of {user}: {len(self._views[vid].view.get('blocks', []))} blocks")
            lines.append(f"ephemerals: {len(self._ephemerals)}; files: {len(self._files)}; "
                         f"throttled: {len(self.throttled)}; deliveries: "
                         f"{[d.status for d in self.deliveries[-10:]]}")
            if self._sockets or self.envelopes:
                lines.append(f"socket mode: {sum(x.record.open for x in self._sockets.values())} open of "
                             f"{len(self._sockets)} connections; envelopes: "
                             f"{[(e.type, e.retry_attempt, e.acked) for e in self.envelopes[-10:]]}")
            return "\n".join(lines)

    def fail_next(self, method: str, *, error: str | None = None, status: int = 200, retry_after: int | None = None,
                  times: int = 1) -> None:
        """The next `times` calls of `method` answer this error and are not performed. status 429 answers
        {"error": "ratelimited"} with Retry-After (default 1)."""
        if status == 429:
            retry = 1 if retry_after is None else retry_after
            err = _ApiError(error or "ratelimited", status=429, headers={"Retry-After": str(retry)})
        else:
            if error is None and status == 200:
                raise ValueError("an HTTP 200 failure needs an error code")
            err = _ApiError(error or "internal_error", status=status,
                            headers={"Retry-After": str(retry_after)} if retry_after is not None else None)
        self._add_fault(method, _Fault(err), times)

    def drop_next(self, method: str, times: int = 1, *, perform: bool = False) -> None:
        """The next `times` calls of `method` lose their connection unanswered (a network error for the
        client). With perform=True the call takes effect first, so the client can't know it happened."""
        self._add_fault(method, _Fault(None, perform), times)

    def _add_fault(self, method: str, fault: _Fault, times: int) -> None:
        if method not in _API_METHODS:
            raise ValueError(f"the fake has no method {method!r}")
        with self._lock:
            self._faults.setdefault(method, []).extend([fault] * times)

    # -- HTTP -----------------------------------------------------------------------------------

    async def _on_api(self, request: web.Request) -> web.StreamResponse:
        at = time.monotonic()
        name = request.match_info["method"]
        method = name if name in _API_METHODS else None
        call = Call(name, {}, at=at)
        with self._lock:
            self.calls.append(call)
        try:
            params, json_body = await self._read_params(request)
            header = request.headers.get("Authorization", "")
            token = header[len("Bearer "):].strip() if header.startswith("Bearer ") else None
            body_token = params.pop("token", None)
            if token is None and not json_body:  # Slack takes a token in the form, never in a JSON body
                token = body_token
            call.params = params
            if method is None:
                raise _ApiError("unknown_method", extra={"req_method": name},
                                messages=[f"the fake Slack does not implement {name}"])
            if not token:
                raise _ApiError("not_authed")
            expected = self.app_token if method in _APP_TOKEN_METHODS else self.bot_token
            if token != expected:  # a real token of the other kind is refused as such, like Slack does
                raise _ApiError("not_allowed_token_type" if token in (self.bot_token, self.app_token)
                                else "invalid_auth")
            with self._lock:
                faults = self._faults.get(method)
                fault = faults.pop(0) if faults else None
            if fault is not None and fault.error is not None:
                raise fault.error
            if fault is not None:  # drop the connection
                if fault.perform:
                    try:
                        self._perform(method, call)
                    except _ApiError:
                        pass
                call.answered_at = time.monotonic()
                request.transport.close()  # type: ignore[union-attr]
                return web.Response()
            result = self._perform(method, call)
            return self._answer(call, 200, {"ok": True, **result})
        except _ApiError as err:
            return self._answer(call, err.status, err.body(), err.headers)

    def _answer(self, call: Call, status: int, body: dict[str, Any],
                headers: dict[str, str] | None = None) -> web.Response:
        with self._lock:
            call.status, call.answered_at = status, time.monotonic()
            call.error = None if body.get("ok") else body.get("error")
            if status == 429:
                self.throttled.append(call)
        return web.json_response(body, status=status, headers={"X-OAuth-Scopes": _SCOPES, **(headers or {})})

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], bool]:
        """Parameters from the query string and a JSON, url-encoded or multipart body; and whether JSON."""
        params: dict[str, Any] = dict(request.query)
        if not request.can_read_body:
            return params, False
        if request.content_type == "multipart/form-data":
            for key, value in (await request.post()).items():
                params[key] = value.file.read() if isinstance(value, web.FileField) else value
            return params, False
        raw = await request.read()
        if not raw.strip():
            return params, False
        if request.content_type == "application/json":
            try:
                body = json.loads(raw)
            except ValueError:
                raise _ApiError("invalid_json") from None
            if not isinstance(body, dict):
                raise _ApiError("json_not_object")
            params.update(body)
            return params, True
        if request.content_type == "application/x-www-form-urlencoded":
            try:
                params.update(parse_qsl(raw.decode(), keep_blank_values=True, strict_parsing=True))
            except (UnicodeDecodeError, ValueError):
                raise _ApiError("invalid_form_data") from None
            return params, False
        raise _ApiError("invalid_post_type")

    def _perform(self, method: str, call: Call) -> dict[str, Any]:
        """Run a method under the lock: rate limit, JSON-encoded arguments, then the method itself."""
        with self._lock:
            self._check_rate(method, call.at)
            params = dict(call.params)
            for key in _JSON_PARAMS & set(params):
                if isinstance(params[key], str):
                    try:
                        params[key] = json.loads(params[key])
                    except ValueError:
                        raise _ApiError("invalid_blocks_format" if key == "blocks" else "invalid_arguments",
                                        messages=[f"[ERROR] {key} is not valid JSON [json-pointer:/{key}]"]) from None
            call.params = params
            return getattr(self, "_api_" + method.replace(".", "_"))(params)

    def _check_rate(self, method: str, at: float) -> None:
        """Sliding window per method: refuse a call that would make more than N calls within S seconds."""
        limit = self.rate_limits.get(method, self.rate_limit)
        if not limit:
            return
        count, span = limit
        times = [t for t in self._windows.get(method, []) if t > at - span]
        if len(times) >= count:
            self._windows[method] = times
            retry = max(1, math.ceil(times[len(times) - count] + span - at))
            raise _ApiError("ratelimited", status=429, headers={"Retry-After": str(retry)})
        times.append(at)
        self._windows[method] = times

    async def _on_upload(self, request: web.Request) -> web.StreamResponse:
        """The upload URL files.getUploadURLExternal hands out: raw bytes, or a multipart `file` field."""
        file_id = request.match_info["file_id"]
        if request.content_type == "multipart/form-data":
            data = b""
            for value in (await request.post()).values():
                if isinstance(value, web.FileField):
                    data = value.file.read()
                    break
        else:
            data = await request.read()
        call = Call("(upload)", {"file_id": file_id, "bytes": len(data)}, at=time.monotonic())
        with self._lock:
            self.calls.append(call)
            stored = self._files.get(file_id)
            if stored is None or stored.completed:
                call.status, call.answered_at = 404, time.monotonic()
                return web.Response(status=404, text="file not found", content_type="text/plain")
            stored.data = data
            call.status, call.answered_at = 200, time.monotonic()
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    async def _on_download(self, request: web.Request) -> web.StreamResponse:
        """url_private_download: needs the bot token, like Slack."""
        if request.headers.get("Authorization", "") != f"Bearer {self.bot_token}":
            return web.Response(status=302, headers={"Location": "https://slack.com/signin"})
        with self._lock:
            stored = self._files.get(request.match_info["file_id"])
            if stored is None or not stored.completed or stored.data is None:
                return web.Response(status=404, text="not found")
            data, mime = stored.data, stored.mimetype
        return web.Response(body=data, content_type=mime)

    async def _on_response_url(self, request: web.Request) -> web.StreamResponse:
        """A response_url (from slash() or press()): replace_original / delete_original / a new message
        (response_type in_channel) or an ephemeral one (the default). 5 uses within 30 minutes."""
        raw = await request.read()
        try:  # Bolt and WebhookClient send JSON; a form body carries it as payload=<json>
            form = {} if raw.lstrip().startswith(b"{") else dict(parse_qsl(raw.decode()))
            body = json.loads(form.get("payload", "") if form else raw)
        except ValueError:
            return web.json_response({"ok": False, "error": "invalid_payload"}, status=400)
        url = str(request.url)
        call = Call("(response_url)", body if isinstance(body, dict) else {}, at=time.monotonic())
        with self._lock:
            self.calls.append(call)
            try:
                self._respond(request.match_info["hook_id"], url, body)
            except _ApiError as err:
                call.status, call.answered_at = err.status, time.monotonic()
                return web.json_response(err.body(), status=err.status)
            call.status, call.answered_at = 200, time.monotonic()
        return web.json_response({"ok": True})

    def _respond(self, hook_id: str, url: str, body: Any) -> str:
        hook = self._hooks.get(hook_id)
        if hook is None:
            raise _ApiError("no_active_hooks", status=404)
        if hook.uses >= 5 or time.monotonic() - hook.at > 1800:
            raise _ApiError("expired_url", status=404)
        if not isinstance(body, dict):
            raise _ApiError("invalid_payload", status=400)
        if _flag(body.get("delete_original")):
            msg = self._hook_message(hook)
            msg.deleted, effect = True, "deleted"
        else:
            text, blocks, attachments = self._content(body, status=400)
            if _flag(body.get("replace_original")):
                msg = self._hook_message(hook)
                self._edit(msg, text, blocks if blocks is not None else [], attachments)
                effect = "replaced"
            elif body.get("response_type") == "in_channel":
                if hook.channel is None:
                    raise _ApiError("channel_not_found", status=404)
                self._new_msg(hook.channel, text=text, blocks=blocks or [], user=self.bot_user_id,
                              attachments=attachments, thread_ts=body.get("thread_ts"))
                effect = "posted"
            else:
                self._ephemerals.append(Ephemeral(self._next_ts(), hook.channel or "", hook.user, text,
                                                  blocks or [], body.get("thread_ts")))
                effect = "ephemeral"
        hook.uses += 1
        self.responses.append(Response(url, hook.user, hook.channel, copy.deepcopy(body), effect))
        return effect

    def _hook_message(self, hook: _Hook) -> Msg:
        msg = self._messages.get(hook.channel or "", {}).get(hook.message_ts or "")
        if msg is None or msg.deleted:
            raise _ApiError("message_not_found", status=404)
        return msg

    # -- shared rules ---------------------------------------------------------------------------------

    def _new_id(self, n: int, prefix: str = "") -> str:
        with self._lock:
            return prefix + "".join(self._rand.choice(_ALNUM) for _ in range(n))

    def _next_ts(self) -> str:
        """Slack message timestamps: "<unix seconds>.<6 digits>", unique and increasing."""
        with self._lock:
            self._last_ts = max(int(time.time() * 1_000_000), self._last_ts + 1)
            return f"{self._last_ts // 1_000_000}.{self._last_ts % 1_000_000:06d}"

    def _person(self, user_id: str) -> dict[str, Any]:
        if user_id not in self._users:
            self.user(user_id, name=f"user{user_id.lower()}", real_name=f"User {user_id}", tz="UTC")
        return self._users[user_id]

    def _user_ref(self, person: dict[str, Any]) -> dict[str, Any]:
        return {"id": person["id"], "username": person["name"], "name": person["name"], "team_id": self.team_id}

    def _channel_name(self, channel: str) -> str:
        return self._channels[channel]["name"] if channel in self._channels else "directmessage"

    def _new_trigger(self, user_id: str, view_id: str | None = None) -> str:
        trigger = f"{next(self._seq)}{self._rand.randrange(10**6):06d}.{self.team_id[1:] or '0'}." \
                  f"{self._rand.getrandbits(128):032x}"
        self._triggers[trigger] = _Trigger(user_id, time.monotonic(), view_id)
        return trigger

    def _new_hook(self, kind: str, user_id: str, channel: str | None, message_ts: str | None) -> str:
        hook_id = f"{next(self._seq)}{self._rand.randrange(10**9)}"
        self._hooks[hook_id] = _Hook(user_id, channel, message_ts, time.monotonic())
        return f"{self.base_url}/hooks/{kind}/{self.team_id}/{hook_id}"

    def _rich_text(self, text: str) -> dict[str, Any]:
        return {"type": "rich_text", "block_id": self._new_id(5),
                "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}]}

    def _resolve_known(self, channel: str) -> str:
        """For the helpers: a user id stands for their DM."""
        return self.dm(channel) if channel in self._users else channel

    def _conversation(self, channel: Any, *, open_dm: bool = True, posting: bool = True) -> str:
        """The conversation a call names: a registered channel (id or #name) the bot is in, a DM of a
        registered person, or (open_dm) a person's user id, which opens their DM."""
        if not isinstance(channel, str) or not channel:
            raise _ApiError("channel_not_found")
        if channel.startswith("#"):
            found = [c for c in self._channels.values() if c["name"] == channel[1:]]
            channel = found[0]["id"] if found else channel
        if channel in self._channels:
            if posting and not self._channels[channel]["is_member"]:
                raise _ApiError("not_in_channel")
            return channel
        if channel.startswith("D") and channel[1:] in self._users:
            return channel
        if open_dm and channel in self._users:
            self._opened_dms.add(self.dm(channel))
            return self.dm(channel)
        raise _ApiError("channel_not_found")

    def _content(self, p: dict[str, Any], *, status: int = 200, update: bool = False,
                 old: Msg | None = None) -> tuple[str, list[dict[str, Any]] | None, list[dict[str, Any]] | None]:
        """(text, blocks with ids filled in, attachments) of a post or update, validated like Slack."""
        text = p.get("text")
        text = "" if text is None else str(text)
        blocks, attachments = p.get("blocks"), p.get("attachments")
        markdown = p.get("markdown_text")
        if markdown is not None:
            if text or blocks:
                raise _ApiError("markdown_text_conflict", status=status)
            if not isinstance(markdown, str) or len(markdown) > 12000:
                raise _ApiError("msg_too_long", status=status)
            text, blocks = markdown, [{"type": "markdown", "text": markdown}]
        if blocks is not None and not isinstance(blocks, list):
            raise _ApiError("invalid_blocks_format", status=status)
        if attachments is not None:
            if not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments):
                raise _ApiError("invalid_attachments", status=status)
            if len(attachments) > 100:
                raise _ApiError("too_many_attachments", status=status)
        kept_blocks = old.blocks if (update and old is not None and blocks is None) else None
        if not text and not blocks and not attachments and not kept_blocks:
            raise _ApiError("no_text", status=status)
        if len(text) > 40_000:
            raise _ApiError("msg_too_long", status=status)
        if blocks:
            problems = check_blocks(blocks, surface="message")
            if problems:
                err = _invalid("invalid_blocks", problems)
                err.status = status
                raise err
            blocks = _fill_ids(blocks, self._new_id)
        return text, blocks, attachments

    def _new_msg(self, channel: str, *, text: str, blocks: list[dict[str, Any]], user: str, bot: bool = True,
                 thread_ts: str | None = None, attachments: list[dict[str, Any]] | None = None,
                 options: dict[str, Any] | None = None, files: list[dict[str, Any]] | None = None) -> Msg:
        msg = Msg(self._next_ts(), channel, text, copy.deepcopy(blocks), user, bot=bot, thread_ts=thread_ts,
                  attachments=copy.deepcopy(attachments), files=files or [], options=options or {})
        msg.history.append(msg.version())
        self._messages.setdefault(channel, {})[msg.ts] = msg
        return msg

    def _edit(self, msg: Msg, text: str, blocks: list[dict[str, Any]] | None,
              attachments: list[dict[str, Any]] | None) -> None:
        msg.text = text
        if blocks is not None:
            msg.blocks = blocks
        if attachments is not None:
            msg.attachments = attachments
        msg.edits += 1
        msg.options["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        msg.history.append(msg.version())

    def _msg_dict(self, m: Msg) -> dict[str, Any]:
        """The message object Slack answers with (and puts in interaction payloads)."""
        out: dict[str, Any] = {"type": "message", "user": m.user, "text": m.text, "ts": m.ts, "team": self.team_id}
        if m.bot:
            out.update({"bot_id": self.bot_id, "app_id": self.app_id,
                        "bot_profile": {"id": self.bot_id, "app_id": self.app_id, "name": self.bot_name,
                                        "team_id": self.team_id, "deleted": False}})
        if m.blocks:
            out["blocks"] = copy.deepcopy(m.blocks)
        if m.attachments:
            out["attachments"] = copy.deepcopy(m.attachments)
        if m.thread_ts:
            out["thread_ts"] = m.thread_ts
        if m.files:
            out["files"] = copy.deepcopy(m.files)
            out["upload"] = True
        if "edited" in m.options:
            out["edited"] = dict(m.options["edited"])
        if "metadata" in m.options:
            out["metadata"] = copy.deepcopy(m.options["metadata"])
        if m.reactions:
            out["reactions"] = [{"name": name, "users": list(users), "count": len(users)}
                                for name, users in m.reactions.items()]
        return out

    def _existing(self, p: dict[str, Any], key: str = "ts") -> Msg:
        channel = self._conversation(p.get("channel"), open_dm=False, posting=False)
        ts = p.get(key)
        if not isinstance(ts, str) or not ts:
            raise _ApiError("invalid_arguments" if key == "ts" else "no_item_specified",
                            messages=[f"[ERROR] missing required field: {key}"])
        msg = self._messages.get(channel, {}).get(ts)
        if msg is None or msg.deleted:
            raise _ApiError("message_not_found")
        return msg

    def _action(self, blocks: list[dict[str, Any]], action_id: str, value: str | None, *, where: str) -> dict[str, Any]:
        """The `actions` entry of a block_actions payload for pressing/choosing in element `action_id`."""
        for block in blocks:
            for elem in _elements(block):
                if elem.get("action_id") != action_id:
                    continue
                kind = elem.get("type")
                action: dict[str, Any] = {"action_id": action_id, "block_id": block.get("block_id"), "type": kind,
                                          "action_ts": f"{time.time():.6f}"}
                if kind == "button":
                    if value is not None and value != elem.get("value"):
                        raise ValueError(f"button {action_id!r} in {where} carries value {elem.get('value')!r}, "
                                         f"not {value!r}")
                    action["text"] = copy.deepcopy(elem.get("text"))
                    if "value" in elem:
                        action["value"] = elem["value"]
                    if "style" in elem:
                        action["style"] = elem["style"]
                    return action
                if kind in ("static_select", "overflow", "radio_buttons"):
                    options = list(elem.get("options") or []) + [o for g in elem.get("option_groups") or []
                                                                 for o in g.get("options") or []]
                    chosen = [o for o in options if o.get("value") == value]
                    if not chosen:
                        raise ValueError(f"{kind} {action_id!r} in {where} has no option {value!r}: "
                                         f"{[o.get('value') for o in options]}")
                    action["selected_option"] = copy.deepcopy(chosen[0])
                    return action
                if kind == "datepicker":
                    action["selected_date"] = value
                    return action
                raise ValueError(f"the fake does not simulate using a {kind}")
        raise ValueError(f"{where} has no element with action_id {action_id!r}; buttons: "
                         f"{[b[1] for b in buttons(blocks)]}")

    def _state_values(self, v: View, values: dict[str, Any]) -> dict[str, dict[str, Any]]:
        inputs = {b["block_id"]: b for b in v.view.get("blocks", []) if b.get("type") == "input"}
        by_action = {b["element"].get("action_id"): bid for bid, b in inputs.items()}
        given: dict[str, Any] = {}
        for key, val in values.items():
            if key in inputs and isinstance(val, dict):
                for action_id, inner in val.items():
                    if action_id != inputs[key]["element"].get("action_id"):
                        raise ValueError(f"input block {key!r} has no element {action_id!r}")
                    given[key] = inner
            elif key in by_action:
                given[by_action[key]] = val
            else:
                raise ValueError(f"view {v.id} has no input {key!r}; inputs: "
                                 f"{ {bid: b['element'].get('action_id') for bid, b in inputs.items()} }")
        state: dict[str, dict[str, Any]] = {}
        for bid, block in inputs.items():
            elem = block["element"]
            kind, raw = elem.get("type"), given.get(bid)
            if raw in (None, "", []) and not block.get("optional", False):
                raise ValueError(f"input {bid!r} ({(block.get('label') or {}).get('text')!r}) is required")
            state[bid] = {elem["action_id"]: self._state_value(elem, raw, bid)}
        return state

    @staticmethod
    def _state_value(elem: dict[str, Any], raw: Any, bid: str) -> dict[str, Any]:
        kind = elem.get("type")
        out: dict[str, Any] = {"type": kind}
        if kind in _TEXT_INPUTS:
            value = None if raw in (None, "") else str(raw)
            if value is not None and kind == "plain_text_input":
                if len(value) > elem.get("max_length", 3000) or len(value) < elem.get("min_length", 0):
                    raise ValueError(f"input {bid!r}: {len(value)} characters is outside "
                                     f"{elem.get('min_length', 0)}..{elem.get('max_length', 3000)}")
            if value is not None and kind == "number_input":
                try:
                    float(value) if elem.get("is_decimal_allowed") else int(value)
                except ValueError:
                    raise ValueError(f"input {bid!r}: {value!r} is not a number Slack accepts here") from None
            out["value"] = value
            return out
        options = list(elem.get("options") or []) + [o for g in elem.get("option_groups") or []
                                                     for o in g.get("options") or []]

        def option(value: Any) -> dict[str, Any]:
            found = [o for o in options if o.get("value") == value]
            if not found:
                raise ValueError(f"input {bid!r} has no option {value!r}: {[o.get('value') for o in options]}")
            return copy.deepcopy(found[0])

        if kind in ("static_select", "radio_buttons"):
            out["selected_option"] = None if raw is None else option(raw)
        elif kind in ("multi_static_select", "checkboxes"):
            out["selected_options"] = [option(x) for x in (raw or [])]
        elif kind == "datepicker":
            if raw is not None and not _DATE_RE.fullmatch(str(raw)):
                raise ValueError(f"input {bid!r}: dates are YYYY-MM-DD")
            out["selected_date"] = raw
        elif kind == "timepicker":
            out["selected_time"] = raw
        elif kind == "users_select":
            out["selected_user"] = raw
        elif kind == "multi_users_select":
            out["selected_users"] = list(raw or [])
        elif kind == "conversations_select":
            out["selected_conversation"] = raw
        elif kind == "channels_select":
            out["selected_channel"] = raw
        else:
            raise ValueError(f"the fake does not simulate submitting a {kind}")
        return out

    # -- views ------------------------------------------------------------------------------------------

    def _view_dict(self, v: View) -> dict[str, Any]:
        return copy.deepcopy(v.view)

    def _hash(self) -> str:
        return f"{int(time.time())}.{self._rand.getrandbits(32):08x}"

    def _build_view(self, vid: str, definition: dict[str, Any], *, view_hash: str, root: str,
                    previous: str | None) -> dict[str, Any]:
        defaults: dict[str, Any] = {"private_metadata": "", "callback_id": "", "external_id": "",
                                    "clear_on_close": False, "notify_on_close": False, "close": None,
                                    "submit": None, "title": None}
        view = {**defaults, **copy.deepcopy(definition)}
        view.update({"id": vid, "team_id": self.team_id, "blocks": _fill_ids(definition.get("blocks") or [],
                                                                               self._new_id),
                     "state": {"values": {}}, "hash": view_hash, "previous_view_id": previous,
                     "root_view_id": root, "app_id": self.app_id, "app_installed_team_id": self.team_id,
                     "bot_id": self.bot_id})
        return view

    def _claim_external_id(self, definition: dict[str, Any], vid: str) -> None:
        ext = definition.get("external_id")
        if ext:
            owner = self._external_ids.get(ext)
            if owner is not None and owner != vid:
                raise _ApiError("duplicate_external_id")
            self._external_ids[ext] = vid

    def _open_view(self, user_id: str, definition: dict[str, Any], *, push: bool) -> View:
        vid = self._new_id(10, "V")
        self._claim_external_id(definition, vid)
        stack = self._stacks.get(user_id, []) if push else []
        if not push:
            for old in self._stacks.get(user_id, []):
                self._views[old].closed = True
        root = stack[0] if stack else vid
        previous = stack[-1] if stack else None
        view_hash = self._hash()
        v = View(vid, user_id, "modal", self._build_view(vid, definition, view_hash=view_hash, root=root,
                                                         previous=previous), view_hash, root, previous)
        v.history.append(copy.deepcopy(v.view))
        self._views[vid] = v
        self._stacks[user_id] = [*stack, vid]
        return v

    def _set_view(self, v: View, definition: dict[str, Any]) -> None:
        self._claim_external_id(definition, v.id)
        v.hash = self._hash()
        v.view = self._build_view(v.id, definition, view_hash=v.hash, root=v.root_id, previous=v.previous_id)
        v.errors = {}
        v.history.append(copy.deepcopy(v.view))

    def _close(self, user_id: str, view_id: str) -> None:
        stack = self._stacks.get(user_id, [])
        if view_id in stack:
            stack.remove(view_id)
        self._views[view_id].closed = True
        if not stack:
            self._stacks.pop(user_id, None)

    def _exchange(self, trigger_id: Any) -> _Trigger:
        if not isinstance(trigger_id, str) or not trigger_id:
            raise _ApiError("invalid_arguments", messages=["invalid `trigger_id`"])
        trigger = self._triggers.get(trigger_id)
        if trigger is None:
            raise _ApiError("invalid_trigger_id")
        if trigger.used:
            raise _ApiError("exchanged_trigger_id")
        if time.monotonic() - trigger.at > self.trigger_ttl:
            raise _ApiError("expired_trigger_id")
        return trigger

    @staticmethod
    def _check_view(view: Any, kind: str) -> dict[str, Any]:
        problems = check_view(view, kind=kind)
        if problems:
            raise _invalid("invalid_arguments", problems)
        return view

    # -- methods (names as in the Web API: _api_<group>_<method>) ----------------------------------------

    def _api_auth_test(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"url": f"https://{self.team_domain}.slack.com/", "team": self.team_name, "user": self.bot_name,
                "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": self.bot_id,
                "is_enterprise_install": False}

    def _api_apps_connections_open(self, p: dict[str, Any]) -> dict[str, Any]:
        """A one-time websocket URL for Socket Mode (authenticated with the app-level token, see _on_api)."""
        ticket = uuid.uuid4().hex
        self._tickets[ticket] = time.monotonic()
        return {"url": f"{self.base_url.replace('http://', 'ws://', 1)}/socket/{ticket}"}

    def _api_users_info(self, p: dict[str, Any]) -> dict[str, Any]:
        user_id = p.get("user")
        if user_id == self.bot_user_id:
            return {"user": {"id": self.bot_user_id, "team_id": self.team_id, "name": self.bot_name,
                             "deleted": False, "real_name": self.bot_name, "is_bot": True, "is_app_user": False,
                             "profile": {"bot_id": self.bot_id, "api_app_id": self.app_id,
                                         "display_name": "", "real_name": self.bot_name}}}
        if not user_id:
            raise _ApiError("invalid_arguments", messages=["[ERROR] missing required field: user"])
        person = self._users.get(user_id)
        if person is None:
            raise _ApiError("user_not_found")
        return {"user": copy.deepcopy(person)}

    def _api_conversations_open(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("channel"):
            channel = self._conversation(p["channel"], open_dm=False, posting=False)
            return {"no_op": True, "already_open": True, "channel": {"id": channel}}
        users = [u.strip() for u in str(p.get("users") or "").split(",") if u.strip()]
        if not users:
            raise _ApiError("users_list_not_supplied")
        for user in users:
            if user not in self._users:
                raise _ApiError("user_not_found")
        if len(users) > 1:
            raise _ApiError("not_supported", messages=["the fake Slack only opens 1:1 DMs"])
        channel = self.dm(users[0])
        already = channel in self._opened_dms
        self._opened_dms.add(channel)
        out: dict[str, Any] = {"channel": {"id": channel}}
        if already:
            out.update(no_op=True, already_open=True)
        if _flag(p.get("return_im")):
            out["channel"].update(created=int(time.time()), is_im=True, is_org_shared=False, user=users[0],
                                  is_user_deleted=False, priority=0)
        return out

    def _api_chat_postMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._conversation(p.get("channel"))
        text, blocks, attachments = self._content(p)
        thread_ts = p.get("thread_ts")
        if thread_ts is not None and not (isinstance(thread_ts, str) and _TS_RE.fullmatch(thread_ts)):
            raise _ApiError("invalid_thread_ts")
        options = {k: p[k] for k in ("unfurl_links", "unfurl_media", "mrkdwn", "reply_broadcast", "metadata",
                                     "icon_emoji", "icon_url", "username", "parse", "link_names") if k in p}
        msg = self._new_msg(channel, text=text, blocks=blocks or [], user=self.bot_user_id, thread_ts=thread_ts,
                            attachments=attachments, options=options)
        return {"channel": channel, "ts": msg.ts, "message": self._msg_dict(msg)}

    def _api_chat_update(self, p: dict[str, Any]) -> dict[str, Any]:
        msg = self._existing(p)
        if not msg.bot:
            raise _ApiError("cant_update_message")
        text, blocks, attachments = self._content(p, update=True, old=msg)
        self._edit(msg, text, blocks, attachments)
        return {"channel": msg.channel, "ts": msg.ts, "text": msg.text, "message": self._msg_dict(msg)}

    def _api_chat_delete(self, p: dict[str, Any]) -> dict[str, Any]:
        msg = self._existing(p)
        if not msg.bot:
            raise _ApiError("cant_delete_message")
        msg.deleted = True
        return {"channel": msg.channel, "ts": msg.ts}

    def _api_chat_postEphemeral(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._conversation(p.get("channel"))
        user = p.get("user")
        if not isinstance(user, str) or user not in self._users:
            raise _ApiError("user_not_found")
        members = self._channels[channel].get("members") if channel in self._channels else None
        in_channel = (user in members) if members is not None else (
            channel in self._channels or channel == self.dm(user))
        if not in_channel:
            raise _ApiError("user_not_in_channel")
        text, blocks, _ = self._content(p)
        ephemeral = Ephemeral(self._next_ts(), channel, user, text, blocks or [], p.get("thread_ts"))
        self._ephemerals.append(ephemeral)
        return {"message_ts": ephemeral.message_ts}

    def _api_reactions_add(self, p: dict[str, Any]) -> dict[str, Any]:
        msg = self._existing(p, "timestamp")
        name = str(p.get("name") or "").strip(":")
        if not _EMOJI_RE.fullmatch(name):
            raise _ApiError("invalid_name")
        users = msg.reactions.setdefault(name, [])
        if self.bot_user_id in users:
            raise _ApiError("already_reacted")
        users.append(self.bot_user_id)
        return {}

    def _api_views_open(self, p: dict[str, Any]) -> dict[str, Any]:
        trigger = self._exchange(p.get("trigger_id") or p.get("interactivity_pointer"))
        view = self._check_view(p.get("view"), "modal")
        v = self._open_view(trigger.user, view, push=False)
        trigger.used = True
        return {"view": self._view_dict(v)}

    def _api_views_push(self, p: dict[str, Any]) -> dict[str, Any]:
        trigger = self._exchange(p.get("trigger_id") or p.get("interactivity_pointer"))
        view = self._check_view(p.get("view"), "modal")
        stack = self._stacks.get(trigger.user, [])
        if trigger.view_id is None or trigger.view_id not in stack:
            raise _ApiError("invalid_trigger_id", messages=["views.push needs a trigger_id from an interaction "
                                                            "inside the open modal"])
        if len(stack) >= 3:
            raise _ApiError("push_limit_reached")
        v = self._open_view(trigger.user, view, push=True)
        trigger.used = True
        return {"view": self._view_dict(v)}

    def _api_views_update(self, p: dict[str, Any]) -> dict[str, Any]:
        vid = p.get("view_id") or self._external_ids.get(str(p.get("external_id") or ""))
        if not vid and not p.get("external_id"):
            raise _ApiError("invalid_arguments", messages=["[ERROR] view_id or external_id is required"])
        v = self._views.get(str(vid or ""))
        if v is None or v.closed:
            raise _ApiError("not_found")
        if p.get("hash") and p["hash"] != v.hash:
            raise _ApiError("hash_conflict")
        self._set_view(v, self._check_view(p.get("view"), v.type))
        if v.type == "home":
            self._homes[v.user] = v.id
        return {"view": self._view_dict(v)}

    def _api_views_publish(self, p: dict[str, Any]) -> dict[str, Any]:
        user = p.get("user_id")
        if not isinstance(user, str) or user not in self._users:
            raise _ApiError("user_not_found")
        view = self._check_view(p.get("view"), "home")
        vid = self._homes.get(user)
        if vid is None:
            vid = self._new_id(10, "V")
            view_hash = self._hash()
            self._claim_external_id(view, vid)
            v = View(vid, user, "home", self._build_view(vid, view, view_hash=view_hash, root=vid, previous=None),
                     view_hash, vid)
            v.history.append(copy.deepcopy(v.view))
            self._views[vid] = v
            self._homes[user] = vid
        else:
            v = self._views[vid]
            if p.get("hash") and p["hash"] != v.hash:
                raise _ApiError("hash_conflict")
            self._set_view(v, view)
        return {"view": self._view_dict(v)}

    def _api_files_getUploadURLExternal(self, p: dict[str, Any]) -> dict[str, Any]:
        filename = p.get("filename")
        if not isinstance(filename, str) or not filename.strip():
            raise _ApiError("invalid_arguments", messages=["[ERROR] missing required field: filename"])
        length = p.get("length")
        try:
            length = int(length)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise _ApiError("invalid_arguments", messages=["[ERROR] missing required field: length"]) from None
        if length < 0:
            raise _ApiError("invalid_arguments", messages=["[ERROR] length must be a positive integer"])
        file_id = self._new_id(10, "F")
        self._files[file_id] = StoredFile(file_id, filename, length, alt_txt=p.get("alt_txt"),
                                          snippet_type=p.get("snippet_type"), created=int(time.time()))
        return {"upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _api_files_completeUploadExternal(self, p: dict[str, Any]) -> dict[str, Any]:
        files = p.get("files")
        if not isinstance(files, list) or not files or not all(isinstance(f, dict) and f.get("id") for f in files):
            raise _ApiError("invalid_arguments", messages=["[ERROR] files must be a list of {id, title}"])
        stored = []
        for f in files:
            s = self._files.get(str(f["id"]))
            if s is None or s.completed or s.data is None:
                raise _ApiError("file_not_found")
            stored.append((s, f))
        targets = [c.strip() for c in str(p.get("channels") or "").split(",") if c.strip()]
        if p.get("channel_id"):
            targets.insert(0, str(p["channel_id"]))
        channels = [self._conversation(c, open_dm=False) for c in targets]
        thread_ts = p.get("thread_ts")
        for s, f in stored:
            s.title = str(f.get("title") or s.name)
            s.completed, s.channels = True, channels
            s.initial_comment, s.thread_ts = p.get("initial_comment"), thread_ts
        for channel in channels:
            self._new_msg(channel, text=str(p.get("initial_comment") or ""), blocks=[], user=self.bot_user_id,
                          thread_ts=thread_ts, files=[self._file_dict(s) for s, _ in stored])
        return {"files": [{"id": s.id, "title": s.title} for s, _ in stored]}

    def _api_files_info(self, p: dict[str, Any]) -> dict[str, Any]:
        s = self._files.get(str(p.get("file") or ""))
        if s is None or not s.completed:
            raise _ApiError("file_not_found")
        return {"file": self._file_dict(s), "comments": [], "response_metadata": {"next_cursor": ""}}

    def _file_dict(self, s: StoredFile) -> dict[str, Any]:
        ext = s.name.rsplit(".", 1)[-1].lower() if "." in s.name else "binary"
        url = f"{self.base_url}/files/{s.id}/{s.name}"
        return {"id": s.id, "created": s.created, "timestamp": s.created, "name": s.name, "title": s.title,
                "mimetype": s.mimetype, "filetype": ext, "pretty_type": ext.upper(), "user": self.bot_user_id,
                "user_team": self.team_id, "editable": False, "size": len(s.data or b""), "mode": "hosted",
                "is_external": False, "external_type": "", "is_public": False, "url_private": url,
                "url_private_download": url, "permalink": f"https://{self.team_domain}.slack.com/files/{s.id}",
                "channels": list(s.channels), "alt_txt": s.alt_txt}


_API_METHODS = frozenset(_api_name(name) for name in dir(FakeSlack) if name.startswith("_api_"))
_APP_TOKEN_METHODS = frozenset({"apps.connections.open"})  # authenticated with the app-level token (xapp-)
