"""A `headstrt worker` runs below the receiving processes (HEADSTRT_WORKER_NICE, default 10): on a machine
they share, a Slack ack (timed at 3 s) gets the CPU before work that is queued anyway; and a receiving
process hands the GIL between its event loop and its database threads every millisecond."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import worker_settings

ROOT = Path(__file__).resolve().parents[1]


def test_the_worker_niceness_setting() -> None:
    assert worker_settings({}).nice == 10
    assert worker_settings({"HEADSTRT_WORKER_NICE": "0"}).nice == 0
    assert worker_settings({"HEADSTRT_WORKER_NICE": "19"}).nice == 19
    for bad in ("20", "-5", "high"):
        with pytest.raises(ValueError, match="HEADSTRT_WORKER_NICE"):
            worker_settings({"HEADSTRT_WORKER_NICE": bad})


@pytest.mark.parametrize("niceness", [0, 7])
def test_lower_priority_lowers_this_process_only_by_that_much(niceness: int) -> None:
    # in a child process: the test run itself keeps its priority
    code = ("import os; from bot.process import lower_priority; before = os.nice(0); "
            f"lower_priority({niceness}); print(os.nice(0) - before)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         timeout=60)
    assert int(out.stdout.strip()) == niceness


def test_a_receiving_process_switches_threads_every_millisecond() -> None:
    # in a child process: the web app (bot.web.make_app, which `headstrt web` builds) sets it, as
    # `headstrt slack --socket` and `headstrt telegram` do at start
    code = ("import sys; from bot.web import make_app; before = sys.getswitchinterval(); "
            "make_app(None); print(before, sys.getswitchinterval())")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         timeout=60)
    before, after = (float(x) for x in out.stdout.split())
    assert before == 0.005 and after == 0.001
