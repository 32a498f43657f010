"""Every user-facing sentence goes through a gettext catalog (bot/locale/<lang>/LC_MESSAGES/messages.po);
dates, times and amounts are formatted for the person's locale, and every time carries its zone."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, get_currency_precision
from babel.support import NullTranslations, Translations

from core.amounts import Money, milli_to_credits
from core.purchases import STARS

LOCALE_DIR = Path(__file__).with_name("locale")
DEFAULT_LOCALE = "en"
# How a time is shown (Babel patterns). bot/typed_time reads each of them back in every language.
WHEN_PATTERN = "EEE d MMM y, HH:mm"
DAY_PATTERN = "EEE d MMM"
TIME_PATTERN = "HH:mm"


def available_locales() -> tuple[str, ...]:
    return tuple(sorted(p.name for p in LOCALE_DIR.iterdir() if (p / "LC_MESSAGES" / "messages.po").exists()))


def normalise_locale(code: str | None) -> str:
    """"en-GB", "pt_BR", "es" -> a locale we have a catalog for, else English."""
    if not code:
        return DEFAULT_LOCALE
    code = code.replace("-", "_")
    have = available_locales()
    if code in have:
        return code
    base = code.split("_")[0].lower()
    return base if base in have else DEFAULT_LOCALE


@lru_cache(maxsize=32)
def _translations(locale: str) -> NullTranslations:
    po = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog)  # compiled in memory: no build step, no .mo files to forget
    buffer.seek(0)
    return Translations(buffer)


class Translator:
    def __init__(self, locale: str = DEFAULT_LOCALE, timezone: str = "UTC") -> None:
        self.locale = normalise_locale(locale)
        self.timezone = timezone
        self._t = _translations(self.locale)
        try:
            self._babel = Locale.parse(self.locale)
        except (UnknownLocaleError, ValueError):
            self._babel = Locale.parse(DEFAULT_LOCALE)

    def __call__(self, message: str, **values: object) -> str:
        text = self._t.gettext(message)
        return text.format(**values) if values else text

    def plural(self, singular: str, plural: str, n: int, **values: object) -> str:
        return self._t.ngettext(singular, plural, n).format(n=n, **values)

    # ---- formatting

    def when(self, at: datetime, timezone: str | None = None) -> str:
        """"Tue 5 Mar 2030, 10:00 (Europe/London)": always with the zone it is shown in."""
        tz = timezone or self.timezone
        text = format_datetime(at, WHEN_PATTERN, tzinfo=ZoneInfo(tz), locale=self._babel)
        return f"{text} ({tz})"

    def time(self, at: datetime, timezone: str | None = None) -> str:
        tz = timezone or self.timezone
        return f"{format_time(at, TIME_PATTERN, tzinfo=ZoneInfo(tz), locale=self._babel)}"

    def day(self, at: datetime, timezone: str | None = None) -> str:
        tz = timezone or self.timezone
        return format_date(at.astimezone(ZoneInfo(tz)).date(), DAY_PATTERN, locale=self._babel)

    def weekday(self, index: int) -> str:
        """A weekday's full name in this locale, 0 = Monday."""
        return str(self._babel.days["format"]["wide"][index])

    def both(self, at: datetime, other_tz: str) -> str:
        """The time in this person's zone, with the other side's for reference."""
        if other_tz == self.timezone:
            return self.when(at)
        theirs = self.time(at, other_tz)
        if at.astimezone(ZoneInfo(other_tz)).date() != at.astimezone(ZoneInfo(self.timezone)).date():
            theirs = f"{self.day(at, other_tz)} {theirs}"  # their date too, when the day differs for them
        return f"{self.when(at)} · {theirs} ({other_tz})"

    def credits(self, milli: int) -> str:
        return format_decimal(milli_to_credits(milli), format="#,##0.###", locale=self._babel)

    @staticmethod
    def credits_n(milli: int) -> int:
        """The n that picks the plural form for an amount of credits: `t.plural("{credits} credit",
        "{credits} credits", t.credits_n(milli), credits=t.credits(milli))`. A fraction (0.5, 1.5) takes
        the form of 2 in every catalog we have: English and Spanish plural, Russian "кредита"."""
        whole, part = divmod(milli, 1000)
        return whole if part == 0 else 2

    def price(self, minor: int, currency: str) -> str:
        """An exact amount in the currency's minor unit: cents as dollars, yen as yen, Telegram Stars as ⭐."""
        if currency == STARS:
            return f"{format_decimal(minor, locale=self._babel)} ⭐"
        return format_currency(Decimal(minor).scaleb(-get_currency_precision(currency)), currency, locale=self._babel)

    def money(self, money: Money) -> str:
        return format_currency(Decimal(money.minor) / 100, money.currency, locale=self._babel)
