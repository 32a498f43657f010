"""The Slack side of a process: slack-bolt's AsyncApp (request signatures, acknowledgements, Socket
Mode), our listeners over the shared dispatcher, declared forms as modals, App Home, and the outbox pump.

Durable intake: a command, a button press or a message is written to the database (inbound_events) and
only then acknowledged, the insert being the only work before the ack, over HTTP and Socket Mode alike
(over HTTP right after our own signature and body checks, without Bolt's dispatch; over Socket Mode in a
Bolt middleware). Workers (this process's embedded one, or
`headstrt worker`) then run the stored body through the same code as before. A request that could not be
stored is not acknowledged, so Slack says so or sends it again; nothing acknowledged is lost. A modal's
submission is first checked against its form's own rules (no database), so a refusal goes in the ack with
the modal still open and what was typed in it; then it is stored and acknowledged like the rest. App Home
is drawn at once (nothing to lose)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.blocks import escape, messages
from bot.adapters.slack.parse import PLATFORM, from_action, from_command, from_event, parse_file_ref
from bot.adapters.slack.sender import SlackSender
from bot.adapters.slack.verify import EVENT_TYPES, Refused, read_body, verify_signature
from bot.delivery import OutboxPump
from bot.dispatcher import Dispatcher, find_person
from bot.files.intake import Fetch, FileIntake, TooBig
from bot.files.outgoing import FileReader
from bot.events import Incoming, Sender
from bot.forms import Form, build, check
from bot.home import home_replies
from bot.i18n import Translator, normalise_locale
from bot.intake import Processing
from bot.intake_batch import StoreBatches
from bot.process import within
from bot.serial import SerialDispatch
from bot.settings import FileSettings, file_settings
from storage.errors import one_line, unavailable
from storage.intake_repo import NewEvent, StoredEvent
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
FORM_VIEW = re.compile(r"^form:\w+$")  # a declared form's modal: callback_id "form:<name>"
MAX_HOME_BLOCKS = 100


@dataclass(frozen=True, slots=True)
class SlackSettings:
    bot_token: str
    signing_secret: str = ""
    app_token: str = ""
    api_url: str = DEFAULT_API_URL

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> SlackSettings | None:
        """None when SLACK_BOT_TOKEN is not set: this deployment has no Slack app."""
        token = env.get("SLACK_BOT_TOKEN", "").strip()
        if not token:
            return None
        url = (env.get("SLACK_API_URL") or DEFAULT_API_URL).strip()
        return cls(token, env.get("SLACK_SIGNING_SECRET", "").strip(), env.get("SLACK_APP_TOKEN", "").strip(),
                   url if url.endswith("/") else url + "/")


class SlackRuntime:
    platform = PLATFORM

    def __init__(
        self, settings: SlackSettings, dispatcher: Dispatcher, uow_factory: Callable[[], SqlUnitOfWork], *,
        poll_seconds: float = 1.0, socket_mode: bool = False, files: FileSettings | None = None,
        processing: Processing | None = None,
    ) -> None:
        self.settings = settings
        self.dispatcher = dispatcher
        self.uow_factory = uow_factory
        self.client = AsyncWebClient(token=settings.bot_token, base_url=settings.api_url)
        self.client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
        if not socket_mode and not settings.signing_secret:
            raise RuntimeError("SLACK_SIGNING_SECRET is required to accept Slack's HTTP requests")
        self.app = AsyncApp(
            client=self.client, signing_secret=settings.signing_secret or None,
            request_verification_enabled=not socket_mode, process_before_response=False,
        )
        files = files or file_settings()
        self.intake = FileIntake(uow_factory, dispatcher.clock, files)  # files are fetched and stored as they come
        self.pump = OutboxPump(uow_factory, SlackSender(self.client, FileReader.from_settings(uow_factory, files)),
                               poll_seconds=poll_seconds)
        self.pump.serve(dispatcher)
        self.processing = processing or Processing(uow_factory, kind=PLATFORM)
        self.processing.heartbeat.add(self.pump.token)
        self.processing.worker.serve(self)
        self.dispatch = SerialDispatch(dispatcher)
        self._known: set[str] = set()  # Slack users already introduced (a person exists)
        self._batches = StoreBatches.for_platform(uow_factory, PLATFORM)  # every insert before an ack
        self._opening: dict[str, asyncio.Future[str | None]] = {}  # press event id -> its modal, opening
        self.busy = 0  # requests acknowledged whose work is still running (stop() waits for them)
        self._pump_task: asyncio.Task[None] | None = None
        self._listen()

    # ---- lifecycle

    async def start(self, *, receive: bool = True) -> None:
        """receive=False: a `headstrt worker`, which only runs stored requests (no store connections)."""
        # One connection pool for every API call (slack_sdk otherwise opens a session, and a TLS
        # handshake, per call).
        self.client.session = ClientSession()
        if receive:
            await self._batches.warm()
        await self.processing.start()
        self._pump_task = asyncio.get_running_loop().create_task(self.pump.run())

    async def stop(self, drain_seconds: float = 5.0) -> None:
        """Let acknowledged work finish and the pump deliver what it queued; every step bounded (about
        drain_seconds + 4 s in all): what is left stays in the outbox for the next process."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + drain_seconds

        def left() -> float:
            return max(deadline - loop.time(), 0.1)

        while self.busy and loop.time() < deadline:  # let acknowledged work finish and queue its messages
            await asyncio.sleep(0.05)
        await within(self.processing.stop(left()), left() + 1.0)
        if self._pump_task is not None:
            self._pump_task.cancel()
            await within(asyncio.gather(self._pump_task, return_exceptions=True), 1.0)
        if not await within(self.pump.drain(), left()):
            log.warning("stopping with Slack messages still in the outbox; the next process sends them")
        await within(self.processing.goodbye(), 1.5)
        if self.client.session is not None:
            await within(self.client.session.close(), 1.0)
            self.client.session = None
        self._batches.shutdown()

    async def http(self, request: web.Request) -> web.Response:
        """POST /slack/events. The signature is checked on the raw bytes before anything reads them (401),
        then the body's shape (400, one log line). A command, a press or a message is then stored and
        acknowledged here, as Bolt's middleware would (_store_then_ack, which Socket Mode goes through):
        Bolt's dispatch before it was a fifth of the work in a burst. Anything else (a modal's submission,
        App Home, Slack's checks) reaches Bolt, which checks the signature again and acknowledges."""
        body = await request.read()
        try:
            verify_signature(self.settings.signing_secret, request.headers, body, time.time())
        except Refused as refused:
            log.info("slack: refused a request (%d, %s)", refused.status, refused.reason)
            return web.Response(status=refused.status)
        header = request.headers.get("Content-Type")
        try:
            text, data = read_body(body, header.split(";")[0] if header else None)
            event_type = (data.get("event") or {}).get("type") if data.get("type") == "event_callback" else None
            if event_type is not None and event_type not in EVENT_TYPES:
                log.info("slack: ignored a %s event (not subscribed to by this app)", event_type[:40])
                return web.Response(status=200)
            stored = _to_store(data)
            bolt_request = None if stored is not None else _bolt_request(text, data, request)
        except Refused as refused:
            log.warning("slack: refused a signed request (%d, %s)", refused.status, refused.reason)
            return web.Response(status=refused.status)
        except Exception as error:  # noqa: BLE001 - Bolt could not read what passed our checks: still the body's fault
            log.warning("slack: refused a signed request (400, %s: %s)", type(error).__name__, str(error)[:120])
            return web.Response(status=400)
        if stored is not None:  # ours to store: Bolt's dispatch would only lead to the same middleware
            return await to_aiohttp_response(await self._store_then_ack_stored(data, stored))
        assert bolt_request is not None
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    # ---- listeners

    def _listen(self) -> None:
        app = self.app
        app.middleware(self._store_then_ack)  # after Bolt's own: signatures, url_verification, our own posts
        app.event("app_home_opened")(self._on_home)
        app.view(FORM_VIEW)(self._on_form)

    async def _store_then_ack(self, body: dict[str, Any], next: Callable[[], Any]) -> BoltResponse | None:  # noqa: A002 - Bolt passes it by this name
        """A command, a press or a message: stored, then acknowledged (the empty 200 is the ack). Anything
        else goes on to Bolt's listeners."""
        stored = _to_store(body)
        if stored is None:
            await next()
            return None
        return await self._store_then_ack_stored(body, stored)

    async def _store_then_ack_stored(self, body: dict[str, Any], stored: tuple[str, Incoming | None]) -> BoltResponse:
        """(_to_store's answer for the body) The empty 200 once stored; a 500 if it could not be."""
        kind, incoming = stored
        if incoming is not None:
            event = NewEvent(PLATFORM, incoming.event_id, f"{PLATFORM}:{incoming.sender.user_id}",
                             json.dumps({"kind": kind, "body": body}, separators=(",", ":")))
            loop = asyncio.get_running_loop()
            try:
                await self._batches.store(event)  # with whatever else arrived meanwhile: one commit
            except Exception as error:  # noqa: BLE001 - not acknowledged: Slack retries an event, a person is told
                if not unavailable(error):
                    log.exception("slack %s %s not stored", kind, incoming.event_id)
                else:
                    log.error("slack %s %s not stored, the database failed: %s", kind, incoming.event_id,
                              one_line(error))
                return BoltResponse(status=500, body="")
            self.processing.wake()
            form = _form_of(body) if kind == "action" else ""
            if form and body.get("trigger_id") and incoming.press is not None:
                # Its trigger lasts 3 s: the modal opens here and now, not when a worker reaches the press.
                self._opening[incoming.event_id] = loop.create_task(
                    self._open_if_meant(incoming, str(body["trigger_id"]), form))
                loop.call_later(60, self._opening.pop, incoming.event_id, None)  # a worker elsewhere took it
        return BoltResponse(status=200, body="")

    async def _open_if_meant(self, incoming: Incoming, trigger_id: str, form: str) -> str | None:
        try:
            if not await asyncio.to_thread(self.dispatch.meant_for, incoming):
                return None
            return await self._open_form(trigger_id, await self._introduce(incoming.sender), form)
        except Exception:  # noqa: BLE001 - the chat asks the questions instead
            log.exception("slack: the details modal was not opened")
            return None

    # ---- working: a stored request through the flows (IntakeHandler)

    async def process(self, event: StoredEvent) -> None:
        """Raises when the request should be tried again (the database or Slack away)."""
        stored = json.loads(event.payload)
        kind, body = stored.get("kind"), stored.get("body") or {}
        if kind == "command":
            incoming = from_command(body)
            if incoming is not None:
                await self._run(incoming)
        elif kind == "event":
            incoming = from_event(body)
            if incoming is not None:
                await self._run(incoming)
        elif kind == "action":
            await self._on_action(body)
        elif kind == "form":
            await self._take_form(event, body)

    def sender_of(self, event: StoredEvent) -> Sender | None:
        try:
            stored = json.loads(event.payload)
            if stored.get("kind") == "form":
                user = str(stored["body"]["user"]["id"])
                return Sender(PLATFORM, user, str(_metadata(stored["body"]["view"].get("private_metadata"))
                                                  .get("chat") or user))
            found = _to_store(stored.get("body") or {})
        except Exception:  # noqa: BLE001 - a payload we cannot read has nobody to tell
            return None
        return found[1].sender if found and found[1] else None

    async def _on_action(self, body: dict[str, Any]) -> None:
        incoming = from_action(body)
        if incoming is None:
            return
        if not await asyncio.to_thread(self.dispatch.meant_for, incoming):
            sender = incoming.sender
            t = Translator(normalise_locale(sender.language))
            await self.client.chat_postEphemeral(channel=sender.chat_id, user=sender.user_id,
                                                 text=escape(t("This button is for someone else.")))
            return
        # A button whose press may lead to a form says so in its action_id ("b3.details", blocks.actions):
        # the process that took the press opened the modal at once, while the trigger was fresh (3 s); it
        # is told here if the step went otherwise.
        await self._run(incoming, self._opening.pop(incoming.event_id, None), form=_form_of(body))

    async def _on_home(self, event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        user = str(event.get("user") or "")
        self.busy += 1
        try:
            await self._introduce(Sender(PLATFORM, user, user))
            view = await asyncio.to_thread(self._home_view, Sender(PLATFORM, user, user))
            await self.client.views_publish(user_id=user, view=view or self._welcome_home())
        finally:
            self.busy -= 1

    async def _on_form(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        """A modal's submission: checked against its form's own rules here (no database), a refusal in the
        ack next to its field and the modal left open with what was typed; otherwise stored like any request
        and acknowledged, which closes the modal. A worker takes it to the flow (_take_form)."""
        name, fields = _form_fields(view)
        meta = _metadata(view.get("private_metadata"))
        t = Translator(normalise_locale(str(meta.get("locale") or "")))
        errors = check(name, t, dict(fields))
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        user = str((body.get("user") or {}).get("id") or "")
        event = NewEvent(PLATFORM, _submission_id(view), f"{PLATFORM}:{user}",
                         json.dumps({"kind": "form", "body": {"user": {"id": user}, "view": _form_part(view)}},
                                    separators=(",", ":")))
        try:
            await self._batches.store(event)
        except Exception as error:  # noqa: BLE001 - the modal stays open with what was typed: submit again
            log.error("slack form %s not stored: %s", event.event_key, one_line(error))
            if fields:
                await ack(response_action="errors", errors={fields[0][0]: t(
                    "Sorry, I could not save that just now. Please submit it again in a moment.")})
            return  # a form with no field of ours to put the error on: no ack, and Slack says it failed
        self.processing.wake()
        await ack()

    async def _take_form(self, event: StoredEvent, body: dict[str, Any]) -> None:
        """A stored submission through the flow. What the flow refuses now (the conversation moved on while
        the form was open) is said in the chat: the modal closed at the ack."""
        view = body.get("view") or {}
        _, fields = _form_fields(view)
        user = str((body.get("user") or {}).get("id") or "")
        chat = str(_metadata(view.get("private_metadata")).get("chat") or user)
        self.busy += 1
        try:
            sender = await self._introduce(Sender(PLATFORM, user, chat))
            handled = await self.dispatch(Incoming(sender, event.event_key, form=fields))
            if handled.form_errors:
                await self._errors_in_chat(sender, dict(handled.form_errors))
        finally:
            self.busy -= 1

    async def _errors_in_chat(self, sender: Sender, errors: dict[str, str]) -> None:
        """A form refused after it was closed: nothing was saved, so say why where the person is."""
        locale, tz = await asyncio.to_thread(self._person_locale, sender)
        t = Translator(locale, tz)
        lines = [t("I could not take those details:")] + [f"• {message}" for message in errors.values()]
        await self.client.chat_postMessage(channel=sender.chat_id, text=escape("\n".join(lines)))

    # ---- the work after the ack

    async def _run(self, incoming: Incoming, opening: asyncio.Future[str | None] | None = None, *,
                   form: str = "") -> None:
        """opening: the modal this press opened (its view id, once open), to close if the step went otherwise."""
        self.busy += 1
        try:
            incoming = _with_sender(incoming, await self._introduce(incoming.sender))
            found = parse_file_ref(incoming.file_ref or "") if incoming.kind == "file" else None
            if found is not None:
                incoming = await self.intake.take(incoming, found[1], self._fetcher(found[0]))
            handled = await self.dispatch(incoming)
            if opening is not None:
                view_id = await opening
                if view_id and handled.form != form:
                    await self._close_form(view_id, incoming.sender, form)
        finally:
            self.busy -= 1

    def _fetcher(self, file_id: str) -> Fetch:
        """files.info (its size is checked first), then url_private_download with the bot token, read no
        further than the limit."""
        async def fetch(limit: int) -> bytes:
            info = (await self.client.files_info(file=file_id))["file"]
            if int(info.get("size") or 0) > limit:
                raise TooBig
            url = str(info.get("url_private_download") or info.get("url_private") or "")
            if not url.startswith(("https://", "http://")):
                raise ValueError(f"file {file_id} has no download address")
            headers = {"Authorization": f"Bearer {self.settings.bot_token}"}
            session = self.client.session or ClientSession()
            try:
                async with session.get(url, headers=headers, allow_redirects=False,
                                       timeout=ClientTimeout(total=120)) as response:
                    if response.status != 200:  # Slack answers a missing token with a redirect to sign in
                        raise ValueError(f"file {file_id}: download answered {response.status}")
                    data = bytearray()
                    async for chunk in response.content.iter_chunked(64 * 1024):
                        data += chunk
                        if len(data) > limit:
                            raise TooBig
                    return bytes(data)
            finally:
                if session is not self.client.session:
                    await session.close()

        return fetch

    async def _introduce(self, sender: Sender) -> Sender:
        """Someone new: their name, timezone and language from users.info, so times are right from the start."""
        if sender.user_id in self._known:
            return sender
        known = await asyncio.to_thread(self._exists, sender)
        if known:
            self._known.add(sender.user_id)
            return sender
        try:
            user = (await self.client.users_info(user=sender.user_id, include_locale=True))["user"]
        except SlackApiError as error:
            log.warning("users.info for %s failed: %s", sender.user_id, error.response.get("error"))
            return sender
        profile = user.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name")
        return Sender(PLATFORM, sender.user_id, sender.chat_id, str(name or sender.display_name),
                      user.get("locale") or sender.language, user.get("tz") or sender.timezone, sender.is_group)

    def _exists(self, sender: Sender) -> bool:
        with self.uow_factory() as uow:
            return find_person(uow, sender) is not None

    async def _open_form(self, trigger_id: str, sender: Sender, name: str) -> str | None:
        """A declared form as one modal; answering its questions in the chat still works if it fails."""
        locale, tz = await asyncio.to_thread(self._person_locale, sender)
        t = Translator(locale, tz)
        form = build(name, t)
        if form is None:
            return None
        try:
            opened = await self.client.views_open(trigger_id=trigger_id, view=form_view(form, sender.chat_id, locale))
        except SlackApiError as error:
            log.info("details modal not opened (%s); the chat asks instead", error.response.get("error"))
            return None
        return str(opened["view"]["id"])

    async def _close_form(self, view_id: str, sender: Sender, name: str) -> None:
        """The press did not lead to the questions (the time was just taken, or more times are to pick)."""
        locale, tz = await asyncio.to_thread(self._person_locale, sender)
        t = Translator(locale, tz)
        text = escape(t("Please carry on in the chat; the details come after the times."))
        form = build(name, t)
        title = form.title if form else ""
        view = {"type": "modal", "title": {"type": "plain_text", "text": title[:24] or "Headstrt"},
                "close": {"type": "plain_text", "text": t("Close")[:24]},
                "blocks": [{"type": "section", "block_id": "gone", "text": {"type": "mrkdwn", "text": text}}]}
        try:
            await self.client.views_update(view_id=view_id, view=view)
        except SlackApiError as error:
            log.info("details modal not updated: %s", error.response.get("error"))

    def _person_locale(self, sender: Sender) -> tuple[str, str]:
        with self.uow_factory() as uow:
            person = find_person(uow, sender)
            return (person.locale, person.timezone) if person else ("en", "UTC")

    def _home_view(self, sender: Sender) -> dict[str, Any] | None:
        with self.uow_factory() as uow:
            person = find_person(uow, sender)
            if person is None:
                return None
            replies = home_replies(uow, self.dispatcher.clock, person, sender)
        blocks: list[dict[str, Any]] = []
        for n, reply in enumerate(replies):
            for message in messages(json.loads(reply.to_json())):
                for block in message.blocks:
                    blocks.append(_renamed(block, n))
            blocks.append({"type": "divider", "block_id": f"d{n}"})
        if len(blocks) > MAX_HOME_BLOCKS:
            blocks = blocks[:MAX_HOME_BLOCKS]
        return {"type": "home", "blocks": blocks}


    def _welcome_home(self) -> dict[str, Any]:
        """Someone who has never written to the app: how to start."""
        t = Translator()
        text = escape(t("Hello! Send me a message, or use /book, to find an expert and book a mentorship session."))
        return {"type": "home", "blocks": [{"type": "section", "block_id": "w",
                                            "text": {"type": "mrkdwn", "text": text}}]}


def form_view(form: Form, chat_id: str, locale: str) -> dict[str, Any]:
    """A declared form (bot/forms.py) as a modal: each input's block_id and action_id are its field's name;
    the chat it belongs to and the language it is in ride along (a refusal in the ack is in that language)."""
    return {
        "type": "modal", "callback_id": f"form:{form.name}",
        "private_metadata": json.dumps({"chat": chat_id, "locale": locale}),
        "title": {"type": "plain_text", "text": form.title[:24]},
        "submit": {"type": "plain_text", "text": form.submit[:24]},
        "close": {"type": "plain_text", "text": form.cancel[:24]},
        "blocks": [{
            "type": "input", "block_id": f.name, "optional": f.optional,
            "label": {"type": "plain_text", "text": f.label[:2000]},
            "hint": {"type": "plain_text", "text": f.hint[:2000]},
            "element": {"type": "plain_text_input", "action_id": f.name, "multiline": f.multiline,
                        "max_length": f.max_length},
        } for f in form.fields],
    }


def _renamed(block: dict[str, Any], n: int) -> dict[str, Any]:
    """Block and action ids must be unique in a view; each reply numbers its own from 0."""
    block = dict(block)
    if "block_id" in block:
        block["block_id"] = f"r{n}{block['block_id']}"
    if block.get("type") == "actions":
        block["elements"] = [{**e, "action_id": f"r{n}{e['action_id']}"} for e in block["elements"]]
    return block


def _form_fields(view: dict[str, Any]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """(the form's name, its declared fields as typed): each input's block_id and action_id are its field's
    name; nothing else in the view is read."""
    name = str(view.get("callback_id", "")).partition(":")[2]
    declared = build(name, Translator())
    values = (view.get("state") or {}).get("values") or {}
    return name, tuple((f.name, str(((values.get(f.name) or {}).get(f.name) or {}).get("value") or "").strip())
                       for f in (declared.fields if declared else ()))


def _form_part(view: dict[str, Any]) -> dict[str, Any]:
    """What a stored submission keeps of its view: what _form_fields and _take_form read."""
    return {key: view.get(key) for key in ("id", "callback_id", "private_metadata", "state")}


def _submission_id(view: dict[str, Any]) -> str:
    """The same submission delivered twice (an ack lost, the same form sent again) is one event; one edited
    before it was sent again is another (a view's hash changes when the app updates it, not when the
    person types)."""
    typed = json.dumps((view.get("state") or {}).get("values") or {}, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(typed.encode()).hexdigest()[:16]
    return f"view:{view.get('id')}:{view.get('hash') or uuid.uuid4().hex}:{digest}"


def _metadata(text: object) -> dict[str, Any]:
    """The modal's private_metadata (ours: {"chat": ...}); anything else reads as nothing."""
    try:
        data = json.loads(text) if isinstance(text, str) and text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _form_of(body: dict[str, Any]) -> str:
    """The form a press may lead to, as its button says ("b3.details": "details"), or ""."""
    actions = body.get("actions") or [{}]
    first = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
    return str(first.get("action_id") or "").partition(".")[2]


def _to_store(body: dict[str, Any]) -> tuple[str, Incoming | None] | None:
    """What durable intake takes: (kind, what it means; None for one of its kind that means nothing to
    us, acknowledged and dropped), or None for everything else (views, App Home, Slack's own checks)."""
    if body.get("type") == "event_callback":
        event = body.get("event") or {}
        if not isinstance(event, dict) or event.get("type") not in ("message", "app_mention"):
            return None
        return "event", from_event(body)
    if body.get("type") == "block_actions":
        return "action", from_action(body)
    if body.get("command") is not None and body.get("type") is None:
        return "command", from_command(body)
    return None


def _bolt_request(text: str, data: dict[str, Any], request: web.Request) -> AsyncBoltRequest:
    """Bolt's request for a body read_body has read (deciding as Bolt's parse_body does): the text kept
    for Bolt's own signature check, the body not parsed a second time (a press's payload is a URL-encoded
    JSON of the whole message, and parsing it was a good part of the work before an ack)."""
    bolt_request = AsyncBoltRequest(body="", query=request.query_string,
                                    headers=request.headers)  # type: ignore[arg-type]  # bolt types a dict, reads only .items()
    bolt_request.raw_body, bolt_request.body = text, data
    bolt_request.context = build_async_context(AsyncBoltContext({}), data)
    return bolt_request


def _with_sender(incoming: Incoming, sender: Sender) -> Incoming:
    return replace(incoming, sender=sender)
