"""The headstrt command on a SQLite file, as an operator would run it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from storage.db import make_engine
from storage.models import CreditMovementRow, ExpertRow, PersonRow, WalletRow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "experts.csv"


@pytest.fixture
def database(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 0
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _count(engine, column):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(column)).scalar()


def test_import_is_all_or_nothing_and_reports_every_bad_row(database, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "name,handle,timezone,topics,pro_bono,rate,availability\n"
        "Good One,good,Europe/Berlin,Pricing,yes,,Mon-Fri 09:00-12:00\n"
        "Bad Zone,badzone,Europe/Pariss,Pricing,yes,,Mon 09:00-10:00\n"
        "Bad Hours,badhours,Asia/Kolkata,Hiring,no,1.5x,Mnday 09:00-12:00\n",
        encoding="utf-8",
    )
    assert main(["experts", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "nothing imported" in err
    assert "line 3, timezone" in err and "Europe/Paris" in err
    assert "line 4, availability" in err
    assert _count(database, ExpertRow) == 0


def test_import_then_reimport_updates_by_handle(database, tmp_path, capsys):
    assert main(["experts", "import", str(EXAMPLES)]) == 0
    first = _count(database, ExpertRow)
    assert first >= 8
    one = tmp_path / "one.csv"
    one.write_text("name,handle,timezone,headline,availability\nPriya R,priya.r,Asia/Kolkata,New headline,Mon 10:00-11:00\n",
                   encoding="utf-8")
    assert main(["experts", "import", str(one)]) == 0
    assert "0 new, 1 updated" in capsys.readouterr().out
    assert _count(database, ExpertRow) == first
    with database.connect() as conn:
        assert "New headline" in conn.execute(select(ExpertRow.headline)).scalars().all()


def test_import_refuses_a_chat_id_owned_by_someone_else(database, tmp_path, capsys):
    first = tmp_path / "a.csv"
    first.write_text("name,handle,timezone,telegram_user_id\nA,alpha,UTC,42\n", encoding="utf-8")
    assert main(["experts", "import", str(first)]) == 0
    second = tmp_path / "b.csv"
    second.write_text("name,handle,timezone,telegram_user_id\nB,beta,UTC,42\n", encoding="utf-8")
    assert main(["experts", "import", str(second)]) == 1
    assert "line 2, telegram_user_id: 42 already belongs to @alpha" in capsys.readouterr().err
    assert _count(database, ExpertRow) == 1


def test_demo_credits_and_search(database, capsys):
    assert main(["demo"]) == 0
    assert main(["demo"]) == 0  # idempotent
    assert _count(database, WalletRow) == 3
    assert main(["credits", "show", "ana"]) == 0
    out = capsys.readouterr().out
    assert "12 credits available" in out and "Programme allocation (Headstrt Accelerator)" in out
    assert main(["credits", "grant", "--person", "ana", "--source", "individual", "--key", "k1", "1.5"]) == 0
    assert main(["credits", "grant", "--person", "ana", "--source", "individual", "--key", "k1", "1.5"]) == 0
    out = capsys.readouterr().out
    assert "granted 1.5 individual credits to @ana" in out and "already applied" in out
    assert main(["credits", "show", "ana"]) == 0
    assert "13.5 credits available" in capsys.readouterr().out
    assert main(["credits", "grant", "--company", "Acme Robotics", "0.0001"]) == 1
    assert main(["experts", "search", "fundraising", "--tz", "Europe/London"]) == 0
    assert "@" in capsys.readouterr().out
    assert main(["experts", "slots", "priya.r", "--days", "14"]) == 0
    assert "Asia/Kolkata" in capsys.readouterr().out
    assert main(["tour"]) == 0
    assert "Nothing was saved" in capsys.readouterr().out


def test_the_import_refuses_a_founder_handle_unless_linking_is_asked_for(database, tmp_path, capsys):
    assert main(["demo"]) == 0
    capsys.readouterr()
    sheet = tmp_path / "ana.csv"
    sheet.write_text("name,handle,email,timezone\nMallory,ana,evil@example.com,UTC\n", encoding="utf-8")
    assert main(["experts", "import", str(sheet)]) == 1
    err = capsys.readouterr().err
    assert "nothing imported" in err and "line 2, handle: @ana is " in err and "--link-existing" in err
    assert main(["experts", "import", "--link-existing", str(sheet)]) == 0
    assert "1 existing people made experts" in capsys.readouterr().out
    with database.connect() as conn:
        name, email = conn.execute(select(PersonRow.name, PersonRow.email).where(PersonRow.handle == "ana")).one()
    assert name != "Mallory" and email == "evil@example.com"  # her own name stays; the email she lacked is filled


def test_numbers_out_of_range_are_one_line_not_a_traceback(database, capsys):
    assert main(["demo"]) == 0
    capsys.readouterr()
    for amount, says in (("99999999999999999999", "is too large for a credit amount"),
                         ("100000.001", "grant at most 100000 credits at a time"),
                         ("1e999999999", "is too large for a credit amount"),
                         ("NaN", "not a credit amount"), ("-5", "grant a positive amount")):
        assert main(["credits", "grant", "--person", "ana", amount]) == 1
        err = capsys.readouterr().err
        assert says in err and len(err.splitlines()) == 1, (amount, err)
    for args in (["experts", "slots", "priya.r", "--days", "99999999999"], ["experts", "slots", "priya.r", "--minutes", "0"],
                 ["experts", "search", "--limit", "\u00b2"], ["experts", "search", "--min-rating", "NaN"],
                 ["credits", "grant", "--person", "ana", "--key", "k" * 500, "1"], ["web", "--port", "99999"]):
        with pytest.raises(SystemExit) as exit_:
            main(args)
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and len(err.splitlines()) == 1 and "headstrt" in err, (args, err)
    assert main(["console", "--as", "x" * 40]) == 2
    assert "is not a handle" in capsys.readouterr().err


def test_control_characters_in_arguments_are_dropped(database, capsys):
    assert main(["demo"]) == 0
    assert main(["credits", "grant", "--person", "an\x00a", "--note", "for\x00 the\x1b demo", "--key", "k\x002", "1"]) == 0
    assert "granted 1 individual credits to @ana" in capsys.readouterr().out
    with database.connect() as conn:
        assert conn.execute(select(CreditMovementRow.note).where(CreditMovementRow.key == "grant:k2")).scalar() == "for the demo"


def test_outbox_status_shows_what_waits_per_platform(database, capsys):
    from datetime import UTC, datetime

    from storage.models import OutboxRow

    assert main(["outbox", "status"]) == 0
    assert "nothing waiting" in capsys.readouterr().out
    with database.begin() as conn:
        now = datetime.now(UTC)
        for key, platform, attempts, gave_up in (("a", "telegram", 0, None), ("b", "telegram", 2, None),
                                                 ("c", "slack", 1, now), ("d", "slack", 0, None)):
            conn.execute(OutboxRow.__table__.insert().values(
                key=key, platform=platform, chat_id="1", payload="{}", created_at=now, attempts=attempts,
                last_error="", gave_up_at=gave_up))
    assert main(["outbox", "status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["platform", "pending", "retrying", "given", "up", "oldest", "waiting"]
    assert lines[1].split()[:4] == ["slack", "1", "0", "1"] and lines[2].split()[:4] == ["telegram", "1", "1", "0"]
