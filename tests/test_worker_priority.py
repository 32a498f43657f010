"""A `headstrt worker` runs below the receiving processes (HEADSTRT_WORKER_NICE, default 10): on a machine
they share, a Slack ack (timed at 3 s) gets the CPU before work that is queued anyway; and a receiving
process gives its store threads the GIL back quickly."""

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


def test_a_receiving_process_hands_its_store_threads_the_gil_within_half_a_millisecond() -> None:
    # in a child process, as `headstrt web`, `slack --socket` and `telegram` do at start (bot.cli)
    code = ("import sys; from bot.process import quick_thread_switches; before = sys.getswitchinterval(); "
            "quick_thread_switches(); print(before, sys.getswitchinterval())")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         timeout=60)
    before, after = (float(x) for x in out.stdout.split())
    assert before == 0.005 and after == 0.0005
