"""`headstrt telegram` and `headstrt web` as an operator runs them: real processes with the environment
the README documents, talking to the fake Bot API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from tests.adapters.telegram.test_telegram_web import free_port
from tests.fakes.telegram_server import FakeTelegram

ROOT = Path(__file__).resolve().parents[3]
CHEN = 7000000001  # the demo's individual client on Telegram


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=20)
    assert process.returncode == 0, out
    return out


def test_the_polling_process_answers_and_stops_cleanly_on_sigterm(tmp_path):
    with FakeTelegram() as fake:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'tg.db'}", "PYTHONPATH": str(ROOT),
               "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url}
        for args in (("db", "upgrade"), ("demo",)):
            subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, cwd=ROOT, check=True,
                           capture_output=True, timeout=120)
        process = subprocess.Popen([sys.executable, "-m", "bot.cli", "telegram"], env=env, cwd=ROOT, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            fake.wait_for(lambda f: any(c.method == "getUpdates" for c in f.calls), timeout=30)
            assert fake.commands  # the command menu was set on start
            fake.deliver(fake.message(CHEN, "/credits", ))
            fake.wait_for(lambda f: len(f.sent(CHEN)) == 1, timeout=15)
        finally:
            out = stop(process)
        assert "Your credits" in fake.last(CHEN).text
        assert "Traceback" not in out


def test_the_web_process_refuses_to_start_without_a_webhook_secret(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}", "PYTHONPATH": str(ROOT),
           "TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9"}
    env.pop("TELEGRAM_WEBHOOK_SECRET", None)
    done = subprocess.run([sys.executable, "-m", "bot.cli", "web", "--port", str(free_port())], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "TELEGRAM_WEBHOOK_SECRET" in done.stderr


def test_the_web_process_serves_health_without_any_chat_configured(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}", "PYTHONPATH": str(ROOT)}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   capture_output=True, timeout=120)
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "web", "--host", "127.0.0.1", "--port", str(port)],
                               env=env, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/health").json()["status"] == "ok"
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        else:
            raise AssertionError("web process did not come up")
        assert httpx.post(f"http://127.0.0.1:{port}/telegram/webhook", content=b"{}").status_code == 404
    finally:
        stop(process)
