"""Import a programme's people from a CSV: founders (with their company), individuals and staff.

Strict like the experts import: every row is checked before anything is saved, every problem comes back
with the physical line a spreadsheet user can find, and a bad file imports nothing. A re-import updates
people by handle. What a handle, a chat id, an email or a timezone is, is the experts import's
vocabulary (core.expert_import), used here as is.

Columns (header names case-insensitive): name, handle, role, timezone (required); email, slack_user_id,
telegram_user_id, language, company, programme. role is founder (company and programme required),
individual (neither), or staff (programme required: one, or several separated by ";"; no company).
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from core.expert_import import (  # one owner for what a handle, an id, an email and a zone are
    RowError,
    _column_key,
    _parse_email,
    _parse_handle,
    _parse_slack_id,
    _parse_telegram_id,
    _parse_timezone,
)

MAX_ROWS = 20_000
NAME_MAX = 120
COMPANY_MAX = 120
HEADER = "header"
ROW = "row"


class Role(StrEnum):
    FOUNDER = "founder"
    INDIVIDUAL = "individual"
    STAFF = "staff"


KNOWN_COLUMNS = ("name", "handle", "email", "slack_user_id", "telegram_user_id", "timezone", "language", "company",
                 "programme", "role")
REQUIRED_COLUMNS = ("name", "handle", "timezone", "role")
_LANGUAGE = re.compile(r"([a-z]{2,3})(?:[-_]([a-z]{2}))?")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class MemberRecord:
    line: int
    name: str
    handle: str
    role: Role
    timezone: str
    email: str | None
    slack_user_id: str | None
    telegram_user_id: int | None
    language: str | None  # None: keep what the person has (English for someone new)
    company: str | None
    programmes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MembersFile:
    records: tuple[MemberRecord, ...]
    errors: tuple[RowError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_members_csv(text: str) -> MembersFile:
    """Every row checked; records only when the whole file is clean."""
    errors: list[RowError] = []
    records: list[MemberRecord] = []
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    columns: list[str | None] | None = None
    seen: dict[str, dict[str, int]] = {"handle": {}, "slack_user_id": {}, "telegram_user_id": {}}
    previous_end = 0
    rows = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(previous_end + 1, ROW if columns is not None else HEADER,
                                   f"this row is not valid CSV: check its double quotes; rows after it were not checked ({exc})"))
            break
        line = previous_end + 1
        previous_end = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        if columns is None:
            columns = _header(fields, line, errors)
            if not columns:
                break
            continue
        rows += 1
        if rows > MAX_ROWS:
            errors.append(RowError(line, ROW, f"more than {MAX_ROWS} people in one file: split it"))
            break
        if len(fields) > len(columns):
            errors.append(RowError(line, ROW, f"this row has {len(fields)} values but the header has {len(columns)} "
                                               "columns (put a value that contains commas in double quotes)"))
            continue
        values = {c: v.strip() for c, v in zip(columns, fields + [""] * (len(columns) - len(fields))) if c}
        record, row_errors = _row(line, values, seen)
        errors.extend(row_errors)
        if record is not None and not row_errors:
            records.append(record)
    if columns is None and not errors:
        errors.append(RowError(1, HEADER, f"the file is empty; the first row must name the columns: {', '.join(KNOWN_COLUMNS)}"))
    return MembersFile((), tuple(errors)) if errors else MembersFile(tuple(records), ())


def _header(cells: list[str], line: int, errors: list[RowError]) -> list[str | None]:
    if len(cells) == 1 and (";" in cells[0] or "\t" in cells[0]):
        errors.append(RowError(line, HEADER, 'the columns must be separated by commas; save the sheet as "CSV (comma delimited)"'))
        return []
    columns: list[str | None] = []
    unknown: list[str] = []
    for cell in cells:
        key = _column_key(cell)
        if key in KNOWN_COLUMNS and key not in columns:
            columns.append(key)
        elif key in KNOWN_COLUMNS:
            errors.append(RowError(line, HEADER, f"the column {key} appears more than once"))
            columns.append(None)
        else:
            if key:
                close = difflib.get_close_matches(key, KNOWN_COLUMNS, n=1, cutoff=0.6)
                unknown.append(f'"{cell.strip()}"' + (f" (did you mean {close[0]}?)" if close else ""))
            columns.append(None)
    if unknown:
        errors.append(RowError(line, HEADER, f"unknown column(s) {', '.join(unknown)}; the columns are: {', '.join(KNOWN_COLUMNS)}"))
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        errors.append(RowError(line, HEADER, f"missing required column(s): {', '.join(missing)}"))
    return columns if not missing else []


_T = TypeVar("_T")


def _row(line: int, values: dict[str, str], seen: dict[str, dict[str, int]]) -> tuple[MemberRecord | None, list[RowError]]:
    errors: list[RowError] = []

    def check(column: str, parse: Callable[[str], _T]) -> _T | None:
        try:
            return parse(values.get(column, ""))
        except ValueError as exc:
            errors.append(RowError(line, column, str(exc)))
            return None

    for column, value in values.items():
        if _CONTROL.search(value):
            errors.append(RowError(line, column, "contains control characters (a stray tab or an invisible character)"))
    name = " ".join(values.get("name", "").split())
    if not name:
        errors.append(RowError(line, "name", "a name is required"))
    elif len(name) > NAME_MAX:
        errors.append(RowError(line, "name", f"is {len(name)} characters long; keep it to {NAME_MAX}"))
    handle = check("handle", _parse_handle)
    timezone = check("timezone", _parse_timezone)
    email = check("email", _parse_email)
    slack = check("slack_user_id", _parse_slack_id)
    telegram = check("telegram_user_id", _parse_telegram_id)
    language = check("language", _parse_language)
    role = check("role", _parse_role)
    company = " ".join(values.get("company", "").split()) or None
    if company is not None and len(company) > COMPANY_MAX:
        errors.append(RowError(line, "company", f"keep it to {COMPANY_MAX} characters"))
    programmes = tuple(dict.fromkeys(" ".join(p.split()) for p in values.get("programme", "").split(";") if p.strip()))
    if role is Role.FOUNDER:
        if company is None:
            errors.append(RowError(line, "company", "a founder needs a company"))
        if len(programmes) != 1:
            errors.append(RowError(line, "programme", "a founder is in exactly one programme"))
    elif role is Role.INDIVIDUAL:
        if company is not None or programmes:
            errors.append(RowError(line, "role", "an individual has no company and no programme "
                                                 "(make them a founder to put them in one)"))
    elif role is Role.STAFF:
        if not programmes:
            errors.append(RowError(line, "programme", 'staff need a programme (several: "Spring; Autumn")'))
        if company is not None:
            errors.append(RowError(line, "company", "staff have no company; leave it empty"))
    for column, given in (("handle", handle), ("slack_user_id", slack), ("telegram_user_id", telegram)):
        if given is None:
            continue
        first = seen[column].setdefault(str(given), line)
        if first != line:
            errors.append(RowError(line, column, f'"{given}" is already used on line {first}'))
    if errors or handle is None or timezone is None or role is None:
        return None, errors
    return MemberRecord(line, name, handle, role, timezone, email, slack, telegram, language, company, programmes), errors


def _parse_role(text: str) -> Role:
    key = text.strip().lower()
    aliases = {"founders": "founder", "individuals": "individual", "admin": "staff"}
    try:
        return Role(aliases.get(key, key))
    except ValueError:
        raise ValueError(f'"{text}" is not a role: use founder, individual or staff') from None


def _parse_language(text: str) -> str | None:
    if not text:
        return None
    match = _LANGUAGE.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError(f'"{text}" is not a language code: use ISO codes like en, es, hi, pt-BR')
    base, region = match.groups()
    return f"{base}_{region.upper()}" if region else base
