"""How fast a typed time is read, per language (target: p99 <= 5 ms).

Each language reads its own corpus: the forms people type (issue 14's among them) and the bot's own displays
of 40 slots typed back. Wall time per call, and the CPU time of the calling thread (the same calls, without
the time other processes took the core away: on a shared machine that is what wall p99 mostly measures).
Cold: the first call of a process in a language (its Babel names, the zone list). The dateparser fallback
(words our grammar does not have) is timed apart: it is the slow path by design.

Run standalone: python -m bench.bench_typed_time
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime

from bench.harness import percentiles
from bot.i18n import DAY_PATTERN, TIME_PATTERN, WHEN_PATTERN
from bot.typed_time import read_typed_time
from bot.typed_time import vocabulary
from bot.typed_time.tokens import _zones

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
ZONE = {"en": "America/New_York", "es": "Europe/Madrid", "ru": "Europe/Moscow", "hi": "Asia/Kolkata"}
RUNS = 4000
TYPED = {
    "en": ["tomorrow 3pm", "at 3", "15h", "demain 15h", "tomorrow 25:00", "Mon 7 Dec 17:00", "Sun 7 Nov 1:30am",
           "Sun 14 Mar 2:30am", "next Tuesday afternoon", "in 2 hours", "quarter to 4 tomorrow", "Dec 7 3pm",
           "the 7th at 3pm", "3/5 2pm", "morgen 15 Uhr", "um 15 Uhr", "tonight at 8", "foo", "17"],
    "es": ["mañana a las 3", "mañana a las 3 de la tarde", "el próximo martes a las 10:30", "pasado mañana a las 9",
           "a las 3 y media", "en 2 horas", "7 de diciembre a las 17:00", "lun 7 dic 17:00", "7/12 17:00",
           "mañana al mediodía", "dom 31 oct 2:30", "esta tarde", "manana por la manana", "hola", "15 hs"],
    "ru": ["завтра в 15:00", "завтра в 3 часа дня", "в 2 ночи", "сегодня вечером", "в следующую пятницу в 12:00",
           "через 2 часа", "через полчаса", "7 декабря в 17:00", "пн 7 дек. 17:00", "7.12.2027 в 17:00", "в полдень",
           "в среду днём в 2", "вс 28 мар. 1:30", "привет", "завтра в 25:00"],
    "hi": ["कल 3 बजे", "कल दोपहर 3 बजे", "आज शाम 6 बजे", "सोमवार को 10 बजे", "अगले मंगलवार 15:00", "साढ़े 3 बजे",
           "2 घंटे में", "7 दिसंबर को 5 बजे शाम", "सोम 7 दिस॰ 17:00", "कल १५:००", "kal dopahar 3 baje", "डेढ़ बजे",
           "आधी रात", "नमस्ते", "रवि 7 नव॰ रात 1:30 बजे"],
}
FALLBACK = {  # read by dateparser's date and our hour
    "en": ["a week from tomorrow at 3pm", "next week"],
    "es": ["la próxima semana a las 15:00"],
    "ru": ["седьмое декабря в 15:00", "на следующей неделе"],
    "hi": ["a week from tomorrow at 3pm"],
}


def _shown(language: str) -> list[tuple[str, date | None]]:
    """40 slots over the next 60 days as the bot shows them, with the day on screen for a time alone."""
    zone, loc = ZONE[language], Locale.parse(language)
    out: list[tuple[str, date | None]] = []
    for k in range(40):
        at = NOW + timedelta(hours=1, minutes=15 * 97 * k)
        local = at.astimezone(ZoneInfo(zone))
        out.append((f"{format_datetime(at, WHEN_PATTERN, tzinfo=ZoneInfo(zone), locale=loc)} ({zone})", None))
        out.append((f"{format_datetime(at, DAY_PATTERN, tzinfo=ZoneInfo(zone), locale=loc)} "
                    f"{format_datetime(at, TIME_PATTERN, tzinfo=ZoneInfo(zone), locale=loc)}", None))
        out.append((format_datetime(at, TIME_PATTERN, tzinfo=ZoneInfo(zone), locale=loc), local.date()))
    return out


def _timed(calls: list[Callable[[], object]], runs: int) -> tuple[float, float, float, float]:
    """(wall p50, wall p99, cpu p50, cpu p99) in ms over `runs` calls cycling through `calls`."""
    wall: list[float] = []
    cpu: list[float] = []
    for i in range(runs):
        call = calls[i % len(calls)]
        c0 = time.thread_time_ns()
        t0 = time.perf_counter_ns()
        call()
        wall.append((time.perf_counter_ns() - t0) / 1e6)
        cpu.append((time.thread_time_ns() - c0) / 1e6)
    return (*percentiles(wall), *percentiles(cpu))


def _call(text: str, language: str, page: date | None = None) -> Callable[[], object]:
    return lambda: read_typed_time(text, zone=ZONE[language], language=language, now=NOW, day=page,
                                   grid=timedelta(minutes=15))


def run() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    load = os.getloadavg()[0]
    for language in ("en", "es", "ru", "hi"):
        vocabulary.lexicon.cache_clear()
        _zones.cache_clear()
        t0 = time.perf_counter()
        _call("tomorrow 3pm (UTC)", language)()
        cold = (time.perf_counter() - t0) * 1000
        calls = [_call(text, language) for text in TYPED[language]] + [_call(t, language, p) for t, p in _shown(language)]
        for call in calls:  # warm
            call()
        w50, w99, c50, c99 = _timed(calls, RUNS)
        rows.append((f"read a typed time, {language} ({len(calls)} texts)",
                     f"p50 {w50:.3f} ms, p99 {w99:.3f} ms (CPU p50 {c50:.3f} ms, p99 {c99:.3f} ms), "
                     f"first call {cold:.0f} ms"))
    fallback = [_call(text, language) for language, texts in FALLBACK.items() for text in texts]
    for call in fallback:
        call()
    w50, w99, c50, c99 = _timed(fallback, 300)
    rows.append(("dateparser fallback (words the grammar lacks)",
                 f"p50 {w50:.2f} ms, p99 {w99:.2f} ms (CPU p99 {c99:.2f} ms)"))
    rows.append(("machine load (1-minute average) when run", f"{load:.1f}"))
    return rows


def main() -> None:
    for name, result in run():
        print(f"{name:48s} {result}")


if __name__ == "__main__":
    main()
