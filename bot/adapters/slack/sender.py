"""Sends one outbox row to Slack with slack_sdk's async client (which retries rate-limit answers and
connection errors itself), and says which failures are worth another try."""

from __future__ import annotations

import base64
import json

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.blocks import SlackMessage, escape, messages
from bot.adapters.slack.parse import message_ref, parse_message_ref
from bot.delivery import GiveUp, Retry
from bot.files.outgoing import FileReader
from storage.chat_repo import OutboxMessage

PLATFORM = "slack"

# An update that finds nothing to update (deleted, too old) is posted as a new message instead.
_UPDATE_GONE = {"message_not_found", "cant_update_message", "edit_window_closed", "channel_not_found"}
# Answers no retry can change: a bug to read in the log, or an account that is gone.
_PERMANENT = {
    "channel_not_found", "not_in_channel", "is_archived", "account_inactive", "user_not_found", "user_disabled",
    "invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text", "too_many_attachments",
    "invalid_arguments", "restricted_action", "cannot_dm_bot", "method_deprecated",
}


class SlackSender:
    platform = PLATFORM

    def __init__(self, client: AsyncWebClient, files: FileReader | None = None) -> None:
        self.client = client
        self.files = files  # stored files are read here and uploaded to the DM (files_upload_v2)

    async def send(self, message: OutboxMessage) -> str | None:
        payload = json.loads(message.payload)
        if self.files is not None:
            payload = await self.files.inline(payload)
        marked: str | None = None
        for piece in messages(payload):
            marked = await self._one(message.chat_id, piece)
        file = payload.get("file")
        if file:
            await self._file(message.chat_id, file)
        return marked

    async def _one(self, chat_id: str, piece: SlackMessage) -> str:
        target = parse_message_ref(piece.edit) if piece.edit else None
        if target is not None:
            channel, ts = target
            try:
                answer = await self.client.chat_update(channel=channel, ts=ts, text=piece.text, blocks=piece.blocks)
                return message_ref(str(answer["channel"]), str(answer["ts"]))
            except SlackApiError as error:
                if error.response.get("error") not in _UPDATE_GONE:
                    raise
        answer = await self.client.chat_postMessage(
            channel=chat_id, text=piece.text, blocks=piece.blocks, unfurl_links=False, unfurl_media=False,
        )
        return message_ref(str(answer["channel"]), str(answer["ts"]))

    async def _file(self, chat_id: str, file: dict[str, str]) -> None:
        """Bytes are uploaded: our own files (an .ics) and stored files a person sent. An older platform
        reference (from before files were stored) cannot be fetched here, so its name is said instead."""
        name = file.get("name") or "file"
        if "data" not in file:
            await self.client.chat_postMessage(channel=chat_id, text=escape(f"📎 {name}"))
            return
        channel = chat_id
        if chat_id.startswith("U"):  # uploads need the DM's channel id, not the user's
            opened = await self.client.conversations_open(users=chat_id)
            channel = str(opened["channel"]["id"])
        await self.client.files_upload_v2(channel=channel, content=base64.b64decode(file["data"]), filename=name,
                                          title=name)

    def classify(self, error: Exception) -> Retry | GiveUp:
        if isinstance(error, SlackApiError):
            response = error.response
            if response.status_code == 429:
                after = response.headers.get("Retry-After") or response.headers.get("retry-after")
                return Retry(float(after) if after else None)
            code = str(response.get("error") or "")
            if code in _PERMANENT:
                return GiveUp(code)
            return Retry()  # invalid_auth, internal_error, fatal_error, service unavailable: try again later
        if isinstance(error, (ClientError, TimeoutError, OSError)):
            return Retry()
        return GiveUp("bug")
