"""Tokens to the parts of a date and a time, by context: which number is a day, an hour, an amount or a year.

Nothing here knows about zones or today; that is the reader's. Passes run from the most certain shape to the
least: typed zones, dates and clock times; amounts ("in 2 hours"); day numbers next to month names ("7 Dec",
"Dec 7"); "7.12"; numbers marked as hours ("3 pm", "a las 3", "3 बजे", "15 Uhr"); days of the month ("the
7th"); what is left of the numbers; then the words (weekdays, tomorrow, parts of the day, noon).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.typed_time.readings import Why
from bot.typed_time.tokens import Token
from bot.typed_time.vocabulary import Kind, Lexicon, Word


@dataclass(slots=True)
class Parts:
    zone: str | None = None
    year: int | None = None
    month: int | None = None
    day: int | None = None  # day of the month
    day_offset: int | None = None  # today 0, tomorrow 1
    weekday: int | None = None
    weekday_rule: Kind | None = None  # Kind.NEXT (after today) or Kind.THIS / None (from today on)
    hour: int | None = None  # as typed: 3 in "3 pm"
    minute: int = 0  # minutes after `hour` (-15 for "quarter to")
    clock_24h: bool = False  # "09:30", "noon", "10 Uhr": no morning-or-evening question
    minutes_typed: bool = False  # "9:30" rather than "9"
    meridiem: int | None = None  # 0 am, 1 pm
    part: int | None = None  # index into vocabulary.PARTS
    delta_minutes: int | None = None  # "in 2 hours"
    why: Why | None = None
    unknown: list[Token] = field(default_factory=list)
    time_tokens: set[int] = field(default_factory=set)  # positions read as the time of day (not the date)

    def refuse(self, why: Why) -> None:
        self.why = self.why or why

    def set_date(self, year: int | None, month: int | None, day: int) -> None:
        if self.day is not None and (self.year, self.month, self.day) != (year, month, day):
            self.refuse(Why.CONFLICTING)
            return
        self.year, self.month, self.day = year, month, day

    def set_time(self, hour: int, minute: int = 0, *, clock_24h: bool = False, minutes_typed: bool = False) -> None:
        if self.hour is not None and (self.hour, self.minute) != (hour, minute):
            self.refuse(Why.CONFLICTING)
            return
        self.hour, self.minute = hour, minute
        self.clock_24h = self.clock_24h or clock_24h
        self.minutes_typed = self.minutes_typed or minutes_typed

    @property
    def has_date(self) -> bool:
        return self.day is not None or self.day_offset is not None or self.weekday is not None


def parse(tokens: list[Token], lex: Lexicon, *, on_a_day: bool) -> Parts:
    return _Parser(tokens, lex, on_a_day).parse()


class _Parser:
    def __init__(self, tokens: list[Token], lex: Lexicon, on_a_day: bool) -> None:
        self.tokens, self.lex, self.on_a_day = tokens, lex, on_a_day
        self.p = Parts()

    def parse(self) -> Parts:
        self.shapes()
        self.amounts()
        self.named_dates(day_first=True)
        self.named_dates(day_first=False)
        self.dotted()
        self.marked_hours()
        self.days_of_month()
        self.left_numbers()
        self.weekdays()
        self.words()
        self.p.unknown.extend(tok for tok in self.tokens if not tok.used)
        return self.p

    # ---- helpers

    def at(self, i: int) -> Token | None:
        return self.tokens[i] if 0 <= i < len(self.tokens) else None

    def free(self, i: int) -> Token | None:
        """The token at i if there is one and nothing has read it yet."""
        tok = self.at(i)
        return tok if tok is not None and not tok.used else None

    def use(self, *positions: int, time: bool = False) -> None:
        for i in positions:
            self.tokens[i].used = True
            if time:
                self.p.time_tokens.add(i)

    # ---- the passes

    def shapes(self) -> None:
        """Typed zones, dates and clock times."""
        p = self.p
        for i, tok in enumerate(self.tokens):
            if tok.zone is not None:
                if p.zone is not None and p.zone != tok.zone:
                    p.refuse(Why.CONFLICTING)
                p.zone = tok.zone
                self.use(i)
            elif tok.date is not None:
                p.set_date(*tok.date)
                self.use(i)
            elif tok.clock is not None:
                hour, minute, padded = tok.clock
                p.set_time(hour, minute, clock_24h=padded, minutes_typed=True)
                self.use(i, time=True)
            elif tok.slashed is not None:
                a, b = tok.slashed
                if self.lex.day_first or a > 12 or a == b:
                    p.set_date(None, b, a)
                elif b > 12:
                    p.set_date(None, a, b)
                else:
                    p.refuse(Why.DATE_ORDER)
                self.use(i)

    def amounts(self) -> None:
        """"in 2 hours", "через час", "2 घंटे में", "2 hours from now"."""
        p = self.p
        for i, tok in enumerate(self.tokens):
            if tok.used or not tok.has(Kind.IN):
                continue
            found = self._amount_near(i)
            if found is not None:
                minutes, positions = found
                if p.delta_minutes is not None:
                    p.refuse(Why.CONFLICTING)
                p.delta_minutes = minutes
                self.use(i, *positions)

    def _amount_near(self, i: int) -> tuple[int, tuple[int, ...]] | None:
        """(minutes, positions) of an amount of time after or before the "in" at i."""
        for count_at, unit_at in ((i + 1, i + 2), (i - 2, i - 1)):
            count, unit = self.free(count_at), self.free(unit_at)
            amount = _amount(count) if count is not None else None
            unit_word = unit.has(Kind.UNIT) if unit is not None else None
            if amount is not None and unit_word is not None:
                return amount * unit_word.value, (count_at, unit_at)
        for unit_at in (i + 1, i - 1):  # "через час", "in an hour" is above; "an hour from now"
            unit = self.free(unit_at)
            unit_word = unit.has(Kind.UNIT) if unit is not None and unit.number is None else None
            if unit_word is not None:
                return unit_word.value, (unit_at,)
        return None

    def named_dates(self, *, day_first: bool) -> None:
        """A day number next to a month name ("7 Dec", "7 de diciembre"; in English also "Dec 7"), a year after."""
        for i, tok in enumerate(self.tokens):
            month = tok.has(Kind.MONTH) if not tok.used else None
            if month is None:
                continue
            found = self._day_before(i) if day_first else self._day_after(i, tok)
            if found is None:
                continue
            j, day = found
            self.use(*range(min(i, j), max(i, j) + 1))  # with a "de" / "the" between them
            k = max(i, j) + 1
            between = self.free(k)
            if between is not None and between.has(Kind.FILLER):
                k += 1
            year = _year(self.free(k))
            if year is not None:
                self.use(*range(max(i, j) + 1, k + 1))
            self.p.set_date(year, month.value, day)

    def _day_before(self, i: int) -> tuple[int, int] | None:
        j = i - 1
        before = self.free(j)
        if before is not None and before.has(Kind.FILLER) and self.at(j - 1) is not None:
            j -= 1
        tok = self.free(j)
        if tok is None or tok.number is None or tok.digits > 2 or not 1 <= tok.number <= 31:
            return None
        return j, tok.number

    def _day_after(self, i: int, month: Token) -> tuple[int, int] | None:
        if month.text not in self.lex.english_months:
            return None
        j = i + 1
        article = self.free(j)
        if article is not None and article.has(Kind.ARTICLE):
            j += 1
        tok = self.free(j)
        if tok is None or tok.number is None or tok.digits > 2 or not 1 <= tok.number <= 31:
            return None
        after = self.free(j + 1)
        if after is not None and (after.has(Kind.MERIDIEM) or after.has(Kind.HOUR_MARK)):
            return None  # "Dec 7pm": 7 is an hour
        return j, tok.number

    def dotted(self) -> None:
        """"7.12" is the 7th of December unless it cannot be a date ("15.30" is a time)."""
        p = self.p
        for i, tok in enumerate(self.tokens):
            if tok.dotted is None:
                continue
            a, b = tok.dotted
            if p.day is None and 1 <= a <= 31 and 1 <= b <= 12:
                p.set_date(None, b, a)
                self.use(i)
            elif a <= 24 and b <= 59:
                p.set_time(a, b, minutes_typed=True)
                self.use(i, time=True)
            else:
                p.refuse(Why.NO_SUCH_DATE)
                self.use(i)

    def marked_hours(self) -> None:
        """Numbers marked as hours: "3 pm", "15 Uhr", "a las 3", "3 de la tarde", "साढ़े 3 बजे", "half past 3"."""
        p = self.p
        for i, tok in enumerate(self.tokens):
            value = _hour_value(tok)
            if value is None:
                continue
            hour, minute = value
            positions = [i]
            marked = clock_24h = False
            before, after = self.free(i - 1), self.free(i + 1)
            if before is not None:
                if before.has(Kind.AT) or before.has(Kind.PART):
                    marked = True
                if offset := before.has(Kind.MINUTES):
                    minute += offset.value
                    marked = True
                    positions.append(i - 1)
                elif before.has(Kind.AT):
                    positions.append(i - 1)
            if after is not None:
                if meridiem := after.has(Kind.MERIDIEM):
                    p.meridiem = meridiem.value
                    positions.append(i + 1)
                    marked = True
                elif mark := after.has(Kind.HOUR_MARK):
                    positions.append(i + 1)
                    marked = True
                    clock_24h = mark.value == 24
                    minute += self._minutes_after_mark(i + 2, positions)
                elif offset := after.has(Kind.MINUTES):
                    minute += offset.value
                    positions.append(i + 1)
                    marked = True
                elif after.has(Kind.PART):
                    marked = True
            if marked:
                p.set_time(hour, minute, clock_24h=clock_24h)
                self.use(*positions, time=True)
        for i, tok in enumerate(self.tokens):  # "3:30 pm": a meridiem after the clock it belongs to
            meridiem = tok.has(Kind.MERIDIEM) if not tok.used else None
            if meridiem is not None and i - 1 in p.time_tokens:
                p.meridiem = meridiem.value
                self.use(i, time=True)

    def _minutes_after_mark(self, i: int, positions: list[int]) -> int:
        """"15 h 30", "3 बजकर 30 मिनट": minutes after an hour mark (two digits, or a number and "minutes")."""
        minutes, unit = self.free(i), self.free(i + 1)
        if minutes is None or minutes.number is None or minutes.digits > 2 or minutes.number >= 60:
            return 0
        unit_word = unit.has(Kind.UNIT) if unit is not None else None
        if minutes.digits != 2 and (unit_word is None or unit_word.value != 1):
            return 0
        positions.append(i)
        if unit_word is not None:
            positions.append(i + 1)
        self.p.minutes_typed = True
        return minutes.number

    def days_of_month(self) -> None:
        """"the 7th", "el 7", "7 तारीख", "7 числа"."""
        p = self.p
        for i, tok in enumerate(self.tokens):
            if tok.used or tok.number is None:
                continue
            before, after = self.at(i - 1), self.at(i + 1)
            marked_after = after is not None and after.has(Kind.DAY_MARK) is not None
            if not (tok.ordinal or marked_after or (before is not None and before.has(Kind.ARTICLE))):
                continue
            if not 1 <= tok.number <= 31:
                p.refuse(Why.NO_SUCH_DATE)
            else:
                p.set_date(None, None, tok.number)
            self.use(i, *((i + 1,) if marked_after else ()))

    def left_numbers(self) -> None:
        """A year after a date; one small number is an hour when a day is known or on a day's page."""
        p = self.p
        left = [i for i, tok in enumerate(self.tokens) if not tok.used and tok.number is not None]
        for i in left:
            tok = self.tokens[i]
            number = tok.number or 0
            if _year(tok) is not None and p.day is not None and p.year is None:
                p.year = number
                self.use(i)
            elif tok.digits <= 2 and p.hour is None and len(left) == 1:
                words = [t for t in self.tokens if t.number is None and not t.has(Kind.FILLER) and not t.has(Kind.AT)]
                if not words and not self.on_a_day and p.zone is None:
                    p.refuse(Why.BARE_NUMBER)  # "8": a day, a month or an hour?
                p.set_time(number, 0, clock_24h=tok.digits == 2 and number < 10)
                self.use(i, time=True)
            else:
                self.use(i)
                p.unknown.append(tok)

    def weekdays(self) -> None:
        """Weekdays, with "next" / "this" around them: "next Tuesday", "el próximo martes", "martes que viene"."""
        p = self.p
        for i, tok in enumerate(self.tokens):
            word = tok.has(Kind.WEEKDAY) if not tok.used else None
            if word is None:
                continue
            if p.weekday is not None and p.weekday != word.value:
                p.refuse(Why.CONFLICTING)
            p.weekday = word.value
            self.use(i)
            for j in (i - 1, i - 2, i + 1):
                near = self.free(j)
                if near is not None and (near.has(Kind.NEXT) or near.has(Kind.THIS)):
                    p.weekday_rule = Kind.NEXT if near.has(Kind.NEXT) else Kind.THIS
                    self.use(j)
                    break

    def words(self) -> None:
        """Days, parts of the day, noon and midnight, and the words that only join the others."""
        p = self.p
        for i, tok in enumerate(self.tokens):
            if tok.used or ((tok.has(Kind.THIS) or tok.has(Kind.NEXT)) and len(tok.words) == 1):
                continue  # read with what follows them, or left over
            if offset := tok.has(Kind.DAY_OFFSET):
                if p.day_offset is not None and p.day_offset != offset.value:
                    p.refuse(Why.CONFLICTING)
                p.day_offset = offset.value
            elif part := tok.has(Kind.PART):
                self._part(i, part)
            elif tok.has(Kind.NOON) or tok.has(Kind.MIDNIGHT):
                p.set_time(12 if tok.has(Kind.NOON) else 0, 0, clock_24h=True)
                p.time_tokens.add(i)
            elif tok.has(Kind.AT) or tok.has(Kind.HOUR_MARK):
                p.time_tokens.add(i)
            elif tok.has(Kind.FILLER) or tok.has(Kind.ARTICLE) or tok.has(Kind.DAY_MARK):
                pass
            elif (meridiem := tok.has(Kind.MERIDIEM)) and p.hour is not None and p.meridiem is None:
                p.meridiem = meridiem.value  # "3 de la madrugada"
                p.time_tokens.add(i)
            else:
                continue  # unknown: left unused
            tok.used = True

    def _part(self, i: int, part: Word) -> None:
        p = self.p
        if p.part is not None and p.part != part.value:
            p.refuse(Why.CONFLICTING)
        p.part = part.value
        p.time_tokens.add(i)
        before = self.free(i - 1)
        if before is not None and before.has(Kind.THIS) and p.day_offset is None:
            p.day_offset = 0  # "this afternoon"
            self.use(i - 1)


def _amount(tok: Token) -> int | None:
    if tok.number is not None and not tok.ordinal and tok.digits <= 3:
        return tok.number
    word = tok.has(Kind.NUMBER)
    return word.value if word else None


def _hour_value(tok: Token) -> tuple[int, int] | None:
    """(hour, minutes) of a token that can be an hour: a number, a number word, "डेढ़" (1:30)."""
    if tok.used:
        return None
    if tok.number is not None and not tok.ordinal and tok.digits <= 2:
        return tok.number, 0
    if word := tok.has(Kind.NUMBER):
        return word.value, 0
    if word := tok.has(Kind.CLOCK_WORD):
        return divmod(word.value, 60)
    return None


def _year(tok: Token | None) -> int | None:
    if tok is None or tok.used or tok.number is None or tok.digits != 4:
        return None
    return tok.number
