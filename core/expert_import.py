"""Import experts from a CSV that a programme manager keeps in a spreadsheet.

Everything is validated before anything is saved: the caller imports the
whole file or nothing, so the result carries every problem found (with the
physical line number a spreadsheet user can look up) instead of stopping at
the first one. Messages are written for the person who filled in the sheet.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import TypeVar
from zoneinfo import available_timezones

from core.amounts import Money
from core.experts import ExpertKind, MeetingLink
from core.schedule import MINUTES_PER_DAY, WEEKDAYS, WeeklyWindow
from core.text import clean_text

__all__ = [
    "MAX_RATE_MULTIPLIER",
    "ExpertRecord",
    "ImportResult",
    "RowError",
    "parse_experts_csv",
    "parse_rate",
    "parse_weekly",
]

# ---------------------------------------------------------------- availability

_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NUMBERS: dict[str, int] = {
    **{name.lower(): number for number, name in enumerate(WEEKDAYS)},
    **{name: number for number, name in enumerate(_FULL_DAY_NAMES)},
}
# Words people use for groups of days; the grammar wants explicit days, so say which.
_DAY_GROUPS = {
    "weekday": "Mon-Fri",
    "weekdays": "Mon-Fri",
    "weekend": "Sat-Sun",
    "weekends": "Sat-Sun",
    "daily": "Mon-Sun",
    "everyday": "Mon-Sun",
}
# Spreadsheets and word processors turn "-" into en or em dashes.
_DASHES = re.compile(r"\s*[-\u2013\u2014]\s*")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")


def _quote(piece: str) -> str:
    return f'"{piece}"'


def parse_weekly(spec: str) -> tuple[WeeklyWindow, ...]:
    """Turn "Mon-Fri 09:00-12:00; Wed 14:00-18:00" into merged weekly windows.

    Experts write availability by hand, so the grammar is forgiving about
    spacing and dashes but strict about meaning: an unknown day or an
    impossible time is an error that quotes the piece to fix, never a guess.
    """
    spans: dict[int, list[tuple[int, int]]] = {}
    for raw_clause in spec.split(";"):
        clause = raw_clause.strip()
        if not clause:
            continue  # tolerate "a; b;" and an empty spec
        days, ranges = _parse_clause(clause)
        for day in days:
            spans.setdefault(day, []).extend(ranges)
    windows: list[WeeklyWindow] = []
    for day in sorted(spans):
        for start, end in _merge(spans[day]):
            windows.append(WeeklyWindow(day, start, end))
    return tuple(windows)


def _parse_clause(clause: str) -> tuple[list[int], list[tuple[int, int]]]:
    """Split one clause at its first digit: day names never contain digits, times always do."""
    first_digit = next((i for i, char in enumerate(clause) if char.isdigit()), None)
    if first_digit is None:
        raise ValueError(f"no time range in {_quote(clause)} (write it like \"Mon 09:00-12:00\")")
    day_text = clause[:first_digit].strip().rstrip(":,").strip()
    if not day_text:
        raise ValueError(f"no day in {_quote(clause)} (write it like \"Mon 09:00-12:00\")")
    days = _parse_days(day_text, clause)
    ranges = _parse_ranges(clause[first_digit:], clause)
    return days, ranges


def _parse_days(day_text: str, clause: str) -> list[int]:
    days: list[int] = []
    for item in day_text.split(","):
        item = _DASHES.sub("-", item.strip())
        if not item:
            raise ValueError(f"a day is missing between commas in {_quote(clause)}")
        ends = item.split("-")
        if len(ends) > 2:
            raise ValueError(f"{_quote(item)} in {_quote(clause)} is not a day range (write it like Mon-Fri)")
        numbers = [_day_number(end, clause) for end in ends]
        first, last = numbers[0], numbers[-1]
        span = (last - first) % 7  # Fri-Mon wraps over the weekend
        for offset in range(span + 1):
            day = (first + offset) % 7
            if day not in days:
                days.append(day)
    return days


def _day_number(name: str, clause: str) -> int:
    number = _DAY_NUMBERS.get(name.strip().lower())
    if number is not None:
        return number
    lowered = name.strip().lower()
    if lowered in _DAY_GROUPS:
        hint = f"write {_DAY_GROUPS[lowered]}"
    elif guess := _guess_day(lowered):
        hint = f"did you mean {guess.capitalize()}?"
    else:
        hint = "use Mon, Tue, ... or Monday, Tuesday, ..."
    raise ValueError(f"unknown day {_quote(name)} in {_quote(clause)} ({hint})")


def _guess_day(lowered: str) -> str | None:
    """A suggestion only when it is fairly certain: "Tues", "Mnday", "Thr", not "Someday"."""
    for full in _FULL_DAY_NAMES:
        if len(lowered) >= 2 and full.startswith(lowered):
            return full
    close = difflib.get_close_matches(lowered, _FULL_DAY_NAMES, n=1, cutoff=0.75)
    if close:
        return close[0]
    same_start = [full for full in _FULL_DAY_NAMES if len(lowered) >= 2 and full.startswith(lowered[:2])]
    return same_start[0] if len(same_start) == 1 else None


def _parse_ranges(text: str, clause: str) -> list[tuple[int, int]]:
    tokens = [token for token in re.split(r"[\s,]+", _DASHES.sub("-", text)) if token]
    ranges: list[tuple[int, int]] = []
    for token in tokens:
        if token.isalpha():
            raise ValueError(
                f"{_quote(token)} in {_quote(clause)}: put a \";\" before each new day, "
                'e.g. "Mon 09:00-12:00; Tue 14:00-16:00"'
            )
        parts = token.split("-")
        if len(parts) != 2:
            raise ValueError(f"{_quote(token)} is not a time range (write it like 09:00-12:00)")
        start = _parse_time(parts[0], is_end=False)
        end = _parse_time(parts[1], is_end=True)
        if start >= end:
            hint = ""
            if start > end:
                hint = " (to go past midnight, split it: Mon 22:00-24:00; Tue 00:00-02:00)"
            raise ValueError(f"{_quote(token)}: a time range must start before it ends{hint}")
        ranges.append((start, end))
    return ranges


def _parse_time(text: str, *, is_end: bool) -> int:
    match = _TIME.fullmatch(text)
    if match:
        hours, minutes = int(match[1]), int(match[2])
        if minutes < 60 and hours < 24:
            return hours * 60 + minutes
        if hours == 24 and minutes == 0:
            if is_end:
                return MINUTES_PER_DAY
            raise ValueError(f"{_quote(text)} can only end a time range (start at 00:00 instead)")
    raise ValueError(f"{_quote(text)} is not a time (use HH:MM, 24-hour)")


def _merge(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching ranges become one, so 09:00-12:00 + 12:00-13:00 is 09:00-13:00."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


# ---------------------------------------------------------------------- rates

# A plain number is read as a multiplier; this cap catches "120" meant as money.
MAX_RATE_MULTIPLIER = Decimal(10)
# An hourly rate above this (in the currency's units) is a typo, whatever the currency: a billion is
# still a sane price in the currencies with the smallest units, and far inside the database's integers.
MAX_HOURLY_AMOUNT = Decimal(1_000_000_000)
# The database's column sizes: a longer value is a row error, never a failed import.
FIELD_LIMITS = {"name": 120, "headline": 200, "email": 254, "meeting_link": 500, "bio": 5000}
TOPIC_LIMIT = 60
MAX_LANGUAGES = 20  # they are stored together in a column of 100 characters

_NUMBER = r"(?:\d+(?:\.\d+)?|\.\d+)"
_AMOUNT = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"  # 1,200.50 is fine; 150,50 is not
_MULTIPLIER = re.compile(rf"[x\u00d7]\s*({_NUMBER})|({_NUMBER})\s*[x\u00d7]?", re.IGNORECASE)
_SYMBOLS: dict[str, str] = {
    "US$": "USD",
    "AU$": "AUD",
    "A$": "AUD",
    "CA$": "CAD",
    "C$": "CAD",
    "NZ$": "NZD",
    "HK$": "HKD",
    "S$": "SGD",
    "R$": "BRL",
    "$": "USD",
    "\u20ac": "EUR",  # €
    "\u00a3": "GBP",  # £
    "\u20b9": "INR",  # ₹
    "\u20a6": "NGN",  # ₦
}
_SYMBOL = "|".join(re.escape(symbol) for symbol in sorted(_SYMBOLS, key=len, reverse=True))
_MONEY_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(rf"(?P<code>[A-Za-z]{{3}})\s*(?P<amount>{_AMOUNT})"),
    re.compile(rf"(?P<amount>{_AMOUNT})\s*(?P<code>[A-Za-z]{{3}})"),
    re.compile(rf"(?P<symbol>{_SYMBOL})\s*(?P<amount>{_AMOUNT})", re.IGNORECASE),
    re.compile(rf"(?P<amount>{_AMOUNT})\s*(?P<symbol>{_SYMBOL})", re.IGNORECASE),
)
# Currencies in current use (ISO 4217), so a typo like "UDS 120" is caught.
_CURRENCIES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS
    KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR
    MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF
    SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG""".split()
)
_COMMON_CURRENCIES = ("USD", "EUR", "GBP", "INR", *sorted(set(_SYMBOLS.values()) - {"USD", "EUR", "GBP", "INR"}))
_RATE_HELP = "use a credit multiplier like 1.5x, an hourly rate like USD 120, or both: 1.5x; USD 120"


def parse_rate(text: str) -> tuple[Decimal | None, Money | None]:
    """Read a compensated expert's terms: a credit multiplier, an hourly money rate, or both.

    Amounts go through Decimal and Money.parse so nothing is ever a float.
    Empty text gives (None, None); deciding whether a rate is required is the caller's job.
    """
    multiplier: Decimal | None = None
    money: Money | None = None
    for raw_part in text.split(";"):
        part = raw_part.strip()
        if not part:
            continue
        if _MULTIPLIER.fullmatch(part):
            if multiplier is not None:
                raise ValueError(f"{_quote(text.strip())} gives two credit multipliers; give one")
            multiplier = _parse_multiplier(part)
        elif (parsed := _parse_money(part)) is not None:
            if money is not None:
                raise ValueError(f"{_quote(text.strip())} gives two hourly rates; give one")
            money = parsed
        else:
            raise ValueError(f"{_quote(part)} is not a rate: {_RATE_HELP}")
    return multiplier, money


def _parse_multiplier(part: str) -> Decimal:
    match = _MULTIPLIER.fullmatch(part)
    assert match is not None
    value = Decimal(match[1] or match[2])
    if value <= 0:
        raise ValueError(f"{_quote(part)}: a credit multiplier must be more than 0")
    if value <= MAX_RATE_MULTIPLIER and value != value.quantize(Decimal("0.01")):
        raise ValueError(f"{_quote(part)}: a credit multiplier can have at most 2 decimals")
    if value > MAX_RATE_MULTIPLIER:
        raise ValueError(
            f"{_quote(part)}: a credit multiplier can be at most {MAX_RATE_MULTIPLIER}x; "
            f"for an hourly rate add the currency, e.g. USD {match[1] or match[2]}"
        )
    return value


def _parse_money(part: str) -> Money | None:
    """None when the text is not shaped like money at all; ValueError when it is but is wrong."""
    for pattern in _MONEY_PATTERNS:
        match = pattern.fullmatch(part)
        if match is None:
            continue
        groups = match.groupdict()
        if groups.get("symbol"):
            currency = _SYMBOLS[groups["symbol"].upper()]
        else:
            currency = groups["code"].upper()
            if currency not in _CURRENCIES:
                # Prefer the everyday currencies: "UDS" is far likelier to mean USD than UZS.
                close = difflib.get_close_matches(currency, _COMMON_CURRENCIES, n=1, cutoff=0.6)
                close = close or difflib.get_close_matches(currency, sorted(_CURRENCIES), n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]}?)" if close else " (use a code like USD, EUR or INR)"
                raise ValueError(f"{_quote(part)}: unknown currency {_quote(currency)}{hint}")
        amount = groups["amount"].replace(",", "")
        if Decimal(amount) > MAX_HOURLY_AMOUNT:
            raise ValueError(f"{_quote(part)}: an hourly rate can be at most {currency} {MAX_HOURLY_AMOUNT:,}")
        try:
            value = Money.parse(amount, currency)
        except ValueError:
            raise ValueError(f"{_quote(part)}: an amount can have at most 2 decimals") from None
        if value.minor <= 0:
            raise ValueError(f"{_quote(part)}: an hourly rate must be more than 0")
        return value
    if re.fullmatch(r"\D*\d+,\d{1,2}\D*", part):
        raise ValueError(f"{_quote(part)}: use a dot for decimals, e.g. 1.5x or EUR 150.50")
    return None


# ------------------------------------------------------------------------ CSV


@dataclass(frozen=True, slots=True)
class ExpertRecord:
    """One fully validated CSV row, ready to become an Expert (and its person and schedule)."""

    line: int
    name: str
    handle: str
    slack_user_id: str | None
    telegram_user_id: int | None
    email: str | None
    timezone: str
    languages: tuple[str, ...]
    topics: tuple[str, ...]
    headline: str
    bio: str
    kind: ExpertKind
    rate_multiplier: Decimal
    hourly_rate: Money | None
    weekly: tuple[WeeklyWindow, ...]
    meeting_link: MeetingLink


@dataclass(frozen=True, slots=True)
class RowError:
    """A problem the sheet's owner can find: physical line, column, plain-language message."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.message}"


@dataclass(frozen=True, slots=True)
class ImportResult:
    """Records only when there are no errors, so a partial import cannot happen by accident."""

    records: tuple[ExpertRecord, ...]
    errors: tuple[RowError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


REQUIRED_COLUMNS = ("name", "handle", "timezone")
KNOWN_COLUMNS = (
    "name",
    "handle",
    "slack_user_id",
    "telegram_user_id",
    "email",
    "timezone",
    "languages",
    "topics",
    "headline",
    "bio",
    "pro_bono",
    "rate",
    "availability",
    "meeting_link",
)
MULTILINE_COLUMNS = frozenset({"bio"})  # every other cell is one line: a line break in it becomes a space
HEADER = "header"  # the column named in errors about the header row itself
ROW = "row"  # ... and about a row as a whole

_HANDLE = re.compile(r"[a-z0-9_.\-]{2,32}")
_SLACK_ID = re.compile(r"[UW][A-Z0-9]{8,20}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_MAX_TELEGRAM_ID = 2**63 - 1  # stored as a 64-bit integer
_YES = frozenset({"yes", "y", "true", "1"})
_NO = frozenset({"no", "n", "false", "0"})


@lru_cache(maxsize=1)
def _timezones() -> dict[str, str]:
    """Lower-cased name -> canonical IANA name, so "asia/kolkata" is accepted as Asia/Kolkata."""
    return {name.lower(): name for name in available_timezones()}


def _column_key(name: str) -> str:
    """Header names as people type them: "Slack User ID" and "slack-user-id" both mean slack_user_id."""
    return re.sub(r"[\s\-]+", "_", clean_text(name, one_line=True).replace("\ufeff", "").strip()).lower()


T = TypeVar("T")


class _Row:
    """Field access plus error collection for one row, so every bad field gets reported."""

    def __init__(self, line: int, values: dict[str, str]) -> None:
        self.line = line
        self.values = values
        self.errors: list[RowError] = []

    def get(self, column: str) -> str:
        return self.values.get(column, "")

    def error(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.line, column, message))

    def check(self, column: str, parse: Callable[[str], T]) -> T | None:
        """Run a field parser; its ValueError becomes this row's error for that column."""
        try:
            return parse(self.get(column))
        except ValueError as exc:
            self.error(column, str(exc))
            return None


def parse_experts_csv(text: str) -> ImportResult:
    """Validate a whole experts CSV; records come back only if every row is clean."""
    errors: list[RowError] = []
    records: list[ExpertRecord] = []
    # strict: an unclosed quote is an error instead of silently swallowing the rest of the file.
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    seen: dict[str, dict[str, int]] = {"handle": {}, "slack_user_id": {}, "telegram_user_id": {}}
    columns: list[str | None] | None = None  # None until the header row has been read
    previous_end = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # The reader cannot resync after broken quoting, so later rows are not trustworthy.
            column = ROW if columns is not None else HEADER
            errors.append(RowError(previous_end + 1, column, _unreadable(exc)))
            break
        line = previous_end + 1  # where the row starts, even if a quoted field spans lines
        previous_end = reader.line_num
        if not any(field.strip() for field in fields):
            continue  # blank line, or a spreadsheet's row of empty cells
        if columns is None:
            columns = _read_header(fields, line, errors)
            if not columns:
                break
            continue
        row = _split_row(fields, columns, line, errors)
        if row is None:
            continue
        record = _parse_row(row)
        _check_duplicates(row, seen)
        errors.extend(row.errors)
        if record is not None and not row.errors:
            records.append(record)

    if columns is None and not errors:
        errors.append(
            RowError(1, HEADER, f"the file is empty; the first row must name the columns: {', '.join(KNOWN_COLUMNS)}")
        )
    if errors:
        return ImportResult((), tuple(errors))
    return ImportResult(tuple(records), ())


def _unreadable(exc: csv.Error) -> str:
    return (
        "this row is not valid CSV: check its double quotes (a quoted value must end with a quote, "
        f'and a quote inside a value is written twice: ""). Rows after it were not checked. ({exc})'
    )


_BLANK = ""  # a header cell left empty: its column must stay empty too


def _read_header(cells: list[str], line: int, errors: list[RowError]) -> list[str | None]:
    """Map header cells to column keys: "" for a blank cell, None for a column to ignore.

    Unknown or missing columns are reported but the rows are still checked, so a single
    run shows every problem. An empty list means the header is unusable.
    """
    if len(cells) == 1 and (";" in cells[0] or "\t" in cells[0]):
        errors.append(
            RowError(line, HEADER, 'the columns must be separated by commas; save the sheet as "CSV (comma delimited)"')
        )
        return []
    columns: list[str | None] = []
    unknown: list[str] = []
    duplicated: list[str] = []
    for cell in cells:
        key = _column_key(cell)
        if not key:
            columns.append(_BLANK)
        elif key not in KNOWN_COLUMNS:
            unknown.append(cell.strip())
            columns.append(None)
        elif key in columns:
            duplicated.append(key)
            columns.append(None)
        else:
            columns.append(key)

    if unknown:
        described = []
        for name in unknown:
            close = difflib.get_close_matches(_column_key(name), KNOWN_COLUMNS, n=1, cutoff=0.6)
            described.append(f"{_quote(name)} (did you mean {close[0]}?)" if close else _quote(name))
        noun = "column" if len(unknown) == 1 else "columns"
        known = ", ".join(KNOWN_COLUMNS)
        errors.append(RowError(line, HEADER, f"unknown {noun} {', '.join(described)}; the columns are: {known}"))
    if duplicated:
        errors.append(RowError(line, HEADER, f"these columns appear more than once: {', '.join(duplicated)}"))
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        noun = "column" if len(missing) == 1 else "columns"
        errors.append(
            RowError(
                line, HEADER, f"missing required {noun}: {', '.join(missing)} (the first row must name the columns)"
            )
        )
    return columns


def _split_row(fields: list[str], columns: list[str | None], line: int, errors: list[RowError]) -> _Row | None:
    """Pair values with columns; None when the row is too long to trust its columns."""
    if len(fields) > len(columns):
        # Values have probably shifted (an unquoted comma), so field errors would only mislead.
        errors.append(
            RowError(
                line,
                ROW,
                f"this row has {len(fields)} values but the header has {len(columns)} columns "
                '(put a value that contains commas in double quotes, e.g. "fundraising, pricing")',
            )
        )
        return None
    row = _Row(line, {})
    padded = fields + [""] * (len(columns) - len(fields))  # spreadsheets drop trailing empty cells
    for column, raw in zip(columns, padded):
        value = clean_text(raw, one_line=column not in MULTILINE_COLUMNS).strip()
        if column == _BLANK:
            if value:
                row.error(ROW, f"{_quote(value)} is in a column that has no header")
        elif column is not None:
            row.values[column] = value
    return row


def _parse_row(row: _Row) -> ExpertRecord | None:
    """Check every field of one row; None when anything is wrong (the errors are on the row)."""
    has = set(row.values)
    name = row.get("name")
    if "name" in has and not name:
        row.error("name", "a name is required")
    handle = row.check("handle", _parse_handle) if "handle" in has else None
    slack_user_id = row.check("slack_user_id", _parse_slack_id)
    telegram_user_id = row.check("telegram_user_id", _parse_telegram_id)
    email = row.check("email", _parse_email)
    timezone = row.check("timezone", _parse_timezone) if "timezone" in has else None
    languages = row.check("languages", _parse_languages)
    topics = _parse_topics(row.get("topics"))
    pro_bono = row.check("pro_bono", _parse_yes_no)
    kind, multiplier, hourly_rate = _parse_terms(row, pro_bono)
    weekly = row.check("availability", parse_weekly)
    meeting_link = row.check("meeting_link", MeetingLink.from_url)
    for column, limit in FIELD_LIMITS.items():
        if len(row.get(column)) > limit:
            row.error(column, f"is {len(row.get(column))} characters long; keep it to {limit}")
    if any(len(topic) > TOPIC_LIMIT for topic in topics):
        row.error("topics", f"keep each topic to {TOPIC_LIMIT} characters")

    if row.errors or not name or handle is None or timezone is None:
        return None
    assert languages is not None and weekly is not None and meeting_link is not None and kind is not None
    return ExpertRecord(
        line=row.line,
        name=name,
        handle=handle,
        slack_user_id=slack_user_id,
        telegram_user_id=telegram_user_id,
        email=email,
        timezone=timezone,
        languages=languages,
        topics=topics,
        headline=row.get("headline"),
        bio=row.get("bio"),
        kind=kind,
        rate_multiplier=multiplier,
        hourly_rate=hourly_rate,
        weekly=weekly,
        meeting_link=meeting_link,
    )


def _parse_terms(row: _Row, pro_bono: bool | None) -> tuple[ExpertKind | None, Decimal, Money | None]:
    """Pro-bono versus compensated: an explicit pro_bono wins, otherwise a rate means compensated."""
    rate_text = row.get("rate")
    explicit = row.get("pro_bono") != ""
    if explicit and pro_bono is None:
        # pro_bono itself is wrong (already reported); still check the rate's spelling.
        row.check("rate", parse_rate)
        return None, Decimal(1), None
    if pro_bono is True or (not explicit and not rate_text):
        if rate_text:
            row.error("rate", "a pro-bono expert has no rate (leave rate empty, or set pro_bono to no)")
        return ExpertKind.PRO_BONO, Decimal(1), None
    if not rate_text:
        row.error("rate", f"a compensated expert needs a rate: {_RATE_HELP}")
        return ExpertKind.COMPENSATED, Decimal(1), None
    terms = row.check("rate", parse_rate)
    if terms is None:
        return ExpertKind.COMPENSATED, Decimal(1), None
    multiplier, money = terms
    if multiplier is None and money is None:  # e.g. just ";"
        row.error("rate", f"a compensated expert needs a rate: {_RATE_HELP}")
    return ExpertKind.COMPENSATED, multiplier if multiplier is not None else Decimal(1), money


def _check_duplicates(row: _Row, seen: dict[str, dict[str, int]]) -> None:
    """The same handle (or chat account) twice is a copy-paste slip; name the line it first appeared on."""
    for column, normalise in (
        ("handle", _parse_handle),
        ("slack_user_id", _parse_slack_id),
        ("telegram_user_id", _parse_telegram_id),
    ):
        try:
            value = normalise(row.get(column))
        except ValueError:
            continue  # already reported as invalid
        if value is None:
            continue
        key = str(value)
        first = seen[column].get(key)
        if first is None:
            seen[column][key] = row.line
        else:
            label = "handle" if column == "handle" else column.replace("_", " ")
            row.error(column, f"{label} {_quote(key)} is already used on line {first}")


def _parse_handle(text: str) -> str:
    if not text:
        raise ValueError("a handle is required")
    handle = text.removeprefix("@").lower()
    if not _HANDLE.fullmatch(handle):
        raise ValueError(
            f"{_quote(text)} is not a valid handle: use 2-32 lowercase letters, digits, _ . or - (no spaces)"
        )
    return handle


def _parse_slack_id(text: str) -> str | None:
    if not text:
        return None
    if not _SLACK_ID.fullmatch(text):
        raise ValueError(
            f"{_quote(text)} does not look like a Slack user ID, which is like U024BE7LH "
            "(in Slack: open the profile, \u22ee menu, Copy member ID)"
        )
    return text


def _parse_telegram_id(text: str) -> int | None:
    if not text:
        return None
    if not text.isdecimal() or not text.isascii():
        raise ValueError(f"{_quote(text)} is not a Telegram user ID: use the number, like 123456789, not a @username")
    value = int(text) if len(text) <= 19 else _MAX_TELEGRAM_ID + 1  # longer than any 64-bit number
    if value > _MAX_TELEGRAM_ID:
        raise ValueError(f"{_quote(text)} is not a Telegram user ID: it is too large (Telegram's are at most 64-bit)")
    if not 0 < value:
        raise ValueError(f"{_quote(text)} is not a Telegram user ID: it must be a positive number")
    return value


def _parse_email(text: str) -> str | None:
    if not text:
        return None
    if not _EMAIL.fullmatch(text):
        raise ValueError(f"{_quote(text)} is not an email address")
    return text


def _parse_timezone(text: str) -> str:
    if not text:
        raise ValueError("a timezone is required, e.g. Asia/Kolkata")
    zones = _timezones()
    canonical = zones.get(text.lower())
    if canonical is not None:
        return canonical
    close = difflib.get_close_matches(text, sorted(zones.values()), n=1, cutoff=0.6)
    if close:
        raise ValueError(f"unknown timezone {text!r} (did you mean {close[0]!r}?)")
    raise ValueError(f"unknown timezone {text!r} (use a name like 'Asia/Kolkata' or 'America/New_York')")


def _parse_languages(text: str) -> tuple[str, ...]:
    if not text:
        return ("en",)
    languages: list[str] = []
    for item in re.split(r"[\s,;]+", text):
        if not item:
            continue
        code = item.lower()
        if not _LANGUAGE.fullmatch(code):
            raise ValueError(f"{_quote(item)} is not a language code: use ISO codes like en, hi, pt")
        if code not in languages:
            languages.append(code)
    if len(languages) > MAX_LANGUAGES:
        raise ValueError(f"{len(languages)} languages; list at most {MAX_LANGUAGES}")
    return tuple(languages) or ("en",)


def _parse_topics(text: str) -> tuple[str, ...]:
    topics: list[str] = []
    seen: set[str] = set()
    for item in re.split(r"[,;]", text):
        topic = " ".join(item.split())
        if topic and topic.casefold() not in seen:
            seen.add(topic.casefold())
            topics.append(topic)
    return tuple(topics)


def _parse_yes_no(text: str) -> bool | None:
    if not text:
        return None
    answer = text.lower()
    if answer in _YES:
        return True
    if answer in _NO:
        return False
    raise ValueError(f"{_quote(text)} is not yes or no")
