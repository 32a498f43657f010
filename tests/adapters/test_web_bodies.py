"""The web process's endpoints under hostile bodies, served by real aiohttp servers with the real Slack
and Telegram runtimes: unsigned or stale Slack requests are 401 and never parsed; signed but malformed
ones are 400 with one log line; a malformed Telegram update with the right secret is 200 (so Telegram
does not retry it for ever) with one log line; and none of it leaves a traceback in the log. /health
reports the database and its schema."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest

from bot.adapters.telegram.limiter import FloodLimiter
from bot.adapters.telegram.runtime import SECRET_HEADER, TelegramRuntime, TelegramSettings
from bot.dispatcher import Dispatcher
from bot.flows import all_flows
from bot.router import Router
from storage.migrate import downgrade, head, upgrade
from tests.adapters.slack.harness import RunningSlack
from tests.adapters.telegram.harness import SECRET
from tests.adapters.telegram.test_telegram_booking import CHEN, people
from tests.adapters.telegram.test_telegram_web import WebProcess, free_port
from tests.fakes.slack_server import FakeSlack
from tests.fakes.telegram_server import FakeTelegram

DEEP = 100_000  # levels: far past json's own recursion limit, still a small body (200 kB)


def no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records if r.exc_info]
    assert "Traceback" not in caplog.text


def warnings(caplog: pytest.LogCaptureFixture) -> int:
    return len([r for r in caplog.records if r.levelno >= logging.WARNING])


# ---------------------------------------------------------------- Slack


@pytest.fixture
def slack(uow, clock) -> Iterator[RunningSlack]:  # type: ignore[no-untyped-def]
    with FakeSlack() as fake, RunningSlack(fake, uow, clock) as bot:
        yield bot


def signed_headers(secret: str, body: bytes, timestamp: str | None = None, content_type: str = "application/json") -> dict[str, str]:
    ts = timestamp or str(int(time.time()))
    signature = "v0=" + hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, "Content-Type": content_type}


UNSIGNED_BODIES = [b"{nope", b"null", b"[]", b"[" * DEEP + b"]" * DEEP, b'{"type": "url_verification", "challenge": "x"}',
                   b"\xff\xfe\x00garbage"]


def test_slack_refuses_unsigned_forged_and_stale_requests_before_reading_them(slack, caplog):
    caplog.set_level(logging.INFO)
    url = slack.fake.app_url
    secret = slack.fake.signing_secret
    for body in UNSIGNED_BODIES:
        assert httpx.post(url, content=body, headers={"Content-Type": "application/json"}).status_code == 401
        now = str(int(time.time()))
        tries = [
            {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=" + "0" * 64},  # forged
            {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=abc"},  # not a number
            {"X-Slack-Request-Timestamp": "\uff11\uff12\uff13", "X-Slack-Signature": "v0=abc"},  # digits, not ASCII
            {"X-Slack-Request-Timestamp": "9" * 400, "X-Slack-Signature": "v0=abc"},
            {"X-Slack-Signature": "v0=abc"},  # no timestamp
            {"X-Slack-Request-Timestamp": now},  # no signature
            signed_headers(secret, body, str(int(time.time()) - 400)),  # signed, but too old: a replay
            signed_headers(secret, body, str(int(time.time()) + 400)),
            signed_headers("not-the-secret", body),
        ]
        for headers in tries:
            answer = httpx.post(url, content=body, headers={k: v.encode() for k, v in headers.items()})
            assert answer.status_code == 401, (body[:20], headers, answer.text)
    no_traceback(caplog)


SIGNED_MALFORMED: list[tuple[bytes, str]] = [
    (b"{nope", "application/json"),
    (b"null", "application/json"),
    (b"[]", "application/json"),
    (b'"text"', "application/json"),
    (b"[" * DEEP + b"]" * DEEP, "application/json"),
    (b'{"a":' * 70 + b"1" + b"}" * 70, "application/json"),  # valid JSON, too deep
    (b"{}", "application/json"),  # no type
    (b'{"type": "event_callback"}', "application/json"),  # no event
    (b'{"type": "event_callback", "event": "message"}', "application/json"),
    (b'{"type": "event_callback", "event": {"type": "message", "user": 5, "channel": "D1", "text": "hi"}}',
     "application/json"),
    (b'{"type": "event_callback", "event": {"type": "message", "user": "U1", "channel": "D1", "text": {"a": 1}}}',
     "application/json"),
    (b'{"type": "event_callback", "authorizations": [1], "event": {"type": "message"}}', "application/json"),
    (b'{"type": "event_callback", "enterprise": 5, "event": {"type": "message"}}', "application/json"),
    (b'{"type": "url_verification"}', "application/json"),  # no challenge
    (b'{"type": "something_else"}', "application/json"),
    (b"\xff\xfe not utf-8", "application/json"),
    (b"payload=%ZZ%ZZ", "application/x-www-form-urlencoded"),
    (b"payload=%ff%fe", "application/x-www-form-urlencoded"),  # not UTF-8 once decoded
    (b"a=1&&&b", "application/x-www-form-urlencoded"),
    (b"just some words", "application/x-www-form-urlencoded"),
    (b"payload={nope", "application/x-www-form-urlencoded"),
    (b"payload=null", "application/x-www-form-urlencoded"),
    (b"payload=%5B%5D", "application/x-www-form-urlencoded"),
    (urlencode({"payload": json.dumps({"type": "block_actions"})}).encode(), "application/x-www-form-urlencoded"),
    (urlencode({"payload": json.dumps({"type": "block_actions", "user": "U1", "actions": []})}).encode(),
     "application/x-www-form-urlencoded"),
    (urlencode({"payload": json.dumps({"type": "block_actions", "user": {"id": "U1"}, "actions": ["x"]})}).encode(),
     "application/x-www-form-urlencoded"),
    (urlencode({"payload": json.dumps({"type": "view_submission", "user": {"id": "U1"},
                                       "view": {"id": "V1", "callback_id": "details",
                                                "state": {"values": {"title": "x"}}}})}).encode(),
     "application/x-www-form-urlencoded"),
    (urlencode({"payload": json.dumps({"type": "shortcut", "user": {"id": "U1"}})}).encode(),
     "application/x-www-form-urlencoded"),
    (urlencode({"command": "/book"}).encode(), "application/x-www-form-urlencoded"),  # no user
    (urlencode({"command": "book", "user_id": "U1"}).encode(), "application/x-www-form-urlencoded"),
    (urlencode({"text": "hello", "user_id": "U1"}).encode(), "application/x-www-form-urlencoded"),  # no command
]


def test_slack_answers_a_signed_but_malformed_body_with_400_and_one_log_line(slack, caplog):
    caplog.set_level(logging.INFO)
    secret = slack.fake.signing_secret
    for body, content_type in SIGNED_MALFORMED:
        before = warnings(caplog)
        answer = httpx.post(slack.fake.app_url, content=body, headers=signed_headers(secret, body, content_type=content_type))
        assert answer.status_code == 400, (body[:120], answer.status_code, answer.text)
        assert warnings(caplog) == before + 1, (body[:120], caplog.text[-500:])
    no_traceback(caplog)
    # an event of a kind the app does not subscribe to is acknowledged and left alone
    body = json.dumps({"type": "event_callback", "event": {"type": "reaction_added", "user": "U1"}}).encode()
    assert httpx.post(slack.fake.app_url, content=body, headers=signed_headers(secret, body)).status_code == 200
    # and Slack's real requests still work after all that
    slack.fake.user("U0NEWUSER1", name="zoe", real_name="Zoe", tz="Europe/London")
    assert slack.post(slack.fake.slash("U0NEWUSER1", "/help", ""))[0] == 200
    assert slack.fake.messages(slack.fake.dm("U0NEWUSER1"))
    no_traceback(caplog)


def test_slack_refuses_a_body_over_the_size_limit(slack):
    body = b'{"type": "event_callback", "event": {"type": "message", "text": "' + b"x" * (1024 * 1024) + b'"}}'
    answer = httpx.post(slack.fake.app_url, content=body, headers=signed_headers(slack.fake.signing_secret, body))
    assert answer.status_code == 413


# ---------------------------------------------------------------- Telegram


@pytest.fixture
def telegram(uow, clock) -> Iterator[tuple[FakeTelegram, str]]:  # type: ignore[no-untyped-def]
    people(uow)
    with FakeTelegram(private_limit=None) as fake:
        port = free_port()
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        settings = TelegramSettings(fake.token, fake.base_url, url, SECRET)
        runtime = TelegramRuntime(settings, Dispatcher(uow, clock, all_flows(), Router(["telegram"])), uow,
                                  limiter=FloodLimiter(private_chat=(1000, 1.0)), poll_seconds=0.05)
        with WebProcess(runtime, port):
            yield fake, url


def update(**parts: object) -> bytes:
    return json.dumps({"update_id": 900_001, **parts}).encode()


USER = {"id": CHEN, "is_bot": False, "first_name": "Chen"}
CHAT = {"id": CHEN, "type": "private"}
TELEGRAM_MALFORMED = [
    b"{nope", b"null", b"[]", b"42", b'"update"', b"[" * DEEP + b"]" * DEEP, b'{"a":' * 70 + b"1" + b"}" * 70,
    b"\xff\xfe not utf-8", b"{}", b'{"update_id": "x"}', b'{"update_id": true}', b'{"update_id": 1e400}',
    update(message=7),
    update(message={"text": "hi"}),  # no chat, no sender, no date
    update(message={"message_id": 1, "date": 0, "chat": CHAT, "from": USER, "text": {"html": "<b>"}}),
    update(message={"message_id": 1, "date": 0, "chat": CHAT, "from": USER, "text": ["a", "b"]}),
    update(message={"message_id": 1, "date": 0, "chat": "private", "from": USER, "text": "/help"}),
    update(callback_query={"id": "q1", "from": USER, "chat_instance": "c", "data": 12345}),
    update(callback_query={"id": "q1", "from": USER, "chat_instance": "c", "data": ["1|x"]}),
    update(callback_query="pressed"),
    update(), update(surprise={"a": 1}),  # nothing in it; fields no update has
]


def test_telegram_acknowledges_a_malformed_update_with_one_log_line(telegram, caplog):
    caplog.set_level(logging.INFO)
    fake, url = telegram
    for body in TELEGRAM_MALFORMED:
        before = warnings(caplog)
        answer = httpx.post(url, content=body, headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"})
        assert answer.status_code == 200, (body[:80], answer.status_code)
        assert warnings(caplog) == before + 1, (body[:80], caplog.text[-600:])
    assert httpx.post(url, content=b"{nope", headers={SECRET_HEADER: "wrong"}).status_code == 403
    # a real update still works, and nothing malformed reached anyone
    assert fake.deliver(fake.message(CHEN, "/credits")) == 200
    fake.wait_for(lambda f: len(f.sent(CHEN)) == 1)
    assert "Your credits" in fake.last(CHEN).text
    no_traceback(caplog)


def test_telegram_ignores_a_well_formed_update_of_a_kind_it_does_not_handle(telegram, caplog):
    caplog.set_level(logging.INFO)
    fake, url = telegram
    body = update(edited_message={"message_id": 1, "date": 0, "chat": CHAT, "from": USER, "text": "edited"})
    assert httpx.post(url, content=body, headers={SECRET_HEADER: SECRET}).status_code == 200
    assert warnings(caplog) == 0
    no_traceback(caplog)


# ---------------------------------------------------------------- /health


def test_health_reports_the_database_and_its_schema(telegram, engine):
    fake, url = telegram
    health = url.replace("/telegram/webhook", "/health")
    answer = httpx.get(health)
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": {"reachable": True, "revision": head(), "head": head()}}
    downgrade(engine, "0003")  # the schema falls behind while the process runs (a restored backup)
    try:
        answer = httpx.get(health)
        assert answer.status_code == 503
        body = answer.json()
        assert body["status"] == "unavailable" and body["database"]["revision"] == "0003"
        assert body["database"]["problem"] == (
            f"the schema is behind (at 0003, this version needs {head()}): run `headstrt db upgrade`")
    finally:
        upgrade(engine)
    assert httpx.get(health).status_code == 200
