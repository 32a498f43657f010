"""The fake Slack is only worth having if it refuses what Slack refuses: these tests drive it with the real
slack_sdk WebClient / AsyncWebClient (and a real Bolt app for Slack's side of the conversation) and check
both the happy path and Slack's error answers."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_server import FakeSlack, all_text, buttons, check_blocks

T = TypeVar("T")
ANA = "U123"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        server.user(ANA, name="ana", real_name="Ana Rao", tz="Asia/Kolkata")
        yield server


def client(fake: FakeSlack, token: str | None = None) -> WebClient:
    return WebClient(token=token or fake.bot_token, base_url=fake.api_url)


def run(fake: FakeSlack, body: Callable[[AsyncWebClient], Awaitable[T]]) -> T:
    """Run body(client) with a real AsyncWebClient in a fresh event loop."""
    async def main() -> T:
        return await body(AsyncWebClient(token=fake.bot_token, base_url=fake.api_url))
    return asyncio.run(main())


def slack_error(call: Callable[[], Any]) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(text: str, action_id: str, value: str = "v") -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id, "value": value}


MENU = [section("*Pricing*"), {"type": "actions", "block_id": "menu",
                               "elements": [button("Book a call", "book", "call"), button("Plans", "plans", "p")]}]


def modal(title: str = "Book a call", **extra: Any) -> dict[str, Any]:
    return {"type": "modal", "callback_id": "booking", "title": {"type": "plain_text", "text": title},
            "submit": {"type": "plain_text", "text": "Book"}, "private_metadata": "lead-7",
            "blocks": [{"type": "input", "block_id": "email", "label": {"type": "plain_text", "text": "Email"},
                        "element": {"type": "plain_text_input", "action_id": "value", "max_length": 80}}], **extra}


def trigger(fake: FakeSlack, user: str = ANA) -> str:
    return dict(parse_qsl(fake.slash(user).decode()))["trigger_id"]


# ------------------------------------------------------------------------------- messages

def test_post_to_a_user_opens_their_dm_and_stores_the_message(fake: FakeSlack) -> None:
    web_client = client(fake)
    sent = web_client.chat_postMessage(channel=ANA, text="Hi Ana", blocks=MENU)
    assert sent["channel"] == fake.dm(ANA) == web_client.conversations_open(users=ANA)["channel"]["id"]
    stored = fake.last(ANA)
    assert (stored.ts, stored.channel, stored.user, stored.text) == \
        (sent["ts"], fake.dm(ANA), fake.bot_user_id, "Hi Ana")
    assert sent["message"]["blocks"] == stored.blocks and all(b.get("block_id") for b in stored.blocks)
    assert buttons(stored) == [("Book a call", "book", "call"), ("Plans", "plans", "p")]
    assert all_text(stored) == "*Pricing*\nBook a call\nPlans"
    again = web_client.chat_postMessage(channel=fake.dm(ANA), text="second")
    assert float(again["ts"]) > float(sent["ts"]) and [m.text for m in fake.messages(ANA)] == ["Hi Ana", "second"]


def test_channels_must_exist_and_have_the_bot(fake: FakeSlack) -> None:
    web_client = client(fake)
    fake.channel("C1", "general")
    fake.channel("C2", "private-ish", is_member=False)
    assert web_client.chat_postMessage(channel="#general", text="hello")["channel"] == "C1"
    for channel, error in (("C404", "channel_not_found"), ("U404", "channel_not_found"),
                           ("D404", "channel_not_found"), ("C2", "not_in_channel")):
        assert slack_error(lambda: web_client.chat_postMessage(channel=channel, text="x")).response["error"] == error
    with pytest.warns(UserWarning, match="top-level `text`"):  # slack_sdk's own warning, then Slack's refusal
        assert slack_error(lambda: web_client.chat_postMessage(channel=ANA)).response["error"] == "no_text"
    assert slack_error(lambda: web_client.chat_postMessage(channel=ANA, text="x" * 40_001)).response["error"] \
        == "msg_too_long"


@pytest.mark.parametrize(("blocks", "pointer"), [
    ([section("x")] * 51, "/blocks"),
    ([section("x" * 3001)], "/blocks/0/text/text"),
    ([{"type": "actions", "elements": [button("x" * 76, "a")]}], "/blocks/0/elements/0/text/text"),
    ([{"type": "actions", "elements": [button("One", "same"), button("Two", "same")]}],
     "/blocks/0/elements/1/action_id"),
    ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}], "/blocks/0/fields"),
    ([{"type": "header", "text": {"type": "mrkdwn", "text": "Title"}}], "/blocks/0/text/type"),
    ([{"type": "section", "text": {"type": "plain_text", "text": "t", "verbatim": True}}], "/blocks/0/text/verbatim"),
    ([{"type": "actions", "elements": [dict(button("Go", "go"), value="v" * 2001)]}], "/blocks/0/elements/0/value"),
    ([section("a") | {"block_id": "b"}, section("b") | {"block_id": "b"}], "/blocks/1/block_id"),
])
def test_invalid_blocks_are_refused_like_slack(fake: FakeSlack, blocks: list[dict[str, Any]], pointer: str) -> None:
    err = slack_error(lambda: client(fake).chat_postMessage(channel=ANA, text="x", blocks=blocks))
    assert err.response["error"] == "invalid_blocks"
    assert any(f"[json-pointer:{pointer}]" in m for m in err.response["response_metadata"]["messages"]), err.response
    assert fake.messages(ANA) == []


def test_blocks_at_the_limits_pass(fake: FakeSlack) -> None:
    at_limits = [section("x" * 3000)] * 49 + [{"type": "actions", "elements": [button("y" * 75, "a", "v" * 2000)]}]
    assert check_blocks(at_limits) == []
    client(fake).chat_postMessage(channel=ANA, text="x", blocks=at_limits)
    assert len(fake.last(ANA).blocks) == 50


def test_chat_update_needs_an_existing_bot_message_and_keeps_history(fake: FakeSlack) -> None:
    web_client = client(fake)
    err = slack_error(lambda: web_client.chat_update(channel=fake.dm(ANA), ts="1700000000.000100", text="x"))
    assert (err.response["error"], err.response.status_code) == ("message_not_found", 200)
    sent = web_client.chat_postMessage(channel=ANA, text="v1", blocks=MENU)
    web_client.chat_update(channel=sent["channel"], ts=sent["ts"], text="v2")  # blocks kept when not given
    web_client.chat_update(channel=sent["channel"], ts=sent["ts"], text="v3", blocks=[section("done")])
    msg = fake.last(ANA)
    assert (msg.edits, msg.text, all_text(msg)) == (2, "v3", "done")
    assert [v["text"] for v in msg.history] == ["v1", "v2", "v3"] and buttons(msg.history[1]["blocks"])
    fake.dm_event(ANA, "hello bot")  # Ana's own message: the bot can't edit it, but can react
    mine = fake.messages(ANA, everyone=True)[-1]
    assert slack_error(lambda: web_client.chat_update(channel=mine.channel, ts=mine.ts, text="x")).response["error"] \
        == "cant_update_message"
    web_client.reactions_add(channel=mine.channel, timestamp=mine.ts, name="eyes")
    assert slack_error(lambda: web_client.reactions_add(channel=mine.channel, timestamp=mine.ts, name="eyes")) \
        .response["error"] == "already_reacted"
    web_client.chat_delete(channel=sent["channel"], ts=sent["ts"])
    assert fake.messages(ANA) == []


def test_ephemeral_messages_are_recorded_apart(fake: FakeSlack) -> None:
    web_client = client(fake)
    answer = web_client.chat_postEphemeral(channel=fake.dm(ANA), user=ANA, text="only you")
    assert [(e.user, e.text, e.message_ts) for e in fake.ephemerals(ANA)] == [(ANA, "only you", answer["message_ts"])]
    assert fake.messages(ANA) == []


# ------------------------------------------------------------------------------- views

def test_views_open_exchanges_a_fresh_trigger_once(fake: FakeSlack) -> None:
    web_client = client(fake)
    fresh = trigger(fake)
    opened = web_client.views_open(trigger_id=fresh, view=modal())["view"]
    assert opened["id"].startswith("V") and opened["callback_id"] == "booking" and opened["hash"]
    assert fake.views[opened["id"]].user == ANA and fake.modal(ANA).id == opened["id"]  # type: ignore[union-attr]
    assert slack_error(lambda: web_client.views_open(trigger_id=fresh, view=modal())).response["error"] \
        == "exchanged_trigger_id"
    fake.trigger_ttl = 0.05
    stale = trigger(fake)
    time.sleep(0.1)
    assert slack_error(lambda: web_client.views_open(trigger_id=stale, view=modal())).response["error"] \
        == "expired_trigger_id"
    assert slack_error(lambda: web_client.views_open(trigger_id="1.2.3", view=modal())).response["error"] \
        == "invalid_trigger_id"


@pytest.mark.parametrize(("view", "pointer"), [
    (modal("x" * 25), "/view/title/text"),
    (modal(submit={"type": "plain_text", "text": "s" * 25}), "/view/submit/text"),
    (modal(private_metadata="m" * 3001), "/view/private_metadata"),
    ({**modal(), "blocks": [section("x")] * 101}, "/view/blocks"),
    ({**modal(), "blocks": [{"type": "input", "label": {"type": "plain_text", "text": "L"},
                             "element": {"type": "plain_text_input", "max_length": 3001}}]},
     "/view/blocks/0/element/max_length"),
    ({**modal(), "blocks": [{"type": "input", "label": {"type": "plain_text", "text": "L"}}]},
     "/view/blocks/0/element"),
])
def test_invalid_modals_are_refused(fake: FakeSlack, view: dict[str, Any], pointer: str) -> None:
    err = slack_error(lambda: client(fake).views_open(trigger_id=trigger(fake), view=view))
    assert err.response["error"] == "invalid_arguments"
    assert any(f"[json-pointer:{pointer}]" in m for m in err.response["response_metadata"]["messages"]), err.response
    assert fake.views == {}


def test_views_update_checks_the_hash_and_publish_stores_the_home(fake: FakeSlack) -> None:
    web_client = client(fake)
    opened = web_client.views_open(trigger_id=trigger(fake), view=modal())["view"]
    updated = web_client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Step 2"))["view"]
    assert updated["id"] == opened["id"] and updated["title"]["text"] == "Step 2"
    assert slack_error(lambda: web_client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal())) \
        .response["error"] == "hash_conflict"
    home = {"type": "home", "blocks": MENU}
    first = web_client.views_publish(user_id=ANA, view=home)["view"]
    second = web_client.views_publish(user_id=ANA, view={"type": "home", "blocks": [section("Welcome back")]})["view"]
    assert first["id"] == second["id"] and all_text(fake.home(ANA)) == "Welcome back"  # type: ignore[arg-type]
    assert slack_error(lambda: web_client.views_publish(user_id=ANA, view=modal())).response["error"] \
        == "invalid_arguments"
    assert slack_error(lambda: web_client.views_publish(user_id="U404", view=home)).response["error"] \
        == "user_not_found"


# ------------------------------------------------------------------------------- files, users, auth

def test_files_upload_v2_end_to_end(fake: FakeSlack) -> None:
    done = client(fake).files_upload_v2(channel=fake.dm(ANA), content=b"%PDF-1.4 quote", filename="quote.pdf",
                                        title="Your quote", initial_comment="Here it is")
    [stored] = fake.files(ANA)
    assert (done["file"]["id"], stored.title, stored.data, stored.channels) == \
        (stored.id, "Your quote", b"%PDF-1.4 quote", [fake.dm(ANA)])
    assert fake.last(ANA).text == "Here it is" and fake.last(ANA).files[0]["name"] == "quote.pdf"
    info = client(fake).files_info(file=stored.id)["file"]
    request = urllib.request.Request(info["url_private_download"],
                                     headers={"Authorization": f"Bearer {fake.bot_token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.read() == b"%PDF-1.4 quote"

    async def upload(web_client: AsyncWebClient) -> str:
        answer = await web_client.files_upload_v2(channel=fake.dm(ANA), content="plain text", filename="notes.txt")
        return answer["file"]["id"]
    file_id = run(fake, upload)
    assert [f.id for f in fake.files(ANA)] == [stored.id, file_id] and fake.files(ANA)[1].data == b"plain text"
    assert slack_error(lambda: client(fake).files_completeUploadExternal(files=[{"id": "FNOPE"}], channel_id=ANA)) \
        .response["error"] == "file_not_found"


def test_users_info_sync_and_async(fake: FakeSlack) -> None:
    user = client(fake).users_info(user=ANA, include_locale=True)["user"]
    assert (user["id"], user["name"], user["real_name"], user["tz"], user["tz_offset"], user["locale"],
            user["profile"]["display_name"], user["is_bot"]) == \
        (ANA, "ana", "Ana Rao", "Asia/Kolkata", 19800, "en-US", "ana", False)

    async def lookup(web_client: AsyncWebClient) -> tuple[str, str]:
        found = await web_client.users_info(user=ANA)
        with pytest.raises(SlackApiError) as missing:
            await web_client.users_info(user="U404")
        return found["user"]["tz"], missing.value.response["error"]
    assert run(fake, lookup) == ("Asia/Kolkata", "user_not_found")


def test_auth_and_unknown_methods(fake: FakeSlack) -> None:
    assert client(fake).auth_test()["user_id"] == fake.bot_user_id
    assert slack_error(lambda: client(fake, "xoxb-wrong").auth_test()).response["error"] == "invalid_auth"
    assert slack_error(lambda: WebClient(base_url=fake.api_url).auth_test()).response["error"] == "not_authed"
    assert slack_error(lambda: client(fake).api_call("chat.nonsense")).response["error"] == "unknown_method"
    assert [c.error for c in fake.calls] == [None, "invalid_auth", "not_authed", "unknown_method"]


# ------------------------------------------------------------------------------- rate limits and faults

def test_rate_limit_answers_429_with_retry_after_and_the_retry_handler_recovers() -> None:
    with FakeSlack(rate_limit=(2, 1.0)) as fake:
        fake.user(ANA)
        web_client = WebClient(token=fake.bot_token, base_url=fake.api_url, retry_handlers=[])
        web_client.chat_postMessage(channel=ANA, text="1")
        web_client.chat_postMessage(channel=ANA, text="2")
        err = slack_error(lambda: web_client.chat_postMessage(channel=ANA, text="3"))
        assert (err.response.status_code, err.response["error"], err.response.headers["Retry-After"]) == \
            (429, "ratelimited", "1")
        assert web_client.auth_test()["ok"]  # the limit is per method
        patient = WebClient(token=fake.bot_token, base_url=fake.api_url)
        patient.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
        assert patient.chat_postMessage(channel=ANA, text="4")["ok"]
        assert [m.text for m in fake.messages(ANA)] == ["1", "2", "4"]
        assert len(fake.throttled) == 2 and all(c.status == 429 for c in fake.throttled)


def test_fail_next_reaches_the_async_client(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=7)
    fake.fail_next("users.info", error="fatal_error")

    async def body(web_client: AsyncWebClient) -> list[Any]:
        out: list[Any] = []
        for call in (lambda: web_client.chat_postMessage(channel=ANA, text="x"),
                     lambda: web_client.users_info(user=ANA)):
            with pytest.raises(SlackApiError) as caught:
                await call()
            out.append((caught.value.response.status_code, caught.value.response["error"],
                        caught.value.response.headers.get("Retry-After")))
        out.append((await web_client.chat_postMessage(channel=ANA, text="y"))["ok"])
        return out
    assert run(fake, body) == [(429, "ratelimited", "7"), (200, "fatal_error", None), True]
    assert [m.text for m in fake.messages(ANA)] == ["y"]


# ------------------------------------------------------------------------------- Slack -> app

def test_sign_matches_slack_sdks_verifier(fake: FakeSlack) -> None:
    body = fake.dm_event(ANA, "hi")
    headers = fake.sign(body)
    verifier = SignatureVerifier(fake.signing_secret)
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid(body + b" ", headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    old = fake.sign(body, timestamp=int(time.time()) - 600)
    assert not verifier.is_valid_request(body, old)  # Slack's 5-minute window
    envelope = json.loads(body)
    assert envelope["type"] == "event_callback" and envelope["event_id"].startswith("Ev")
    assert envelope["event"].items() >= {"type": "message", "channel_type": "im", "channel": fake.dm(ANA),
                                         "user": ANA, "text": "hi"}.items()


def test_press_references_a_real_stored_message(fake: FakeSlack) -> None:
    web_client = client(fake)
    sent = web_client.chat_postMessage(channel=ANA, text="menu", blocks=MENU)
    form = dict(parse_qsl(fake.press(ANA, sent["channel"], sent["ts"], "book").decode()))
    payload = json.loads(form["payload"])
    assert payload["type"] == "block_actions" and payload["user"]["id"] == ANA
    assert payload["container"] == {"type": "message", "message_ts": sent["ts"], "channel_id": sent["channel"],
                                    "is_ephemeral": False}
    assert payload["message"]["ts"] == sent["ts"] and payload["message"]["blocks"] == fake.last(ANA).blocks
    [action] = payload["actions"]
    assert (action["action_id"], action["block_id"], action["value"], action["type"]) == \
        ("book", "menu", "call", "button")
    with pytest.raises(ValueError, match="no element with action_id 'nope'"):
        fake.press(ANA, sent["channel"], sent["ts"], "nope")
    with pytest.raises(ValueError):
        fake.press(ANA, sent["channel"], "1700000000.000001", "book")
    assert web_client.views_open(trigger_id=payload["trigger_id"], view=modal())["ok"]  # the press's trigger works


def test_a_bolt_app_served_over_http_talks_to_the_fake(fake: FakeSlack) -> None:
    """Slack's whole round trip: signed slash command -> views.open with its trigger -> the person submits
    -> the app answers in the DM; Bolt verifies every signature, a bad one gets 401."""
    bolt = AsyncApp(token=fake.bot_token, signing_secret=fake.signing_secret,
                    client=AsyncWebClient(token=fake.bot_token, base_url=fake.api_url))

    @bolt.command("/book")
    async def on_book(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=modal())

    @bolt.view("booking")
    async def on_booking(ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        email = view["state"]["values"]["email"]["value"]["value"]
        if "@" not in email:
            await ack(response_action="errors", errors={"email": "That is not an email address"})
            return
        await ack()
        await client.chat_postMessage(channel=body["user"]["id"],
                                      text=f"Booked for {email} ({view['private_metadata']})")

    @bolt.event("message")
    async def on_message(event: dict[str, Any], say: Any) -> None:
        await say(f"echo: {event['text']}")

    async def scenario() -> None:
        runner = web.AppRunner(bolt.web_app(path="/slack/events"))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        fake.app_url = f"http://127.0.0.1:{port}/slack/events"
        try:
            status, _, _ = await fake.apost(fake.slash(ANA, "/book", ""))
            assert status == 200
            await fake.wait_for_async(lambda f: f.modal(ANA) is not None)
            view_id = fake.modal(ANA).id  # type: ignore[union-attr]
            assert (await fake.apost(fake.dm_event(ANA, "hi"), signed=False))[0] == 401
            assert (await fake.apost(fake.dm_event(ANA, "hi"), retry_num=1))[0] == 200
            await fake.wait_for_async(lambda f: bool(f.messages(ANA)))
            assert fake.last(ANA).text == "echo: hi"
            # submit() blocks on the fake's loop, so run it off this loop (which serves the Bolt app)
            bad = await asyncio.to_thread(fake.submit, ANA, view_id, {"email": {"value": "nope"}})
            assert bad == (200, {"response_action": "errors", "errors": {"email": "That is not an email address"}})
            assert fake.modal(ANA).errors == {"email": "That is not an email address"}  # type: ignore[union-attr]
            with pytest.raises(ValueError, match="required"):
                fake.view_submission(ANA, view_id, {})
            ok = await asyncio.to_thread(fake.submit, ANA, view_id, {"value": "ana@example.com"})
            assert ok == (200, None) and fake.modal(ANA) is None and fake.views[view_id].closed
            await fake.wait_for_async(lambda f: f.last(ANA).text.startswith("Booked"))
            assert fake.last(ANA).text == "Booked for ana@example.com (lead-7)"
        finally:
            await runner.cleanup()

    asyncio.run(scenario())
    assert all(d.elapsed < 3 for d in fake.deliveries)  # every ack inside Slack's 3 seconds
