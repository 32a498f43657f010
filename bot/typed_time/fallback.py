"""dateparser for the date part of a text our grammar has no words for ("December the seventh", "Thursday
week"). It only ever supplies a date: the hour stays ours, because dateparser fills a missing hour with the
current time of day (it read "mañana a las 3" as tomorrow at this very minute)."""

from __future__ import annotations

from datetime import date, datetime

MAX_CHARS = 60  # the date part; dateparser's cost grows with the text


def date_in(text: str, languages: list[str], local_now: datetime) -> date | None:
    text = text.strip()
    if not text or len(text) > MAX_CHARS or not any(c.isalpha() for c in text):
        return None
    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": local_now.replace(tzinfo=None),
        "RETURN_AS_TIMEZONE_AWARE": False,
        "STRICT_PARSING": False,
    }
    import dateparser  # here, not at import: it takes a quarter of a second and most texts never need it

    try:
        found = dateparser.parse(text, languages=languages, settings=settings)
    except Exception:  # noqa: BLE001 - dateparser raises assorted errors on odd input; then we cannot read it
        return None
    return found.date() if found is not None else None
