"""Run every benchmark and print one table: python -m bench (or ./dev bench).

`python -m bench slots discovery` runs only those; the slow ones (SLOW) run only when named:
`python -m bench scheduler`.
"""

from __future__ import annotations

import importlib
import platform
import sys
import time

SUITES = ("slots", "typed_time", "discovery", "booking", "dispatch", "telegram", "slack", "calendar", "scheduler",
          "import", "intake", "slack_split")
SLOW = ("scheduler", "import")  # minutes long (Telegram's 30 messages/s; 50,000 rows imported twice per database)


def main(argv: list[str]) -> int:
    chosen = argv or [s for s in SUITES if s not in SLOW]
    unknown = [s for s in chosen if s not in SUITES]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose from {SUITES}", file=sys.stderr)
        return 2
    print(f"# Headstrt benchmarks — Python {platform.python_version()}, {platform.machine()}, {time.strftime('%Y-%m-%d')}")
    for suite in chosen:
        module = importlib.import_module(f"bench.bench_{suite}")
        t0 = time.perf_counter()
        rows = module.run()
        print(f"\n## {suite} ({time.perf_counter() - t0:.0f} s)")
        for name, value in rows:
            print(f"- {name}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
