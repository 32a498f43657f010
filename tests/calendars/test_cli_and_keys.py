"""`headstrt calendar ...` on a SQLite file as an operator runs it, and the secret's rotation: sealed with a
key from HEADSTRT_SECRET, opened with the previous one until `calendar rekey`, then with the new one only."""

from __future__ import annotations

import uuid

import caldav
import pytest

from bot.calendars.crypto import Sealer
from bot.cli import main
from core.calendar_service import CalendarProblem
from storage.db import make_engine
from storage.uow import SqlUnitOfWork
from tests import factories as f
from tests.calendars.servers import PASSWORD, USER, Feed, vcalendar, vevent


@pytest.fixture
def database(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CALENDAR_ALLOW_PRIVATE_ADDRESSES", "1")
    monkeypatch.setenv("PUBLIC_URL", "https://bot.example.com/")
    assert main(["db", "upgrade"]) == 0
    engine = make_engine(url)
    with SqlUnitOfWork(engine) as u:
        f.expert(u, "eve")
        u.commit()
    yield engine
    engine.dispose()


def test_sealing_survives_a_rotation_only_through_the_previous_secret():
    old = Sealer("old secret")
    sealed = old.seal("app password")
    assert "app password" not in sealed and old.open(sealed) == "app password"
    with pytest.raises(CalendarProblem) as lost:
        Sealer("new secret").open(sealed)
    assert lost.value.reason == "calendar_secret_unreadable"
    both = Sealer("new secret", ["old secret"])
    assert both.open(sealed) == "app password"
    assert Sealer("new secret").open(both.reseal(sealed)) == "app password"


def test_connect_status_refresh_and_feed_from_the_command_line(database, feeds, tmp_path, capsys):
    feeds.feeds["/eve.ics"] = Feed(vcalendar(vevent("a@x", ":20990305T100000Z", ":20990305T110000Z"),
                                             vevent("b@x", ":20300305T100000Z", ":20300305T110000Z")))
    assert main(["calendar", "connect", "eve", feeds.url("/eve.ics")]) == 0
    assert "feed calendar 127.0.0.1" in capsys.readouterr().out
    assert main(["calendar", "refresh", "eve"]) == 0
    assert capsys.readouterr().out.startswith("1 read, 0 unchanged, 0 failing")
    assert main(["calendar", "status"]) == 0
    out = capsys.readouterr().out
    assert "@eve #1 feed" in out and " ok;" in out

    assert main(["calendar", "connect", "eve", "ftp://example.com/x.ics"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a calendar address" in err

    feeds.feeds["/eve.ics"] = Feed(b"not a calendar")
    assert main(["calendar", "refresh"]) == 1
    assert "#1: calendar_not_icalendar" in capsys.readouterr().err
    assert main(["calendar", "status", "eve"]) == 0
    assert "FAILING x1" in capsys.readouterr().out

    assert main(["calendar", "feed", "eve"]) == 0
    first = capsys.readouterr().out.strip()
    assert first.startswith("https://bot.example.com/calendar/") and first.endswith(".ics")
    assert main(["calendar", "feed", "eve"]) == 0 and capsys.readouterr().out.strip() == first
    assert main(["calendar", "feed", "eve", "--rotate"]) == 0 and capsys.readouterr().out.strip() != first
    assert main(["calendar", "disconnect", "eve", "1"]) == 0
    assert main(["calendar", "status"]) == 0 and "no calendars connected" in capsys.readouterr().out


def test_caldav_from_the_command_line_and_a_key_rotation(database, radicale, tmp_path, capsys, monkeypatch):
    client = caldav.DAVClient(url=radicale.url + "/", username=USER, password=PASSWORD, enable_rfc6764=False)
    calendar = client.principal().make_calendar(name="Work", cal_id=f"cli-{uuid.uuid4().hex[:8]}")
    secret = tmp_path / "password"
    secret.write_text("wrong\n")
    assert main(["calendar", "connect", "eve", str(calendar.url), "--user", USER, "--password-file", str(secret)]) == 1
    assert "user name or app password was refused" in capsys.readouterr().err
    assert main(["calendar", "connect", "eve", str(calendar.url), "--user", USER]) == 1
    assert "--password-file" in capsys.readouterr().err
    secret.write_text(PASSWORD + "\n")
    assert main(["calendar", "connect", "eve", str(calendar.url), "--user", USER, "--password-file", str(secret)]) == 0
    assert "caldav calendar" in capsys.readouterr().out
    assert main(["calendar", "refresh"]) == 0
    capsys.readouterr()

    monkeypatch.setenv("HEADSTRT_SECRET", "the new secret")
    assert main(["calendar", "refresh"]) == 1  # the old key is gone: said, not crashed
    assert "calendar_secret_unreadable" in capsys.readouterr().err
    assert main(["calendar", "rekey"]) == 1  # nothing opens it: nothing changed
    capsys.readouterr()
    monkeypatch.setenv("HEADSTRT_SECRET_PREVIOUS", "test-secret-for-calendars")
    assert main(["calendar", "rekey"]) == 0
    assert "1 secret(s) sealed again" in capsys.readouterr().out
    monkeypatch.delenv("HEADSTRT_SECRET_PREVIOUS")
    assert main(["calendar", "refresh"]) == 0
