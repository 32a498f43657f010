"""Every sentence a person can see is in the catalog, and English is complete."""

from __future__ import annotations

import ast
from pathlib import Path

from babel.messages.pofile import read_po

from bot.catalog import extract, msgids
from bot.i18n import LOCALE_DIR, Translator

BOT = Path(__file__).resolve().parents[1] / "bot"
TRANSLATORS = {"t", "tc", "te", "ts"}


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
