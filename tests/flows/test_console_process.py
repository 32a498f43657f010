"""The console as a user runs it: real processes on one SQLite file, input piped in.
A conversation started in one process is continued by the next one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run(tmp_path):  # type: ignore[no-untyped-def]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'console.db'}", "PYTHONPATH": str(ROOT)}

    def headstrt(*args: str, stdin: str = "") -> str:
        done = subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
                              env=env, cwd=ROOT, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    headstrt("db", "upgrade")
    headstrt("demo")
    return headstrt


def test_a_second_process_continues_the_conversation(run):
    first = run("console", "--as", "ana", stdin="/settings\nChange timezone\n")
    assert "Which timezone are you in?" in first
    second = run("console", "--as", "ana", stdin="Kolkata\n")  # a new process, same database
    assert "Timezone set to Asia/Kolkata" in second


def test_switching_person_shows_what_waits_for_them(run):
    out = run("console", "--as", "ana", stdin="/help\n/as sam\n/help\n/as nobody\n/quit\n/help\n")
    assert "@ana> /help" in out and "-- you are now @sam --" in out
    assert "/grant" in out  # sam is staff
    assert "someone the bot has not met yet" in out
    assert out.count("Here is what I can do") == 2  # nothing after /quit


def test_a_new_handle_meets_the_bot_for_the_first_time(run):
    out = run("console", "--as", "zara", stdin="hello\nSingapore\n")
    assert "Welcome to Headstrt" in out and "Timezone set to Asia/Singapore" in out


def test_a_file_for_the_person_is_saved_where_headstrt_files_dir_says(tmp_path, uow, clock):
    from bot.adapters.console.chat import ConsoleChat
    from bot.dispatcher import Dispatcher
    from bot.flows import all_flows
    from bot.replies import FileOut, Reply
    from bot.router import Router
    from tests import factories as f

    with uow() as u:
        ana = f.person(u, "ana")
        u.outbox.add("ics", ana.id, "console", "ana",
                     Reply("Your invite", file=FileOut("session-1.ics", "text/calendar", b"BEGIN:VCALENDAR")).to_json())
        u.commit()
    chat = ConsoleChat(Dispatcher(uow, clock, all_flows(), Router(["console"])), uow, "ana", files_dir=tmp_path)
    lines = chat.pending()
    [saved] = list(tmp_path.iterdir())
    assert saved.read_bytes() == b"BEGIN:VCALENDAR" and any(str(saved) in line for line in lines)
