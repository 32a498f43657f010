"""Setting a programme up from nothing with the headstrt command, on SQLite and PostgreSQL: programmes,
the members CSV (a good file, a re-import, a bad file that imports nothing), companies' allocations, and
a staff member of one programme who cannot see or change the other from the command line."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, select, text

from bot.cli import main
from core.credit_service import balance
from core.clock import SystemClock
from storage.models import CompanyRow, PersonRow, ProgrammeStaffRow
from storage.uow import SqlUnitOfWork
from tests.conftest import POSTGRES_URL

EXPERTS = Path(__file__).resolve().parents[2] / "examples" / "experts.csv"
MEMBERS = Path(__file__).resolve().parents[2] / "examples" / "members.csv"


@pytest.fixture
def headstrt(db, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    """Run `headstrt ...` in-process against the test database; returns (status, stdout, stderr)."""
    if db.dialect.name == "postgresql":
        with db.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar()
        monkeypatch.setenv("DATABASE_URL", f"{POSTGRES_URL}?options={quote(f'-csearch_path={schema},public')}")
    else:
        monkeypatch.setenv("DATABASE_URL", db.url.render_as_string(hide_password=False))

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            status = main(list(args))
        except SystemExit as stop:  # argparse refusing a value: status 2, before anything runs
            status = int(stop.code or 0)
        out = capsys.readouterr()
        return status, out.out, out.err

    return run


def count(db, table) -> int:  # type: ignore[no-untyped-def]
    with db.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar() or 0


def available(db, handle: str) -> int:  # type: ignore[no-untyped-def]
    with SqlUnitOfWork(db, SystemClock()) as u:
        person = u.people.by_handle(handle)
        return balance(u, person.id).available


def test_a_programme_set_up_from_nothing(headstrt, db, tmp_path):
    status, out, _ = headstrt("programmes", "create", "Spring cohort", "--pairing", "triage-first", "--lengths",
                              "30,60", "--credits-per-founder", "2", "--credits-per-company", "10")
    assert status == 0 and "triage-first, lengths 30,60, 2 credits per founder, 10 per company" in out
    assert headstrt("programmes", "create", "Spring cohort", "--pairing", "self-select", "--lengths", "30")[0] == 1
    status, _, err = headstrt("programmes", "create", "X", "--pairing", "whatever", "--lengths", "30")
    assert status == 2 and "use one of self-select, admin-assigned, triage-first" in err
    status, _, err = headstrt("programmes", "create", "X", "--pairing", "self-select", "--lengths", "20")
    assert status == 2 and "meeting length '20'" in err
    status, out, _ = headstrt("members", "import", str(MEMBERS))
    assert status == 0 and "imported 5 people: 5 new, 0 updated, 2 new companies" in out
    # Ana: 10 for Acme (shared) + 2 of her own; Ben shares Acme's 10.
    assert available(db, "ana") == 12000 and available(db, "ben") == 12000
    status, out, _ = headstrt("experts", "import", str(EXPERTS), "--programme", "Spring cohort")
    assert status == 0
    status, out, _ = headstrt("programmes", "list")
    assert "Spring cohort: triage-first" in out and "2 companies, 3 founders, 10 experts on the roster; staff: @sam" in out

    # A re-import updates by handle, and gives nobody their allocation twice.
    changed = tmp_path / "members.csv"
    changed.write_text(MEMBERS.read_text(encoding="utf-8").replace("Ana Souza", "Ana B. Souza"), encoding="utf-8")
    status, out, _ = headstrt("members", "import", str(changed))
    assert status == 0 and "0 new, 5 updated, 0 new companies, 0 credits allocated" in out
    assert available(db, "ana") == 12000
    with db.connect() as conn:
        assert conn.execute(select(PersonRow.name).where(PersonRow.handle == "ana")).scalar() == "Ana B. Souza"

    # Raising the allocation tops everyone up once; a company can have its own.
    status, out, _ = headstrt("programmes", "set", "Spring cohort", "--credits-per-founder", "3", "--as", "sam")
    assert status == 0 and "topped up 0 companies and 3 founders: 3 credits" in out
    assert headstrt("programmes", "set", "Spring cohort", "--credits-per-founder", "3")[1].count("topped up") == 0
    status, out, _ = headstrt("companies", "set", "Acme Robotics", "--programme", "Spring cohort", "--credits", "15")
    assert status == 0 and "15 credits of its own; topped up 5 credits" in out
    assert available(db, "ana") == 15000 + 3000

    status, out, _ = headstrt("experts", "rules", "priya.r", "--min-notice", "24h", "--daily-cap", "2", "--as", "sam")
    assert status == 0 and "notice 1440 min, horizon 60 days, buffer 0 min, daily cap 2" in out
    assert "is paused" in headstrt("experts", "pause", "priya.r", "--note", "holiday")[1]
    assert "takes requests again" in headstrt("experts", "resume", "priya.r", "--as", "sam")[1]
    status, out, _ = headstrt("credits", "revoke", "--company", "Acme Robotics", "5", "--as", "sam")
    assert status == 0 and "took back 5 programme credits from Acme Robotics" in out
    status, _, err = headstrt("credits", "revoke", "--company", "Acme Robotics", "100")
    assert status == 1 and "only 10 credits can be taken back" in err


def test_a_bad_members_file_names_every_bad_row_and_imports_nothing(headstrt, db, tmp_path):
    headstrt("programmes", "create", "Spring", "--pairing", "self-select", "--lengths", "30,60")
    headstrt("experts", "import", str(EXPERTS))
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "name,handle,email,slack_user_id,telegram_user_id,timezone,language,company,programme,role\n"
        "Good One,good,,,,Europe/London,en,Acme,Spring,founder\n"
        "No Company,nocomp,,,,Europe/London,,,Spring,founder\n"
        "Bad Zone,badzone,,,,Mars/Base,,Acme,Spring,founder\n"
        "Unknown Programme,lost,,,,UTC,,Acme,Winter,founder\n"
        "Dup,good,,,,UTC,,,,individual\n"
        "Staff Co,staffco,,,,UTC,,Acme,Spring,staff\n"
        "Priya,priya.r,,,,Asia/Kolkata,,Acme,Spring,founder\n"
        "Bad Mail,badmail,not-an-email,U123,,UTC,klingon,,,boss\n",
        encoding="utf-8")
    status, _, err = headstrt("members", "import", str(bad))
    assert status == 1 and "nothing imported" in err
    for expected in ("line 3, company: a founder needs a company", "line 4, timezone", "line 6, handle",
                     "line 7, company: staff have no company", "line 9, email", "line 9, slack_user_id",
                     "line 9, language", "line 9, role"):
        assert expected in err, expected
    assert count(db, PersonRow) == 10 and count(db, CompanyRow) == 0  # only the experts from before
    # Rows that parse but clash with the database are line errors too, and still nothing is imported.
    clash = tmp_path / "clash.csv"
    clash.write_text("name,handle,timezone,company,programme,role\n"
                     "Good One,good,UTC,Acme,Spring,founder\n"
                     "Lost,lost,UTC,Acme,Winter,founder\n"
                     "Priya,priya.r,Asia/Kolkata,Acme,Spring,founder\n", encoding="utf-8")
    status, _, err = headstrt("members", "import", str(clash))
    assert status == 1
    assert 'line 3, programme: no programme called "Winter"' in err and "line 4, handle: @priya.r is an expert" in err
    assert count(db, CompanyRow) == 0 and count(db, PersonRow) == 10
    status, _, err = headstrt("members", "import", str(tmp_path / "missing.csv"))
    assert status == 1 and "cannot read" in err


def test_staff_of_one_programme_cannot_see_or_change_the_other_from_the_command_line(headstrt, db, tmp_path):
    for name in ("Spring", "Autumn"):
        headstrt("programmes", "create", name, "--pairing", "self-select", "--lengths", "30")
    people = tmp_path / "people.csv"
    people.write_text("name,handle,timezone,company,programme,role\n"
                      "Sam,sam,UTC,,Spring,staff\nTim,tim,UTC,,Autumn,staff\n"
                      "Ana,ana,UTC,Acme,Spring,founder\nOla,ola,UTC,Beta,Autumn,founder\n", encoding="utf-8")
    assert headstrt("members", "import", str(people))[0] == 0
    one = tmp_path / "one.csv"
    one.write_text("name,handle,timezone,availability\nMax,max,UTC,Mon 09:00-12:00\n", encoding="utf-8")
    assert headstrt("experts", "import", str(one), "--programme", "Autumn")[0] == 0

    status, out, _ = headstrt("programmes", "list", "--as", "sam")
    assert "Spring" in out and "Autumn" not in out and "@tim" not in out
    assert "Beta" not in headstrt("companies", "list", "--as", "sam")[1]
    status, _, err = headstrt("credits", "grant", "--company", "Beta", "5", "--as", "sam")
    assert status == 1 and "only staff of this programme" in err
    assert headstrt("credits", "grant", "--person", "ola", "5", "--as", "sam")[0] == 1
    assert headstrt("credits", "revoke", "--company", "Beta", "all", "--as", "sam")[0] == 1
    assert headstrt("experts", "pause", "max", "--as", "sam")[0] == 1
    assert headstrt("experts", "rules", "max", "--daily-cap", "1", "--as", "sam")[0] == 1
    status, _, err = headstrt("programmes", "set", "Autumn", "--credits-per-founder", "9", "--as", "sam")
    assert status == 1 and "no programme 'Autumn' among yours" in err
    assert headstrt("companies", "set", "Beta", "--programme", "Autumn", "--credits", "9", "--as", "sam")[0] == 1
    sneaky = tmp_path / "sneaky.csv"
    sneaky.write_text("name,handle,timezone,company,programme,role\n"
                      "Ola Taken,ola,UTC,Acme,Spring,founder\nSam2,tim,UTC,,Spring,staff\n"
                      "New,newbie,UTC,Beta2,Autumn,founder\n", encoding="utf-8")
    status, _, err = headstrt("members", "import", str(sneaky), "--as", "sam")
    assert status == 1
    assert "line 2, handle: @ola belongs to another programme" in err
    assert "line 3, handle: @tim belongs to another programme" in err
    assert 'line 4, programme: "Autumn" is not one of your programmes' in err
    assert available(db, "ola") == 0
    with SqlUnitOfWork(db, SystemClock()) as u:
        assert u.experts.by_handle("max").paused_at is None
        ola = u.people.by_handle("ola")
        assert u.people.company(ola.company_id).name == "Beta"
    # Within their own programme the same commands work.
    assert headstrt("credits", "grant", "--company", "Acme", "5", "--as", "sam")[0] == 0
    assert available(db, "ana") == 5000
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ProgrammeStaffRow)).scalar() == 2


def test_a_programme_sets_how_long_client_and_mentor_can_write(headstrt, db):
    status, out, _ = headstrt("programmes", "create", "Relay cohort", "--pairing", "self-select", "--lengths", "30")
    assert status == 0 and "messages between the sides for 30 days after the last meeting" in out
    status, out, _ = headstrt("programmes", "set", "Relay cohort", "--relay-days", "7")
    assert status == 0
    assert "messages between the sides for 7 days" in headstrt("programmes", "list")[1]
    status, _, _ = headstrt("programmes", "set", "Relay cohort", "--relay-days", "-1")
    assert status != 0
    assert "messages between the sides for 7 days" in headstrt("programmes", "list")[1]
