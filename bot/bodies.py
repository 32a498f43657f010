"""Request bodies the platforms POST to the web process, read defensively: a JSON object of bounded
depth, or a clear MalformedBody saying what is wrong with it (logged as one line, never a traceback).
The size is bounded before this (bot.web.MAX_BODY)."""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64  # Slack's deepest real payloads (rich text inside a view inside an action) nest about 12


class MalformedBody(ValueError):
    """The body is not what the platform sends; the message says how, for the log."""


def json_object(body: bytes | str, *, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """The body as a JSON object. MalformedBody for anything else: not JSON, not UTF-8, a list or a
    scalar, or nested deeper than max_depth (json itself gives up near 1,000 levels with a RecursionError)."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise MalformedBody(f"JSON nested deeper than {max_depth} levels") from None
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
        raise MalformedBody(f"not JSON ({_short(error)})") from None
    if not isinstance(data, dict):
        raise MalformedBody(f"JSON {_kind(data)} where an object was expected")
    if too_deep(data, max_depth):
        raise MalformedBody(f"JSON nested deeper than {max_depth} levels")
    return data


def too_deep(value: object, max_depth: int = MAX_DEPTH) -> bool:
    """Whether lists and objects nest deeper than max_depth (iterative: no recursion to exhaust)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _kind(value: object) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


def _short(error: ValueError) -> str:
    return " ".join(str(error).split())[:120]
