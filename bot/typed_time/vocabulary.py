"""The words a typed time is made of, per language: the person's language first, then English, then the few
German and French forms people type anyway ("um 15 Uhr", "morgen 15 Uhr", "demain 15h").

Day and month names come from Babel (every form the bot itself shows, so a time shown can be typed back);
the rest is written here. Each word maps to what it can mean, most likely first; the grammar picks by context
("mar" in Spanish is Tuesday before a date and March after a day number).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import Enum, auto
from functools import lru_cache

from babel import Locale

LANGUAGES = ("en", "es", "hi", "ru")


class Kind(Enum):
    WEEKDAY = auto()  # value: 0 = Monday
    MONTH = auto()  # value: 1..12
    DAY_OFFSET = auto()  # value: days from today (tomorrow = 1)
    NEXT = auto()  # "next Tuesday": the first one after today
    THIS = auto()  # "this Tuesday": the first one from today on
    AT = auto()  # "at", "a las", "um", "в": an hour follows
    ARTICLE = auto()  # "the", "el": "el 7" is the 7th of the month
    FILLER = auto()  # "on", "de", "को": nothing of its own
    MERIDIEM = auto()  # value: 0 am, 1 pm
    PART = auto()  # value: index into PARTS
    NOON = auto()
    MIDNIGHT = auto()
    HOUR_MARK = auto()  # "o'clock", "बजे", "часа"; value 24: a 24-hour mark ("15h", "9 Uhr" is 09:00)
    MINUTES = auto()  # value: minutes added to the hour next to it ("half past", "y media", "साढ़े", "पौने")
    CLOCK_WORD = auto()  # value: minutes after midnight of an hour word with its minutes ("डेढ़" = 1:30)
    IN = auto()  # "in", "через", "में" (before or after the amount)
    UNIT = auto()  # value: minutes in one ("hours" = 60)
    NUMBER = auto()  # a number written as a word; value: the number
    DAY_MARK = auto()  # "तारीख", "числа": the number before it is a day of the month


@dataclass(frozen=True, slots=True)
class Word:
    kind: Kind
    value: int = 0


# Index of Kind.PART values; the meaning of each part lives in the reader.
PARTS = ("morning", "afternoon", "evening", "night")
MORNING, AFTERNOON, EVENING, NIGHT = (Word(Kind.PART, i) for i in range(4))


def _w(kind: Kind, value: int = 0) -> Word:
    return Word(kind, value)


TODAY, TOMORROW, DAY_AFTER, YESTERDAY = (_w(Kind.DAY_OFFSET, d) for d in (0, 1, 2, -1))
NEXT, THIS, AT, ARTICLE, FILLER = (_w(k) for k in (Kind.NEXT, Kind.THIS, Kind.AT, Kind.ARTICLE, Kind.FILLER))
AM, PM = _w(Kind.MERIDIEM, 0), _w(Kind.MERIDIEM, 1)
NOON, MIDNIGHT, HOUR_MARK, IN, DAY_MARK = (_w(k) for k in (Kind.NOON, Kind.MIDNIGHT, Kind.HOUR_MARK, Kind.IN, Kind.DAY_MARK))
HOUR_MARK_24 = _w(Kind.HOUR_MARK, 24)
MINUTE_UNIT, HALF_HOUR_UNIT, HOUR_UNIT, DAY_UNIT, WEEK_UNIT = (_w(Kind.UNIT, m) for m in (1, 30, 60, 1440, 10080))
HALF_PAST, QUARTER_PAST, QUARTER_TO = (_w(Kind.MINUTES, m) for m in (30, 15, -15))

Entry = Word | tuple[Word, ...]
Phrase = tuple[tuple[Word, ...], ...]  # one tuple of meanings per token the phrase becomes


def _numbers(*names: str) -> dict[str, Entry]:
    """Number words: names[0] is one, names[1] two, ...; "a|b" gives two spellings of one number."""
    out: dict[str, Entry] = {}
    for n, spellings in enumerate(names, start=1):
        for name in spellings.split("|"):
            out[name] = _w(Kind.NUMBER, n)
    return out


_EN: dict[str, Entry] = {
    "today": TODAY, "tomorrow": TOMORROW, "tmrw": TOMORROW, "tmr": TOMORROW, "yesterday": YESTERDAY,
    "next": NEXT, "this": THIS, "coming": THIS,
    "at": AT, "@": AT, "around": AT, "the": ARTICLE, "on": FILLER, "of": FILLER, "for": FILLER,
    "am": AM, "pm": PM, "noon": NOON, "midday": NOON, "midnight": MIDNIGHT,
    "morning": MORNING, "afternoon": AFTERNOON, "evening": EVENING, "night": NIGHT,
    "o'clock": HOUR_MARK, "oclock": HOUR_MARK,
    "in": IN, "hours": HOUR_UNIT, "hour": HOUR_UNIT, "hrs": HOUR_UNIT, "hr": HOUR_UNIT, "h": HOUR_UNIT,
    "minutes": MINUTE_UNIT, "minute": MINUTE_UNIT, "mins": MINUTE_UNIT, "min": MINUTE_UNIT,
    "days": DAY_UNIT, "day": DAY_UNIT, "weeks": WEEK_UNIT, "week": WEEK_UNIT,
    "a": _w(Kind.NUMBER, 1), "an": _w(Kind.NUMBER, 1),
    "tues": _w(Kind.WEEKDAY, 1), "weds": _w(Kind.WEEKDAY, 2), "thur": _w(Kind.WEEKDAY, 3),
    "thurs": _w(Kind.WEEKDAY, 3), "sept": _w(Kind.MONTH, 9),
    **_numbers("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"),
}
_EN_PHRASES: dict[tuple[str, ...], Phrase] = {
    ("tonight",): ((TODAY,), (EVENING,)),
    ("day", "after", "tomorrow"): ((DAY_AFTER,),),
    ("the", "day", "after", "tomorrow"): ((DAY_AFTER,),),
    ("in", "the", "morning"): ((MORNING,),),
    ("in", "the", "afternoon"): ((AFTERNOON,),),
    ("in", "the", "evening"): ((EVENING,),),
    ("at", "night"): ((NIGHT,),),
    ("half", "past"): ((HALF_PAST,),),
    ("quarter", "past"): ((QUARTER_PAST,),),
    ("a", "quarter", "past"): ((QUARTER_PAST,),),
    ("quarter", "to"): ((QUARTER_TO,),),
    ("a", "quarter", "to"): ((QUARTER_TO,),),
    ("half", "an", "hour"): ((HALF_HOUR_UNIT,),),
    ("from", "now"): ((IN,),),
    ("this", "coming"): ((THIS,),),
}

_ES: dict[str, Entry] = {
    "hoy": TODAY, "mañana": TOMORROW, "ayer": YESTERDAY,
    "próximo": NEXT, "próxima": NEXT, "siguiente": NEXT, "este": THIS, "esta": THIS,
    "el": ARTICLE, "la": FILLER, "las": FILLER, "los": FILLER, "de": FILLER, "del": FILLER, "a": FILLER,
    "por": FILLER, "para": FILLER, "al": FILLER, "hs": HOUR_MARK_24,
    "mediodía": NOON, "medianoche": MIDNIGHT, "madrugada": AM,
    "tarde": AFTERNOON, "noche": NIGHT,
    "en": IN, "horas": HOUR_UNIT, "hora": HOUR_UNIT, "minutos": MINUTE_UNIT, "minuto": MINUTE_UNIT,
    "días": DAY_UNIT, "día": DAY_UNIT, "semanas": WEEK_UNIT, "semana": WEEK_UNIT,
    "set": _w(Kind.MONTH, 9), "setiembre": _w(Kind.MONTH, 9),
    **_numbers("una|uno|un", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez", "once", "doce"),
}
_ES_PHRASES: dict[tuple[str, ...], Phrase] = {
    ("pasado", "mañana"): ((DAY_AFTER,),),
    ("a", "las"): ((AT,),), ("a", "la"): ((AT,),),
    **{(*lead, "mañana"): ((MORNING,),) for lead in (("la",), ("de", "la"), ("por", "la"), ("en", "la"))},
    **{(*lead, "tarde"): ((AFTERNOON,),) for lead in (("la",), ("de", "la"), ("por", "la"), ("en", "la"))},
    **{(*lead, "noche"): ((NIGHT,),) for lead in (("la",), ("de", "la"), ("por", "la"), ("en", "la"))},
    ("esta", "mañana"): ((TODAY,), (MORNING,)),
    ("esta", "tarde"): ((TODAY,), (AFTERNOON,)),
    ("esta", "noche"): ((TODAY,), (EVENING,)),
    ("que", "viene"): ((NEXT,),),
    ("y", "media"): ((HALF_PAST,),), ("y", "cuarto"): ((QUARTER_PAST,),), ("menos", "cuarto"): ((QUARTER_TO,),),
    ("dentro", "de"): ((IN,),),
    ("media", "hora"): ((HALF_HOUR_UNIT,),),
    ("en", "punto"): ((HOUR_MARK,),),
}

_RU: dict[str, Entry] = {
    "сегодня": TODAY, "завтра": TOMORROW, "послезавтра": DAY_AFTER, "вчера": YESTERDAY,
    **dict.fromkeys(("следующий", "следующую", "следующее", "следующая", "следующей"), NEXT),
    **dict.fromkeys(("этот", "эту", "это", "эта", "ближайший", "ближайшую", "ближайшее", "ближайшая"), THIS),
    "в": AT, "во": AT, "к": AT, "на": FILLER,
    "утра": MORNING, "утром": MORNING, "дня": (AFTERNOON, DAY_UNIT), "днём": AFTERNOON,
    "вечера": EVENING, "вечером": EVENING, "ночи": NIGHT, "ночью": NIGHT,
    "полдень": NOON, "полночь": MIDNIGHT,
    "час": (HOUR_MARK, HOUR_UNIT), "часа": (HOUR_MARK, HOUR_UNIT), "часов": (HOUR_MARK, HOUR_UNIT),
    "ч": (HOUR_MARK, HOUR_UNIT),
    "через": IN, "минут": MINUTE_UNIT, "минуты": MINUTE_UNIT, "минуту": MINUTE_UNIT, "мин": MINUTE_UNIT,
    "день": DAY_UNIT, "дней": DAY_UNIT, "неделю": WEEK_UNIT, "недели": WEEK_UNIT, "недель": WEEK_UNIT,
    "полчаса": HALF_HOUR_UNIT, "числа": DAY_MARK,
    "среду": _w(Kind.WEEKDAY, 2), "пятницу": _w(Kind.WEEKDAY, 4), "субботу": _w(Kind.WEEKDAY, 5),
    **_numbers("один|одну|одна", "два|две", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять", "десять",
               "одиннадцать", "двенадцать"),
}
_RU_PHRASES: dict[tuple[str, ...], Phrase] = {}

_HI: dict[str, Entry] = {
    "आज": TODAY, "कल": TOMORROW, "परसों": DAY_AFTER,  # कल is also yesterday; a booking looks ahead
    "अगले": NEXT, "अगला": NEXT, "अगली": NEXT, "इस": THIS, "इसी": THIS,
    "को": FILLER, "बजे": HOUR_MARK, "बजकर": HOUR_MARK,
    "सुबह": MORNING, "दोपहर": AFTERNOON, "शाम": EVENING, "रात": NIGHT, "मध्यरात्रि": MIDNIGHT,
    "में": IN, "घंटे": HOUR_UNIT, "घंटा": HOUR_UNIT, "घंटों": HOUR_UNIT, "मिनट": MINUTE_UNIT, "दिन": DAY_UNIT,
    "हफ़्ते": WEEK_UNIT, "हफ्ते": WEEK_UNIT, "हफ़्ता": WEEK_UNIT, "हफ्ता": WEEK_UNIT, "सप्ताह": WEEK_UNIT,
    "साढ़े": HALF_PAST, "सवा": QUARTER_PAST, "पौने": QUARTER_TO,
    "डेढ़": _w(Kind.CLOCK_WORD, 90), "ढाई": _w(Kind.CLOCK_WORD, 150),
    "तारीख": DAY_MARK, "तारीख़": DAY_MARK,
    "बृहस्पतिवार": _w(Kind.WEEKDAY, 3), "इतवार": _w(Kind.WEEKDAY, 6),
    # Hindi typed in Latin letters, as many people do on a phone
    "aaj": TODAY, "kal": TOMORROW, "parso": DAY_AFTER, "parson": DAY_AFTER, "baje": HOUR_MARK,
    "subah": MORNING, "dopahar": AFTERNOON, "dopehar": AFTERNOON, "shaam": EVENING, "sham": EVENING,
    "raat": NIGHT, "agle": NEXT, "ko": FILLER, "ghante": HOUR_UNIT,
    **_numbers("एक", "दो", "तीन", "चार", "पाँच|पांच", "छह|छः|छे", "सात", "आठ", "नौ", "दस", "ग्यारह", "बारह"),
}
_HI_PHRASES: dict[tuple[str, ...], Phrase] = {
    ("आधी", "रात"): ((MIDNIGHT,),),
}

# German and French: only the forms people type into any bot ("um 15 Uhr", "morgen 15 Uhr", "demain 15h").
_EXTRA: dict[str, Entry] = {
    "heute": TODAY, "morgen": TOMORROW, "übermorgen": DAY_AFTER, "um": AT, "uhr": HOUR_MARK_24, "am": FILLER,
    "aujourd'hui": TODAY, "demain": TOMORROW, "après-demain": DAY_AFTER, "à": AT, "h": HOUR_MARK_24,
}

_OWN: dict[str, tuple[dict[str, Entry], dict[tuple[str, ...], Phrase]]] = {
    "en": (_EN, _EN_PHRASES), "es": (_ES, _ES_PHRASES), "ru": (_RU, _RU_PHRASES), "hi": (_HI, _HI_PHRASES),
}

# Examples that the reader reads as one exact time, in each language (for "I could not read that").
EXAMPLES = {"en": "tomorrow 3pm", "es": "mañana a las 15:00", "ru": "завтра в 15:00", "hi": "कल दोपहर 3 बजे"}
EXAMPLES_ON_A_DAY = {"en": "3pm", "es": "a las 15:00", "ru": "в 15:00", "hi": "दोपहर 3 बजे"}

# Numeric dates ("7/12"): es, ru and hi write the day first; English writers differ, so it is asked.
_DAY_FIRST = {"en": False, "es": True, "ru": True, "hi": True}

_TRIM = ".'’॰"


def key(word: str) -> str:
    """A word as the lexicon stores it: NFKC, case-folded, without the dots of abbreviations."""
    return unicodedata.normalize("NFKC", word).casefold().replace("’", "'").strip(_TRIM)


def plain(word: str) -> str:
    """Without accents, for Latin and Cyrillic words ("manana", "miercoles", "днем"); Devanagari stays whole,
    its marks are letters."""
    if any("\u0900" <= c <= "\u097f" for c in word):
        return word
    decomposed = unicodedata.normalize("NFD", word)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


@dataclass(frozen=True, slots=True)
class Lexicon:
    language: str
    words: dict[str, tuple[Word, ...]]
    phrases: dict[tuple[str, ...], Phrase]
    longest_phrase: int
    day_first: bool  # numeric dates "7/12": day first; False = ask unless it can only be one
    clock_24h: bool  # "9:30" means 09:30 without asking (the locale writes a 24-hour clock)
    english_months: frozenset[str]  # month words that may come before the day ("Dec 7")
    example: str
    example_on_a_day: str

    def meanings(self, word: str) -> tuple[Word, ...]:
        return self.words.get(word) or self.words.get(plain(word)) or ()


def _babel_names(language: str) -> dict[str, Entry]:
    """Every day and month name Babel shows for the locale (abbreviated and wide, in and out of context)."""
    loc = Locale.parse(language)
    days: dict[str, list[Word]] = {}
    months: dict[str, list[Word]] = {}
    for context in ("format", "stand-alone"):
        for width in ("abbreviated", "wide"):
            for i, name in loc.days[context][width].items():
                days.setdefault(key(name), []).append(_w(Kind.WEEKDAY, i))
            for i, name in loc.months[context][width].items():
                months.setdefault(key(name), []).append(_w(Kind.MONTH, i))
    out: dict[str, Entry] = {}
    for name in days.keys() | months.keys():
        out[name] = tuple(dict.fromkeys([*days.get(name, ()), *months.get(name, ())]))
    return out


def _add(target: dict[str, list[Word]], entries: dict[str, Entry]) -> None:
    """Each word, and its form without accents unless that is a word of its own ("à" is not "a")."""
    for word, entry in entries.items():
        meanings = entry if isinstance(entry, tuple) else (entry,)
        k = key(word)
        forms = [k]
        if plain(k) != k and plain(k) not in target:
            forms.append(plain(k))
        for form in forms:
            slot = target.setdefault(form, [])
            slot.extend(m for m in meanings if m not in slot)


def normalise_language(language: str | None) -> str:
    base = (language or "en").replace("-", "_").split("_")[0].lower()
    return base if base in LANGUAGES else "en"


@lru_cache(maxsize=None)
def lexicon(language: str) -> Lexicon:
    """The person's language first, then English, then the German and French forms."""
    language = normalise_language(language)
    order = [language] if language == "en" else [language, "en"]
    words: dict[str, list[Word]] = {}
    phrases: dict[tuple[str, ...], Phrase] = {}
    for lang in order:
        own, own_phrases = _OWN[lang]
        _add(words, _babel_names(lang))
        _add(words, own)
        for phrase, meaning in own_phrases.items():
            phrases.setdefault(tuple(key(p) for p in phrase), meaning)
            phrases.setdefault(tuple(plain(key(p)) for p in phrase), meaning)  # "por la manana"
    _add(words, _EXTRA)
    english_months = frozenset(
        w for w, entry in words.items()
        if any(m.kind is Kind.MONTH for m in entry) and (language == "en" or entry[0].kind is Kind.MONTH)
        and w in _english_month_names()
    )
    pattern = Locale.parse(language).time_formats["short"].pattern
    return Lexicon(
        language=language,
        words={w: tuple(m) for w, m in words.items()},
        phrases=phrases,
        longest_phrase=max((len(p) for p in phrases), default=1),
        day_first=_DAY_FIRST[language],
        clock_24h="h" not in pattern and "K" not in pattern,
        english_months=english_months,
        example=EXAMPLES[language],
        example_on_a_day=EXAMPLES_ON_A_DAY[language],
    )


@lru_cache(maxsize=1)
def _english_month_names() -> frozenset[str]:
    names = {w for w, e in _babel_names("en").items() for m in (e if isinstance(e, tuple) else (e,)) if m.kind is Kind.MONTH}
    return frozenset(names | {"sept"})
