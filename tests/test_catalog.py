"""Every sentence a person can see is in the catalog, and English is complete."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from babel.messages.pofile import read_po

from bot.catalog import extract, msgids
from bot.i18n import LOCALE_DIR, Translator, available_locales

BOT = Path(__file__).resolve().parents[1] / "bot"
TRANSLATORS = {"t", "tc", "te", "ts", "tm"}


def _catalog(locale: str):  # type: ignore[no-untyped-def]
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def test_english_catalog_has_every_sentence_of_the_source():
    en = _catalog("en")
    missing = msgids(extract()) - msgids(en)
    assert not missing, f"run `headstrt i18n update`; missing: {sorted(missing)[:5]}"
    untranslated = [m.id for m in en if m.id and not m.string]
    assert untranslated == []


def test_translators_are_only_called_with_literal_sentences():
    """A computed msgid would never reach the catalog."""
    offenders = []
    for path in BOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in TRANSLATORS and not (isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                offenders.append(f"{path.relative_to(BOT)}:{node.lineno}")
    assert offenders == []


def test_translator_formats_with_values_and_zones():
    t = Translator("en-GB", "Asia/Kolkata")
    assert t.locale == "en"
    assert t("Timezone set to {zone}. It is now {now} there.", zone="X", now="Y") == "Timezone set to X. It is now Y there."


# ---- every language's catalog is complete, and every translation keeps the message's placeholders

PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text.replace("{{", "").replace("}}", "")))


@pytest.mark.parametrize("locale", [code for code in available_locales() if code != "en"])
def test_every_language_translates_every_message_with_its_placeholders(locale: str) -> None:
    catalog = _catalog(locale)
    missing = msgids(extract()) - msgids(catalog)
    assert not missing, f"run `headstrt i18n update`, then translate: {sorted(missing)[:5]}"
    forms = catalog.num_plurals
    problems = []
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        ids = message.id if isinstance(message.id, (tuple, list)) else (message.id,)
        strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        if len(ids) > 1 and len(strings) != forms:
            problems.append(f"{len(strings)} of {forms} plural forms: {ids[0]!r}")
        wanted = set().union(*(_placeholders(i) for i in ids))
        for string in strings:
            if not string:
                problems.append(f"untranslated: {ids[0]!r}")
            elif _placeholders(string) != wanted:
                problems.append(f"placeholders {sorted(_placeholders(string))} != {sorted(wanted)}: {ids[0]!r}")
    assert problems == [], "\n".join(problems[:20])


@pytest.mark.parametrize("locale", [code for code in available_locales() if code != "en"])
def test_a_translated_catalog_is_used_and_formats_its_values(locale: str) -> None:
    t = Translator(locale, "Europe/Madrid")
    assert t.locale == locale
    english = "Timezone set to {zone}. It is now {now} there."
    shown = t(english, zone="Europe/Madrid", now="10:00")
    assert "Europe/Madrid" in shown and "10:00" in shown and shown != english.format(zone="Europe/Madrid", now="10:00")


def test_the_other_sides_time_carries_their_date_only_when_it_differs() -> None:
    from datetime import datetime, timezone

    t = Translator("en", "America/New_York")
    evening = datetime(2030, 3, 5, 23, 30, tzinfo=timezone.utc)  # 18:30 Tue in New York, 05:00 Wed in Kolkata
    assert t.both(evening, "Asia/Kolkata") == "Tue 5 Mar 2030, 18:30 (America/New_York) · Wed 6 Mar 05:00 (Asia/Kolkata)"
    morning = datetime(2030, 3, 5, 14, 0, tzinfo=timezone.utc)
    assert t.both(morning, "Europe/London") == "Tue 5 Mar 2030, 09:00 (America/New_York) · 14:00 (Europe/London)"
    assert t.both(morning, "America/New_York") == t.when(morning)


# Words that are the same in a language as in English (checked by hand), so an unchanged message is right there.
SAME_AS_ENGLISH = {"es": {"Individual", "{day} {hours} extra"}}


@pytest.mark.parametrize("locale", [code for code in available_locales() if code != "en"])
def test_no_message_is_left_in_english_in_another_language(locale: str) -> None:
    """An English sentence copied as its own translation passes every other check; catch it by its words."""
    copied = []
    for message in _catalog(locale):
        if not message.id or not isinstance(message.id, str) or message.string != message.id:
            continue
        words = re.findall(r"[A-Za-z]{4,}", PLACEHOLDER.sub("", message.id))
        if words and message.id not in SAME_AS_ENGLISH.get(locale, set()):
            copied.append(message.id)
    assert copied == [], copied[:10]


@pytest.mark.parametrize(("locale", "milli", "shown"), [
    ("en", 1000, "Price: 1 credit"), ("en", 500, "Price: 0.5 credits"), ("en", 2000, "Price: 2 credits"),
    ("es", 1000, "Precio: 1 crédito"), ("es", 1500, "Precio: 1,5 créditos"),
    ("ru", 1000, "Цена: 1 кредит"), ("ru", 21000, "Цена: 21 кредит"), ("ru", 3000, "Цена: 3 кредита"),
    ("ru", 500, "Цена: 0,5 кредита"), ("ru", 5000, "Цена: 5 кредитов"), ("ru", 11000, "Цена: 11 кредитов"),
])
def test_an_amount_of_credits_takes_its_languages_plural_form(locale: str, milli: int, shown: str) -> None:
    """Not "1 credits": the catalog's plural forms pick the word, a fraction takes the form of 2."""
    from types import SimpleNamespace

    from bot.words import price_line

    booking = SimpleNamespace(price_milli=milli, money_minor=None)
    assert price_line(Translator(locale), booking) == shown  # type: ignore[arg-type]


def test_no_sentence_puts_a_number_before_a_counted_noun_without_the_plural_forms():
    """"{credits} credits" in a plain t(...) would show "1 credits"; such sentences go through t.plural."""
    counted = re.compile(r"\{\w+\} (credits|minutes|hours|days|meetings|sessions|files|characters|messages|requests)\b")
    plain = [m.id for m in extract() if isinstance(m.id, str) and counted.search(m.id)]
    assert plain == []
