"""The CLI's progress bar: drawn in place on a terminal, nothing at all otherwise."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

from bot.progress import progress_bar

ROOT = Path(__file__).resolve().parents[1]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_on_a_terminal_and_nothing_elsewhere():
    terminal = Terminal()
    with progress_bar("importing", 3000, terminal) as show:
        for done in (1000, 2000, 3000):
            show(done)
    text = terminal.getvalue()
    assert text.startswith("\rimporting [") and text.endswith("] 3,000/3,000\n")
    assert "#" * 30 in text
    piped = io.StringIO()
    with progress_bar("importing", 3000, piped) as show:
        show(3000)
    assert piped.getvalue() == ""


def test_the_import_draws_it_when_stderr_is_a_terminal(tmp_path):
    sheet = tmp_path / "e.csv"
    sheet.write_text("name,handle,timezone\n" + "".join(f"E {n},e{n:04},UTC\n" for n in range(1500)), encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], env=env, check=True, capture_output=True)
    main, child = pty.openpty()
    done = subprocess.run([sys.executable, "-m", "bot.cli", "experts", "import", str(sheet)], env=env, stderr=child,
                          stdout=subprocess.PIPE, text=True, timeout=120)
    os.close(child)
    drawn = os.read(main, 65536).decode()
    os.close(main)
    assert done.returncode == 0 and "imported 1500 experts: 1500 new" in done.stdout
    assert "importing [" in drawn and "1,500/1,500" in drawn
