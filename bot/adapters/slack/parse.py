"""Bolt request bodies (Events API envelopes, slash commands, interactivity payloads) as our Incoming, or
None when they are not for us (bot messages, edits, channel chatter). Pure: no network, so it is tested
with plain dicts shaped like Slack's."""

from __future__ import annotations

import re
from typing import Any

from bot.events import Incoming, Press, Sender, parse_text

PLATFORM = "slack"
REF_PREFIX = "slack:"

_LEADING_MENTION = re.compile(r"^\s*<@[UW][A-Z0-9]+(?:\|[^>]*)?>[\s,:]*")


def message_ref(channel: str, ts: str) -> str:
    """Slack names a message by channel and ts together: the id a press carries and an edit targets."""
    return f"{channel}:{ts}"


def parse_message_ref(ref: str) -> tuple[str, str] | None:
    """(channel, ts) for a ref made by message_ref, else None."""
    channel, sep, ts = ref.partition(":")
    return (channel, ts) if sep and channel and ts else None


def file_ref(file_id: str, name: str) -> str:
    """A Slack file id is only usable with this workspace's token, so the ref says so and keeps the name."""
    return f"{REF_PREFIX}{file_id}#{name}"


def parse_file_ref(ref: str) -> tuple[str, str] | None:
    """(file_id, name) for a ref made by file_ref (the name may be missing: "file"), else None."""
    if not ref.startswith(REF_PREFIX):
        return None
    file_id, _, name = ref[len(REF_PREFIX):].partition("#")
    return (file_id, name or "file") if file_id else None


def unescape(text: str) -> str:
    """Slack sends the text of messages and slash commands with &, < and > escaped (so "<@U1>" can only be
    a real mention); a person who typed "R&D" means "R&D". The & goes last, so "&amp;lt;" stays "&lt;".
    Modal values arrive as typed and are not unescaped."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _is_dm(channel: str, channel_type: str | None = None) -> bool:
    return channel_type == "im" or channel.startswith("D")


def _sender(user_id: str, channel: str, name: str = "", channel_type: str | None = None) -> Sender:
    """In a DM the chat is the user: chat.postMessage to a user id lands in their DM, where notices go too."""
    dm = _is_dm(channel, channel_type) or not channel
    return Sender(
        platform=PLATFORM,
        user_id=user_id,
        chat_id=user_id if dm else channel,
        display_name=name,
        language=None,
        timezone=None,
        is_group=not dm,
    )


def from_event(body: dict[str, Any]) -> Incoming | None:
    """A DM message (text or a file share), or an app_mention in a channel; everything else is None."""
    event: dict[str, Any] = body.get("event") or {}
    user = event.get("user")
    channel = str(event.get("channel") or "")
    if not user or not channel or event.get("bot_id"):
        return None  # our own posts and other bots' come back as events too
    kind = event.get("type")
    event_id = str(body.get("event_id") or f"ev:{channel}:{event.get('ts', '')}")
    subtype = event.get("subtype")
    if kind == "message" and _is_dm(channel, event.get("channel_type")):
        sender = _sender(user, channel, _profile_name(event), event.get("channel_type"))
        if subtype == "file_share":
            files = [f for f in event.get("files") or [] if f.get("id")]
            if not files:
                return None
            first = files[0]
            return Incoming(sender, event_id, file_ref=file_ref(first["id"], first.get("name") or "file"))
        if subtype is not None or not (event.get("text") or "").strip():
            return None  # message_changed, message_deleted, thread_broadcast, …
        return parse_text(sender, event_id, unescape(event["text"]))
    if kind == "app_mention" and not _is_dm(channel, event.get("channel_type")) and subtype is None:
        text = _strip_mention(str(event.get("text") or ""), _bot_user_ids(body))
        return parse_text(_sender(user, channel, _profile_name(event)), event_id, unescape(text))
    return None


def _profile_name(event: dict[str, Any]) -> str:
    """Some message events carry the author's profile; most do not (the adapter may look the user up)."""
    profile = event.get("user_profile") or {}
    return str(profile.get("display_name") or profile.get("real_name") or profile.get("name") or "")


def _bot_user_ids(body: dict[str, Any]) -> set[str]:
    return {str(a["user_id"]) for a in body.get("authorizations") or [] if a.get("is_bot") and a.get("user_id")}


def _strip_mention(text: str, bot_ids: set[str]) -> str:
    """"<@U0BOT> book pricing" is "book pricing"; a mention of this bot later in the text goes too."""
    text = _LEADING_MENTION.sub("", text, count=1)
    for bot_id in bot_ids:
        text = re.sub(rf"<@{re.escape(bot_id)}(?:\|[^>]*)?>[,:]?", " ", text)
    return " ".join(text.split())


def from_command(body: dict[str, Any]) -> Incoming | None:
    """"/book pricing" as command "book", args "pricing"; the trigger_id is unique per invocation. None
    without a user (Slack always sends one)."""
    channel = str(body.get("channel_id") or "")
    user_id = str(body.get("user_id") or "")
    if not user_id:
        return None
    sender = _sender(user_id, channel, str(body.get("user_name") or ""))
    name = str(body.get("command") or "").strip().lstrip("/").lower()
    event_id = f"cmd:{body.get('trigger_id') or body.get('response_url') or ''}"
    return Incoming(sender, event_id, command=name, args=unescape(str(body.get("text") or "")).strip())


def from_action(body: dict[str, Any]) -> Incoming | None:
    """The first action of a block_actions payload as a Press on the message it was on. A button on an
    ephemeral message or a view (App Home) has no message we can update, so the press carries none."""
    if body.get("type") != "block_actions":
        return None  # view_submission and the rest are handled elsewhere
    action_list: list[dict[str, Any]] = body.get("actions") or []
    if not action_list or not action_list[0].get("value"):
        return None
    action = action_list[0]
    user: dict[str, Any] = body.get("user") or {}
    user_id = str(user.get("id") or "")
    if not user_id:
        return None
    container: dict[str, Any] = body.get("container") or {}
    channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    updatable = container.get("type") == "message" and not container.get("is_ephemeral") and bool(channel and ts)
    message_id = message_ref(channel, str(ts)) if updatable else None
    name = str(user.get("name") or user.get("username") or "")
    sender = _sender(user_id, channel, name)
    event_id = f"act:{user_id}:{action.get('action_ts') or body.get('trigger_id') or ''}"
    return Incoming(sender, event_id, press=Press(str(action["value"]), message_id))
