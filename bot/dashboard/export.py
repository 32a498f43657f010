"""CSV export of a dashboard table. A cell that a spreadsheet would run as a formula (starting with = + -
@ or a tab) is prefixed with an apostrophe, so a founder's title cannot become a formula on staff's machine."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from aiohttp import web

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def csv_response(name: str, head: Sequence[str], rows: Iterable[Sequence[object]]) -> web.Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(head)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    response = web.Response(body=("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv", charset="utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response
