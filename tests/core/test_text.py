"""core.text.clean_text: what is kept and what is dropped of outside text."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from core.text import clean_text


def allowed(char: str) -> bool:
    return char in "\n\t" or (unicodedata.category(char) not in ("Cc", "Cs"))


@given(st.text(st.characters(codec=None)))
def test_clean_text_keeps_everything_but_control_characters(text):
    cleaned = clean_text(text)
    assert all(allowed(c) for c in cleaned)
    assert clean_text(cleaned) == cleaned
    assert cleaned == "".join(c for c in text.replace("\r\n", "\n").replace("\r", "\n") if allowed(c))
    assert "\n" not in clean_text(text, one_line=True) and "\t" not in clean_text(text, one_line=True)


def test_clean_text_examples():
    assert clean_text("Seed\x00 round\x1b[0m\u0085 plan\r\nline\ttwo\ud800") == "Seed round[0m plan\nline\ttwo"
    assert clean_text("  Ana\n\tLee  ", one_line=True) == "  Ana  Lee  "
    assert clean_text("\u202eRTL \U0001F469\u200d\U0001F4BB emoji, \u00a0 no-break") == \
        "\u202eRTL \U0001F469\u200d\U0001F4BB emoji, \u00a0 no-break"  # format characters and emoji stay
