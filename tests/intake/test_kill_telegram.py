"""kill -9 of a real `headstrt telegram` process (long polling against the fake Bot API) while 40 updates
are in hand: after a restart every update took effect exactly once, every reply went out, and at most
the one message in flight per chat went out twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.fakes.telegram_server import FakeTelegram
from tests.intake.after_a_kill import wait_until_settled

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = [8100000000 + n for n in range(20)]


def start(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "telegram"], env=env, cwd=ROOT, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def sends(fake: FakeTelegram) -> list:  # type: ignore[type-arg]
    return [c for c in fake.calls if c.method == "sendMessage" and c.status == 200]


def test_kill_9_mid_batch_loses_nothing_and_repeats_at_most_one_message_per_chat(tmp_path):
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    with FakeTelegram() as fake:
        env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), "TELEGRAM_BOT_TOKEN": fake.token,
               "TELEGRAM_API_BASE_URL": fake.base_url, "HEADSTRT_HEARTBEAT_SECONDS": "0.5"}
        subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], env=env, cwd=ROOT, check=True,
                       capture_output=True, timeout=120)
        process = start(env)
        try:
            fake.wait_for(lambda f: any(c.method == "getUpdates" for c in f.calls), timeout=60)
            updates = []
            for person in PEOPLE:
                fake.user(person, first_name=f"P{person % 100}")
            for text_ in ("hello", "/credits"):  # two each: the second must come after the first
                for person in PEOPLE:
                    updates.append(fake.message(person, text_))
            for update in updates:
                fake.deliver(update)
            fake.wait_for(lambda f: len(sends(f)) >= 5, timeout=60)  # in the middle of the batch
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            before = len(sends(fake))
            assert before < 60, "the batch was over before the kill: the test proves nothing"
            restarted = time.monotonic()
            process = start(env)
            fake.wait_for(lambda f: len(sends(f)) > before, timeout=60)
            first_message = time.monotonic() - restarted
            after = wait_until_settled(url)
            stored, processed, rows, keys, unsent = after.stored, after.processed, after.rows, after.keys, after.unsent
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(20)
        ids = [u["update_id"] for u in updates]
        assert sorted(int(k) for k, _ in stored) == sorted(ids)  # each stored once
        assert {s for _, s in stored} == {"done"}
        assert processed == {f"u{i}" for i in ids}  # each took effect (once: the inbox's key)
        assert all(f"telegram:u{i}:r0" in keys for i in ids)  # each was answered
        assert unsent == 0
        calls = Counter(str(c.params["chat_id"]) for c in sends(fake))
        extra = {chat: calls[chat] - rows[chat] for chat in rows}
        assert all(0 <= n <= 1 for n in extra.values()), extra  # every row went; at most one went twice
        # each person's answers in order: the /credits answer after the hello one
        for person in PEOPLE:
            texts = [c.params["text"] for c in sends(fake) if c.params["chat_id"] == person]
            assert "credits" in texts[-1].lower(), [(c.method, c.params.get("text", "")[:30], c.status) for c in fake.calls if str(c.params.get("chat_id")) == str(person)]
        print(f"first message {first_message:.2f} s after the restart; repeats {sum(extra.values())}")
