"""Typed text to tokens: numbers, clock times and dates by their shape, words by the lexicon.

Shapes first ("15:00", "15h30", "3pm", "7th", "2026-12-07", "7/12", "7.12."), then phrases of several
words ("a las", "day after tomorrow") become one token, then each word gets its possible meanings.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from dataclasses import dataclass, field
from functools import lru_cache

from bot.typed_time.vocabulary import Kind, Lexicon, Word, key

_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")
_MERIDIEM = re.compile(r"(\d)\s*([ap])\.?\s?m\b\.?")  # "3 p.m.", "3 p. m." -> "3 pm"
_SPLIT = re.compile(r"[\s,;()\[\]{}<>!?¿¡\"“”«»·|]+")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:t(\d{1,2}):(\d{2})(?::\d{2})?)?z?")
_CLOCK = re.compile(r"(\d{1,2})(?::(\d{2})(?::\d{2})?|h(\d{2}))([a-z]*)")  # 15:00, 15h30, 3:30pm, 15:00h
_SLASH = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?")
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})(?:(\.)(\d{4}|\d{2})?)?")
_NUMBER = re.compile(r"(\d{1,4})(-?[^\W\d_][^\W\d_\u0900-\u097f]*|[\u0900-\u097f]+)?")
_ORDINAL = frozenset({"st", "nd", "rd", "th", "er", "го", "-го", "е", "-е", "ое", "-ое"})
_ZONE = re.compile(r"[a-z_]+(?:/[a-z0-9_+\-]+)+|utc|gmt")


@dataclass(slots=True)
class Token:
    text: str
    words: tuple[Word, ...] = ()
    number: int | None = None  # a number in digits
    digits: int = 0  # how many digits it was written with ("09" = 2: a 24-hour clock)
    ordinal: bool = False  # "7th", "7-го"
    clock: tuple[int, int, bool] | None = None  # hour, minute, zero-padded ("09:30")
    date: tuple[int | None, int, int] | None = None  # year (None: not typed), month, day
    dotted: tuple[int, int] | None = None  # "7.12": the 7th of December or 7:12, decided by the grammar
    slashed: tuple[int, int] | None = None  # "7/12" without a year: the order decides
    zone: str | None = None
    used: bool = field(default=False)

    @property
    def is_word(self) -> bool:
        return (self.zone is None and self.number is None and self.clock is None and self.date is None
                and self.dotted is None and self.slashed is None)

    def has(self, kind: Kind) -> Word | None:
        return next((w for w in self.words if w.kind is kind), None)


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    names = {z.casefold(): z for z in zoneinfo.available_timezones()}
    names.update({"utc": "UTC", "gmt": "UTC"})
    return names


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_DIGITS).casefold().replace("’", "'")
    return _MERIDIEM.sub(r"\1 \2m", text)


def _shape(chunk: str, lex: Lexicon) -> list[Token] | None:
    """Tokens for a chunk that starts with a digit, or None when it is no shape we know."""
    if m := _ISO.fullmatch(chunk):
        out = [Token(chunk, date=(int(m[1]), int(m[2]), int(m[3])))]
        if m[4] is not None:
            out.append(Token(chunk, clock=(int(m[4]), int(m[5]), True)))
        return out
    if m := _CLOCK.fullmatch(chunk):
        hour = m[1]
        minute = m[2] if m[2] is not None else m[3]
        out = [Token(chunk, clock=(int(hour), int(minute), len(hour) == 2))]
        if m[4]:
            words = lex.meanings(m[4])
            if not words:
                return None
            out.append(Token(m[4], words=words))
        return out
    if m := _SLASH.fullmatch(chunk):
        a, b = int(m[1]), int(m[2])
        if m[3] is None:
            return [Token(chunk, slashed=(a, b))]
        year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
        day, month = (a, b) if lex.day_first or a > 12 else (b, a)
        if not lex.day_first and a <= 12 and b <= 12 and a != b:
            return [Token(chunk, slashed=(a, b))]  # the year does not tell the order either
        return [Token(chunk, date=(year, month, day))]
    if m := _DOTTED.fullmatch(chunk):
        a, b = int(m[1]), int(m[2])
        if m[3] is None:
            return [Token(chunk, dotted=(a, b))]
        typed_year = None if m[4] is None else int(m[4]) + (2000 if len(m[4]) == 2 else 0)
        return [Token(chunk, date=(typed_year, b, a))]  # "7.12." and "7.12.2026" are day first everywhere
    if m := _NUMBER.fullmatch(chunk):
        number = Token(m[1], number=int(m[1]), digits=len(m[1]))
        suffix = m[2]
        if not suffix:
            return [number]
        if suffix in _ORDINAL:
            number.ordinal = True
            return [number]
        words = lex.meanings(suffix)
        return [number, Token(suffix, words=words)] if words else None
    return None


def _chunks(text: str) -> list[str]:
    return [c for c in _SPLIT.split(text) if c]


def tokenize(text: str, lex: Lexicon) -> list[Token] | None:
    """The tokens of a normalised text; None when a part of it has a shape we cannot read ("12:3:4")."""
    pieces: list[Token] = []
    for raw in _chunks(text):
        chunk = raw.strip(".'")
        if not chunk:
            continue
        if chunk[0].isdigit():
            shaped = _shape(raw.rstrip("'") if _DOTTED.fullmatch(raw.rstrip("'")) else chunk, lex)
            if shaped is None:
                return None
            pieces.extend(shaped)
            continue
        zone = _zones().get(chunk) if _ZONE.fullmatch(chunk) else None
        pieces.append(Token(key(chunk), zone=zone))
    return _phrases(pieces, lex)


def _phrases(pieces: list[Token], lex: Lexicon) -> list[Token]:
    """Several words that mean one thing become tokens of their own (longest phrase first)."""
    out: list[Token] = []
    i = 0
    n = len(pieces)
    while i < n:
        tok = pieces[i]
        if tok.is_word:
            for length in range(min(lex.longest_phrase, n - i), 0, -1):
                words = tuple(p.text for p in pieces[i:i + length])
                meaning = lex.phrases.get(words)
                if meaning is not None:
                    out.extend(Token(" ".join(words), words=m) for m in meaning)
                    i += length
                    break
            else:
                tok.words = lex.meanings(tok.text)
                out.append(tok)
                i += 1
            continue
        out.append(tok)
        i += 1
    return out
