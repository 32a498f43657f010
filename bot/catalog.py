"""Keep the gettext catalogs in step with the source: `headstrt i18n update` extracts every
sentence passed to a translator (t, tc, te, ts, t.plural) and writes bot/locale/*/messages.po.
English is the source language, so its catalog is filled with the sentences themselves."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.i18n import LOCALE_DIR

SOURCE = Path(__file__).resolve().parent
KEYWORDS = {"t": None, "tc": None, "te": None, "ts": None, "tm": None, "plural": (1, 2)}


def extract() -> Catalog:
    catalog = Catalog(project="headstrt", domain="messages")
    method_map = [("**.py", "python")]
    for filename, lineno, message, comments, context in extract_from_dir(
        str(SOURCE), method_map=method_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def msgids(catalog: Catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def update(locales: tuple[str, ...] = ("en",)) -> dict[str, int]:
    counts: dict[str, int] = {}
    for locale in locales:
        template = extract()  # afresh per language: Catalog.update shares the template's messages, and English fills them
        path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=locale)
        else:
            catalog = Catalog(locale=locale, project="headstrt", domain="messages")
        created = catalog.creation_date
        catalog.update(template, no_fuzzy_matching=True)
        catalog.creation_date = created  # no diff from a run that changed no message
        catalog.fuzzy = False
        if locale == "en":
            for message in catalog:
                if message.id and not message.string:
                    message.string = message.id
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, no_location=True, sort_output=True, ignore_obsolete=True)
        counts[locale] = sum(1 for m in catalog if m.id)
    return counts
