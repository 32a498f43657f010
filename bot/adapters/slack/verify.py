"""Slack's HTTP requests checked before anything reads them: the signature over the raw bytes first
(unsigned, forged, or older than five minutes: 401, and the body is never parsed), then the shape of
the signed body (400 when it is not what Slack sends), so slack-bolt and our listeners only ever see a
body they can read. Pure: tested with bytes and a clock."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from bot.bodies import MalformedBody, json_object

MAX_AGE_SECONDS = 5 * 60  # Slack's own rule against replays
MAX_FORM_FIELDS = 100  # a slash command has about 15
TIMESTAMP = "X-Slack-Request-Timestamp"
SIGNATURE = "X-Slack-Signature"
# The requests we act on; anything else is answered without reaching Bolt.
EVENT_TYPES = frozenset({"message", "app_mention", "app_home_opened"})
PAYLOAD_TYPES = frozenset({"block_actions", "view_submission"})


class Refused(Exception):
    """The answer to a request that is not let through: its HTTP status and, for the log, why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def verify_signature(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> None:
    """Refused(401) unless Slack signed exactly these bytes within the last five minutes."""
    timestamp = headers.get(TIMESTAMP, "")
    signature = headers.get(SIGNATURE, "")
    if not timestamp or not signature:
        raise Refused(401, "unsigned")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise Refused(401, "the timestamp is not a number")
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        raise Refused(401, "the timestamp is more than five minutes away")
    expected = "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise Refused(401, "bad signature")


def read_body(body: bytes, content_type: str | None) -> tuple[str, dict[str, Any]]:
    """(the body as text, what it says) for a signed body, decided the way slack-bolt decides it (JSON
    when declared or when it starts with "{", else a form, whose `payload` field is JSON). Refused(400)
    when it is not what Slack sends: not UTF-8, bad JSON or form encoding, too deep, missing or
    mistyped fields."""
    try:
        text = body.decode("utf-8")
        if content_type == "application/json" or text.startswith("{"):
            data = json_object(text)
            _check_envelope(data)
            return text, data
        form = _form(text)
        if "payload" in form:
            data = json_object(form["payload"])
            _check_payload(data)
            return text, data
        if "ssl_check" in form:
            return text, form
        _check_command(form)
        return text, form
    except UnicodeDecodeError:
        raise Refused(400, "the body is not UTF-8") from None
    except MalformedBody as error:
        raise Refused(400, str(error)) from None


def _form(text: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, max_num_fields=MAX_FORM_FIELDS,
                          errors="strict")
    except ValueError as error:  # includes UnicodeDecodeError for bad %-escapes
        raise MalformedBody(f"bad form encoding ({' '.join(str(error).split())[:80]})") from None
    return dict(pairs)


# Every object in a Slack body, at any depth, uses these keys with these types (ids and text are
# strings; users, teams and channels are an id or an object with one). Checked throughout, because
# slack-bolt reads them at several depths.
_TEXT = (str, type(None))
_REF = (str, dict, type(None))
_KEY_TYPES: dict[str, tuple[type, ...]] = {
    **{key: _TEXT for key in (
        "type", "subtype", "id", "user_id", "team_id", "channel_id", "enterprise_id", "event_id", "trigger_id",
        "response_url", "callback_id", "private_metadata", "action_ts", "ts", "thread_ts", "channel_type",
        "bot_id", "tab", "command", "challenge", "message_ts", "action_id", "block_id", "value", "name",
        "user_team", "context_team_id", "context_enterprise_id", "app_installed_team_id", "function_execution_id",
        "bot_access_token",
    )},
    **{key: _REF for key in ("user", "team", "channel", "enterprise")},
    **{key: (dict,) for key in ("event", "container", "state", "values", "user_profile", "function_data",
                                "assistant_thread", "item", "previous_message")},
    "view": (dict, type(None)),
    "message": (dict,),
    **{key: (list,) for key in ("authorizations", "actions", "files", "response_urls")},
}
_LISTS_OF_OBJECTS = ("authorizations", "actions", "files", "response_urls")


def _check_types(data: dict[str, Any]) -> None:
    stack: list[object] = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        for key, value in item.items():
            allowed = _KEY_TYPES.get(key)
            if allowed is not None and not isinstance(value, allowed):
                raise MalformedBody(f'"{key}" is {type(value).__name__}')
            if key in _LISTS_OF_OBJECTS and not all(isinstance(v, dict) for v in value):
                raise MalformedBody(f'"{key}" holds something other than objects')
            if isinstance(value, (dict, list)):
                stack.append(value)


def _require(data: dict[str, Any], *keys: str) -> None:
    missing = [key for key in keys if not data.get(key)]
    if missing:
        raise MalformedBody(f"missing {', '.join(missing)}")


def _check_envelope(data: dict[str, Any]) -> None:
    """An Events API request: url_verification, event_callback or app_rate_limited."""
    _check_types(data)
    _require(data, "type")
    kind = data["type"]
    if kind == "url_verification":
        _require(data, "challenge")
    elif kind == "event_callback":
        _require(data, "event")
        event = data["event"]
        _require(event, "type")
        if not isinstance(event.get("text", ""), (str, type(None))):
            raise MalformedBody('"event.text" is not text')
    elif kind != "app_rate_limited":
        raise MalformedBody(f"unexpected request type {kind[:40]!r}")


def _check_payload(data: dict[str, Any]) -> None:
    """An interactivity payload: a button pressed, or the details modal submitted."""
    _check_types(data)
    _require(data, "type", "user")
    if data["type"] not in PAYLOAD_TYPES:
        raise MalformedBody(f"unexpected payload type {data['type'][:40]!r}")
    if not isinstance(data["user"], dict) or not isinstance(data["user"].get("id"), str):
        raise MalformedBody("the user has no id")
    if data["type"] == "block_actions":
        _require(data, "actions")
        return
    _require(data, "view")
    view = data["view"]
    _require(view, "id", "callback_id")
    values = (view.get("state") or {}).get("values") or {}
    for block in values.values():
        if not isinstance(block, dict) or not all(isinstance(element, dict) for element in block.values()):
            raise MalformedBody("the view's state is not made of objects")


def _check_command(form: dict[str, str]) -> None:
    """A slash command."""
    _require(form, "command", "user_id")
    if not form["command"].startswith("/"):
        raise MalformedBody("a command that does not start with /")
