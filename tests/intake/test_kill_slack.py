"""kill -9 of a real `headstrt web` process receiving Slack over HTTP, while 40 requests (a DM and a
slash command from each of 20 people) are in hand: every request Slack got a 200 for took effect exactly
once after a restart, every reply went out, and at most the one message in flight per chat went out
twice. A request the dead process never answered is sent again, as Slack (or the person) would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs


from tests.fakes.slack_server import FakeSlack
from tests.intake.after_a_kill import wait_until_settled
from tests.local_http import free_port, healthy_within

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = [f"U0KILL{n:04d}" for n in range(20)]




def start(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "web"], env=env, cwd=ROOT, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_healthy(port: int, timeout: float = 60) -> None:
    assert healthy_within(port, timeout), "the web process did not come up"


def posts(fake: FakeSlack) -> list:  # type: ignore[type-arg]
    return [c for c in fake.calls if c.method == "chat.postMessage" and c.status == 200]


def key_of(body: bytes) -> str:
    """The intake key of a request: the event_id of an event, "cmd:" + trigger_id of a command."""
    if body.startswith(b"{"):
        return str(json.loads(body)["event_id"])
    return "cmd:" + parse_qs(body.decode())["trigger_id"][0]


def test_kill_9_of_the_web_process_loses_no_acknowledged_slack_request(tmp_path):
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    port = free_port()
    with FakeSlack() as fake:
        env, bodies = prepare(fake, url, port)
        process = start(env)
        try:
            wait_healthy(port)
            answers: dict[int, int] = {}
            for n, body in enumerate(bodies):  # in order: each person's DM before their command
                answers[n] = fake.post(body)[0]
                if n == 25:  # well inside the batch: the first replies are going out
                    fake.wait_for(lambda f: len(posts(f)) >= 3, timeout=30)
                    process.send_signal(signal.SIGKILL)
                    process.wait(10)
            before = len(posts(fake))
            acked = [n for n, status in answers.items() if status == 200]
            assert 20 <= len(acked) < len(bodies), answers  # some acknowledged, some met a dead process
            restarted = time.monotonic()
            process = start(env)
            wait_healthy(port)
            for n, status in answers.items():  # what was never acknowledged comes again
                if status != 200:
                    retry = {"retry_num": 1} if bodies[n].startswith(b"{") else {}
                    assert fake.post(bodies[n], **retry)[0] == 200
            fake.wait_for(lambda f: len(posts(f)) > before, timeout=60)
            first_message = time.monotonic() - restarted
            extra = settled(url, fake, bodies)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(20)
    print(f"first message {first_message:.2f} s after the restart; repeats {sum(extra.values())}")


def settled(url: str, fake: FakeSlack, bodies: list[bytes]) -> dict[str, int]:
    """Wait until every stored request is done and the outbox sent, then check each request took effect
    once, in each person's order; returns the messages sent twice, per chat."""
    after = wait_until_settled(url)
    stored, processed, rows, unsent = after.stored, after.processed, after.rows, after.unsent
    keys = [key_of(b) for b in bodies]
    assert sorted(k for k, _ in stored) == sorted(keys)  # each stored once (a retry is not a second row)
    assert {s for _, s in stored} == {"done"}
    assert set(keys) <= processed  # each took effect; the inbox's key makes it once
    assert unsent == 0
    calls = Counter(str(c.params["channel"]) for c in posts(fake))
    extra = {chat: calls[chat] - rows[chat] for chat in rows}
    assert all(0 <= n <= 1 for n in extra.values()), extra  # every row went; at most one went twice
    for person in PEOPLE:  # each person's answers in order: the credits after the hello's
        texts = [str(c.params.get("text", "")) for c in posts(fake) if c.params["channel"] in (person, fake.dm(person))]
        assert texts and "credits" in texts[-1].lower(), texts
    return extra


def prepare(fake: FakeSlack, url: str, port: int) -> tuple[dict[str, str], list[bytes]]:
    """The processes' environment over a migrated database, and the 40 requests (each person's DM first)."""
    env = environment(fake, url, port)
    subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   capture_output=True, timeout=120)
    fake.app_url = f"http://127.0.0.1:{port}/slack/events"
    for n, person in enumerate(PEOPLE):
        fake.user(person, name=f"p{n}", real_name=f"P{n}", tz="Europe/London")
    return env, [fake.dm_event(p, "hello") for p in PEOPLE] + [fake.slash(p, "/credits", "") for p in PEOPLE]


def environment(fake: FakeSlack, url: str, port: int) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), "SLACK_BOT_TOKEN": fake.bot_token,
           "SLACK_SIGNING_SECRET": fake.signing_secret, "SLACK_API_URL": fake.api_url, "PORT": str(port),
           "HEADSTRT_HEARTBEAT_SECONDS": "0.5"}
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_URL", "SLACK_APP_TOKEN"):
        env.pop(name, None)
    return env


def test_a_worker_killed_mid_event_is_taken_over_by_another_within_seconds(tmp_path):
    """`headstrt web` only stores (HEADSTRT_EMBEDDED_WORKER=off); two `headstrt worker`s run the requests;
    one is killed with -9 in the middle: the other finishes everything, in each person's order."""
    url = f"sqlite:///{tmp_path / 'workers.db'}"
    port = free_port()
    with FakeSlack() as fake:
        env, bodies = prepare(fake, url, port)
        web = subprocess.Popen([sys.executable, "-m", "bot.cli", "web"], env=env | {"HEADSTRT_EMBEDDED_WORKER": "off"},
                               cwd=ROOT, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        workers = [subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], env=env, cwd=ROOT, text=True,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
        try:
            wait_healthy(port)
            assert all(fake.post(body)[0] == 200 for body in bodies)  # the web process only stores: all acked
            fake.wait_for(lambda f: len(posts(f)) >= 3, timeout=60)
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(10)
            killed = time.monotonic()
            extra = settled(url, fake, bodies)
            took = time.monotonic() - killed
        finally:
            for process in (web, *workers):
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(20)
    print(f"all done {took:.2f} s after the kill; repeats {sum(extra.values())}")
