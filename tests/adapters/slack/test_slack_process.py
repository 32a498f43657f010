"""`headstrt web` and `headstrt slack` as an operator starts them: clear refusals without the settings
the README says they need, and Slack's requests served by a real web process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.adapters.slack.harness import free_port
from tests.fakes.slack_server import FakeSlack

ROOT = Path(__file__).resolve().parents[3]


def base_env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}", "PYTHONPATH": str(ROOT)}
    for name in ("TELEGRAM_BOT_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        env.pop(name, None)
    return env


def headstrt(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_missing_slack_settings_are_refused_with_their_names(tmp_path):
    env = base_env(tmp_path) | {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": "http://127.0.0.1:9/api/"}
    done = headstrt(env, "web", "--port", str(free_port()))
    assert done.returncode != 0 and "SLACK_SIGNING_SECRET" in done.stderr
    done = headstrt(env, "slack", "--socket")
    assert done.returncode != 0 and "SLACK_APP_TOKEN" in done.stderr


def test_the_web_process_answers_slack_and_refuses_unsigned_requests(tmp_path):
    env = base_env(tmp_path)
    for args in (("db", "upgrade"), ("demo",)):
        assert headstrt(env, *args).returncode == 0
    with FakeSlack() as fake:
        port = free_port()
        env |= {"SLACK_BOT_TOKEN": fake.bot_token, "SLACK_SIGNING_SECRET": fake.signing_secret,
                "SLACK_API_URL": fake.api_url}
        process = subprocess.Popen([sys.executable, "-m", "bot.cli", "web", "--host", "127.0.0.1", "--port",
                                    str(port)], env=env, cwd=ROOT, text=True, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT)
        try:
            for _ in range(300):
                try:
                    httpx.get(f"http://127.0.0.1:{port}/health")
                    break
                except httpx.ConnectError:
                    time.sleep(0.05)
            fake.app_url = f"http://127.0.0.1:{port}/slack/events"
            fake.user("U0DEMOANA1", name="ana", real_name="Ana", tz="Asia/Kolkata")
            assert fake.post(fake.dm_event("U0DEMOANA1", "hello"), signed=False)[0] == 401
            assert fake.post(fake.slash("U0DEMOANA1", "/credits", ""))[0] == 200
            fake.wait_for(lambda f: len(f.messages(f.dm("U0DEMOANA1"))) == 1, timeout=15)
            assert "Your credits" in fake.last(fake.dm("U0DEMOANA1")).text
        finally:
            process.send_signal(signal.SIGTERM)
            out, _ = process.communicate(timeout=20)
        assert process.returncode == 0 and "Traceback" not in out, out
