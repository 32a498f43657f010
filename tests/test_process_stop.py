"""The long-running processes stop within 10 seconds of SIGTERM whatever they are doing: retrying a
database that went away, waiting on one that accepts connections and never answers, standing by for the
scheduler's lead, or still starting against a Bot API that does not answer. Real processes, with
PostgreSQL behind a proxy the test breaks (tests/fakes/tcp_proxy.py)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL
from tests.fakes.slack_server import FakeSlack
from tests.fakes.tcp_proxy import TcpProxy
from tests.fakes.telegram_server import FakeTelegram
from tests.storage.test_cli_setup import schema_url
from tests.local_http import free_port

ROOT = Path(__file__).resolve().parents[1]
PG = make_url(POSTGRES_URL)
STOP_WITHIN = 10.0
CHEN = 7000000001  # a demo person on Telegram

pytestmark = pytest.mark.skipif(os.environ.get("HEADSTRT_SKIP_POSTGRES") == "1", reason="HEADSTRT_SKIP_POSTGRES=1")


class Process:
    """`python -m bot.cli ARGS` with its output (stdout and stderr together) read as it comes."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.popen = subprocess.Popen([sys.executable, "-m", "bot.cli", *args], env=env, cwd=ROOT, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.output):
                return
            if self.popen.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} in the output:\n{self.output[-3000:]}")

    def terminate(self) -> float:
        """SIGTERM; the seconds until the process was gone (killed after 30 s, and the test fails)."""
        started = time.monotonic()
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(30)
        finally:
            if self.popen.poll() is None:
                self.popen.kill()
            self.reader.join(5)
        return time.monotonic() - started


def headstrt(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def database() -> Iterator[tuple[TcpProxy, dict[str, str]]]:
    """A migrated PostgreSQL schema with the demo data, reached through a proxy the test can break, and
    an environment for the processes pointing at it."""
    with TcpProxy(PG.host or "127.0.0.1", PG.port or 5432) as proxy, schema_url("hs_stop", proxy.port) as url:
        env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "INFO"}
        for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_URL", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"):
            env.pop(name, None)
        headstrt(env, "db", "upgrade")
        headstrt(env, "demo")
        yield proxy, env


def test_telegram_polling_stops_while_retrying_a_database_that_went_away(database):
    proxy, env = database
    with FakeTelegram() as fake:
        process = Process(env | {"TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url}, "telegram")
        try:
            fake.wait_for(lambda f: any(c.method == "getUpdates" for c in f.calls), timeout=60)
            proxy.cut()
            fake.deliver(fake.message(CHEN, "/credits"))
            process.wait_for(r"storing updates failed \(.*\); again in")
        finally:
            took = process.terminate()
    assert took < STOP_WITHIN, (took, process.output[-3000:])
    assert "Traceback" not in process.output, process.output[-3000:]


def test_web_stops_while_the_database_accepts_and_never_answers(database):
    proxy, env = database
    with FakeTelegram() as fake:
        port = free_port()
        secret = "web-stop-secret"
        env = env | {"TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url,
                     "TELEGRAM_WEBHOOK_SECRET": secret}
        process = Process(env, "web", "--host", "127.0.0.1", "--port", str(port))
        health = f"http://127.0.0.1:{port}/health"
        try:
            process.wait_for("web process serving")
            assert httpx.get(health, timeout=10).status_code == 200
            proxy.hang()
            answer = httpx.get(health, timeout=15)  # answered in 5 s, saying why
            assert answer.status_code == 503
            assert answer.json()["database"]["problem"] == "the database did not answer within 5 s"
            # an update that gets stuck on the database while the stop comes
            update = fake.message(CHEN, "/credits")
            threading.Thread(target=lambda: _quietly(lambda: httpx.post(
                f"http://127.0.0.1:{port}/telegram/webhook", json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": secret}, timeout=30)), daemon=True).start()
            time.sleep(1)
        finally:
            took = process.terminate()
    assert took < STOP_WITHIN, (took, process.output[-3000:])


def test_web_health_says_when_the_database_is_down(database):
    proxy, env = database
    port = free_port()
    process = Process(env, "web", "--host", "127.0.0.1", "--port", str(port))
    try:
        process.wait_for("web process serving")
        proxy.cut()
        answer = httpx.get(f"http://127.0.0.1:{port}/health", timeout=15)
        assert answer.status_code == 503
        assert answer.json()["database"]["problem"] == (
            f"cannot connect to the database: is PostgreSQL running on 127.0.0.1:{proxy.port}?")
    finally:
        took = process.terminate()
    assert took < STOP_WITHIN and process.popen.returncode == 0, (took, process.output[-3000:])
    assert "Traceback" not in process.output


def test_the_scheduler_stops_as_a_standby_and_as_the_leader_without_its_database(database):
    proxy, env = database
    env = env | {"SCHEDULER_TICK_SECONDS": "1"}
    leader = Process(env, "scheduler")
    standby = None
    try:
        leader.wait_for("scheduler leads")
        standby = Process(env, "scheduler")
        standby.wait_for("another scheduler leads; standing by")
        took = standby.terminate()
        assert took < STOP_WITHIN and standby.popen.returncode == 0, (took, standby.output[-3000:])
        proxy.cut()
        time.sleep(1.5)  # a tick meets the missing database
    finally:
        took = leader.terminate()
        if standby is not None and standby.popen.poll() is None:
            standby.terminate()
    assert took < STOP_WITHIN, (took, leader.output[-3000:])
    assert "Traceback" not in leader.output, leader.output[-3000:]


def test_slack_socket_mode_stops_while_the_database_does_not_answer(database):
    proxy, env = database
    with FakeSlack() as fake:
        env = env | {"SLACK_BOT_TOKEN": fake.bot_token, "SLACK_APP_TOKEN": fake.app_token, "SLACK_API_URL": fake.api_url}
        process = Process(env, "slack", "--socket")
        try:
            fake.wait_socket(timeout=60)
            proxy.hang()
            fake.user("U0DEMOANA1", name="ana", real_name="Ana", tz="Asia/Kolkata")
            threading.Thread(target=lambda: _quietly(lambda: fake.socket_send(
                *fake.socket_payload(fake.slash("U0DEMOANA1", "/credits", "")), timeout=30)), daemon=True).start()
            time.sleep(1)
        finally:
            took = process.terminate()
    assert took < STOP_WITHIN, (took, process.output[-3000:])


def test_a_process_still_starting_stops(database):
    """The Bot API accepts the connection and never answers getMe: the start is abandoned."""
    _, env = database
    with TcpProxy("127.0.0.1", 9) as silent:
        silent.hang()
        process = Process(env | {"TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{silent.port}"},
                          "telegram")
        time.sleep(3)  # well into the start
        assert process.popen.poll() is None, process.output
        took = process.terminate()
    assert took < STOP_WITHIN, (took, process.output[-3000:])
    assert "Traceback" not in process.output, process.output[-3000:]


def _quietly(call) -> None:  # type: ignore[no-untyped-def]
    try:
        call()
    except Exception:  # noqa: BLE001 - the process is being stopped under it; only its stop is tested
        pass
