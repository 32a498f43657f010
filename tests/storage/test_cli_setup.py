"""Every `headstrt` command before set-up, as a careless operator runs it, against each bad database URL:
one line on stderr saying what is wrong and what to do, exit status 2, no traceback, and nothing created
on disk by looking. Every command runs through main() in this process (the whole matrix, quickly), and
a few of them, different ones for each URL, as real processes too (what an operator sees, all of it)."""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import make_engine
from storage.migrate import downgrade, upgrade
from tests.conftest import POSTGRES_URL
from tests.fakes.tcp_proxy import TcpProxy

ROOT = Path(__file__).resolve().parents[2]
PG = make_url(POSTGRES_URL)
SKIP_PG = os.environ.get("HEADSTRT_SKIP_POSTGRES") == "1"

# Every command that touches the database (i18n does not), with what it needs to get that far.
COMMANDS: list[tuple[str, ...]] = [
    ("console",), ("console", "--as", "zed"), ("experts", "search", "pricing"), ("experts", "slots", "priya.r"),
    ("experts", "import", "experts.csv"), ("credits", "show", "ana"), ("credits", "grant", "--person", "ana", "1"),
    ("demo",), ("tour",), ("db", "current"), ("web", "--port", "1"), ("telegram",), ("slack", "--socket"),
    ("scheduler",),
]


def headstrt(cwd: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), "TELEGRAM_BOT_TOKEN": "1:x",
           "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9", "TELEGRAM_WEBHOOK_SECRET": "s",
           "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "SLACK_SIGNING_SECRET": "s",
           "SLACK_API_URL": "http://127.0.0.1:9/api/"}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, cwd=cwd, capture_output=True, text=True,
                          input="", timeout=60)


_turn = itertools.count()


def every_command(cwd: Path, url: str, commands: list[tuple[str, ...]] = COMMANDS) -> dict[tuple[str, ...], subprocess.CompletedProcess[str]]:
    """Each command through main() in this process, and the next one in turn also as a real process (each
    command meets a few of the bad URLs that way)."""
    (cwd / "experts.csv").write_text("name,handle,timezone\nA,alpha,UTC\n", encoding="utf-8")
    results = {args: in_process(cwd, url, *args) for args in commands}
    real = commands[next(_turn) % len(commands)]
    results[("process", *real)] = headstrt(cwd, url, *real)
    return results


def in_process(cwd: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """main(args) with this environment, its exit status and what it printed, as a finished process."""
    from bot.cli import main

    saved = os.environ.copy()
    here = Path.cwd()
    out, err = io.StringIO(), io.StringIO()
    try:
        os.environ.update(DATABASE_URL=url, TELEGRAM_BOT_TOKEN="1:x", TELEGRAM_API_BASE_URL="http://127.0.0.1:9",
                          TELEGRAM_WEBHOOK_SECRET="s", SLACK_BOT_TOKEN="xoxb-1", SLACK_APP_TOKEN="xapp-1",
                          SLACK_SIGNING_SECRET="s", SLACK_API_URL="http://127.0.0.1:9/api/")
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(list(args))
            except SystemExit as exit_:
                status = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        os.chdir(here)
        os.environ.clear()
        os.environ.update(saved)
    return subprocess.CompletedProcess(list(args), status, out.getvalue(), err.getvalue())


def assert_one_line(results: dict[tuple[str, ...], subprocess.CompletedProcess[str]], says: str) -> None:
    for args, done in results.items():
        lines = done.stderr.splitlines()
        assert done.returncode == 2, (args, done.returncode, done.stderr[-2000:])
        assert len(lines) == 1 and lines[0].startswith("headstrt: "), (args, done.stderr[-2000:])
        assert says in lines[0], (args, lines[0])
        assert done.stdout == "", (args, done.stdout)


def files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_a_missing_sqlite_file_is_reported_and_not_created(tmp_path):
    url = f"sqlite:///{tmp_path / 'missing.db'}"
    results = every_command(tmp_path, url)
    with ThreadPoolExecutor(2) as pool:  # what used to create an empty file, as real processes
        results |= dict(zip([("process", "console"), ("process", "web")],
                            pool.map(lambda args: headstrt(tmp_path, url, *args), [("console",), ("web",)])))
    assert_one_line(results, f"there is no database at {tmp_path / 'missing.db'}: run `headstrt db upgrade`")
    assert files(tmp_path) == {"experts.csv"}  # no database, no -wal, no lock file
    # the command that creates it does
    assert headstrt(tmp_path, url, "db", "upgrade").returncode == 0
    assert (tmp_path / "missing.db").exists()


def test_an_unmigrated_sqlite_file_is_reported_and_left_as_it_was(tmp_path):
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()  # an empty file, as `touch` or a mistyped path would leave
    results = every_command(tmp_path, f"sqlite:///{path}")
    assert_one_line(results, f"the database at {path} has no schema yet: run `headstrt db upgrade`")
    assert files(tmp_path) == {"experts.csv", "empty.db"} and path.stat().st_size == 0


def test_a_schema_behind_the_code_is_reported_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    upgrade(engine, "0003")
    engine.dispose()
    results = every_command(tmp_path, url, [("credits", "show", "ana"), ("db", "current"), ("web", "--port", "1"),
                                            ("scheduler",)])
    assert_one_line(results, "the schema is behind (at 0003, this version needs ")


def test_a_file_that_is_not_a_database(tmp_path):
    (tmp_path / "notes.db").write_text("shopping list\n" * 100, encoding="utf-8")
    results = every_command(tmp_path, f"sqlite:///{tmp_path / 'notes.db'}", [("demo",), ("db", "current")])
    assert_one_line(results, "is not a SQLite database")


@pytest.mark.parametrize(("url", "says"), [
    ("not a url", "DATABASE_URL 'not a url' is not a database URL: use sqlite:///FILE or postgresql://"),
    ("mysql://root:hunter2@127.0.0.1/headstrt", "unsupported database: mysql"),
    ("postgresql+psycopg2://u@127.0.0.1/d", "unsupported database driver: postgresql+psycopg2"),
    ("postgresql://u:hunter2@127.0.0.1:port/d", "is not a database URL"),
])
def test_urls_that_cannot_work_are_refused_before_anything(tmp_path, url, says):
    results = every_command(tmp_path, url, [*COMMANDS, ("db", "upgrade")])
    assert_one_line(results, says)
    assert all("hunter2" not in done.stderr for done in results.values())  # the password is never shown
    assert files(tmp_path) == {"experts.csv"}


@pytest.mark.skipif(SKIP_PG, reason="HEADSTRT_SKIP_POSTGRES=1")
def test_a_postgresql_port_where_nothing_listens(tmp_path):
    with TcpProxy(PG.host or "127.0.0.1", PG.port or 5432) as proxy:
        proxy.cut()  # a port nobody listens on
        url = f"postgresql://postgres@127.0.0.1:{proxy.port}/test"
        results = every_command(tmp_path, url, [*COMMANDS, ("db", "upgrade")])
    assert_one_line(results, f"cannot connect to the database: is PostgreSQL running on 127.0.0.1:{proxy.port}?")


@pytest.mark.skipif(SKIP_PG, reason="HEADSTRT_SKIP_POSTGRES=1")
def test_a_postgresql_database_that_does_not_exist(tmp_path):
    url = PG.set(database="headstrt_no_such_db").render_as_string(hide_password=False)
    results = every_command(tmp_path, url, [*COMMANDS, ("db", "upgrade")])
    assert_one_line(results, 'database "headstrt_no_such_db" does not exist on ')


@pytest.mark.skipif(SKIP_PG, reason="HEADSTRT_SKIP_POSTGRES=1")
def test_a_postgresql_user_that_does_not_exist(tmp_path):
    url = PG.set(username="headstrt_nobody").render_as_string(hide_password=False)
    results = every_command(tmp_path, url, [("credits", "show", "ana"), ("db", "upgrade")])
    assert_one_line(results, 'has no user "headstrt_nobody": check the user in DATABASE_URL')


@pytest.mark.skipif(SKIP_PG, reason="HEADSTRT_SKIP_POSTGRES=1")
def test_an_unmigrated_and_a_behind_postgresql_schema(tmp_path):
    with schema_url("hs_cli") as url:
        assert_one_line(every_command(tmp_path, url), "has no schema yet: run `headstrt db upgrade`")
        engine = make_engine(url)
        upgrade(engine)
        downgrade(engine, "0003")
        engine.dispose()
        results = every_command(tmp_path, url, [("experts", "search"), ("db", "current"), ("telegram",)])
        assert_one_line(results, "the schema is behind (at 0003")
        assert headstrt(tmp_path, url, "db", "upgrade").returncode == 0
        done = headstrt(tmp_path, url, "db", "current")
        assert done.returncode == 0 and done.stdout.strip().endswith("(head)")


class schema_url:  # noqa: N801 - used like a function
    """A fresh PostgreSQL schema, as a DATABASE_URL whose search_path points at it; dropped after."""

    def __init__(self, prefix: str, port: int | None = None) -> None:
        import uuid

        self.schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
        self.url = PG.set(port=port or PG.port, query={"options": f"-csearch_path={self.schema},public"}) \
            .render_as_string(hide_password=False)

    def __enter__(self) -> str:
        admin = make_engine(POSTGRES_URL, pool_size=1)
        with admin.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public"))
            conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        admin.dispose()
        return self.url

    def __exit__(self, *exc: object) -> None:
        admin = make_engine(POSTGRES_URL, pool_size=1)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
        admin.dispose()


def test_db_upgrade_says_what_it_cannot_create_or_upgrade(tmp_path):
    done = in_process(tmp_path, f"sqlite:///{tmp_path / 'no' / 'such' / 'folder.db'}", "db", "upgrade")
    assert done.returncode == 2 and done.stderr.strip() == (
        f"headstrt: cannot create the SQLite database {tmp_path / 'no' / 'such' / 'folder.db'}: "
        f"the folder {tmp_path / 'no' / 'such'} does not exist")
    newer = tmp_path / "newer.db"
    engine = make_engine(f"sqlite:///{newer}")
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_future'"))
    engine.dispose()
    for args in (("db", "upgrade"), ("db", "current"), ("demo",)):
        done = in_process(tmp_path, f"sqlite:///{newer}", *args)
        assert done.returncode == 2 and "is at 0099_future, which this version of headstrt does not know" in done.stderr
