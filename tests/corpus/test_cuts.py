"""Where long text is cut into platform messages: within each platform's limit as it counts (Telegram in
UTF-16 units of the parsed text, Slack in escaped characters), and never inside an emoji sequence, a flag
or a letter with its accents, which would show as broken halves on both sides of the cut."""

from __future__ import annotations

import html

import pytest

from bot.adapters.slack.blocks import MAX_SECTION, split_sections
from bot.adapters.telegram.render import MAX_MESSAGE_UNITS, split_for_telegram, utf16_len
from bot.replies import MAX_TEXT_CHARS, chunk_text
from core.text import safe_cut
from tests.corpus.corpus import FAMILY, SMILE

CLUSTERS = {
    "family": FAMILY,  # 7 code points, 11 UTF-16 units
    "flag": "🇺🇦",  # two regional indicators
    "rainbow": "🏳️‍🌈",  # flag, variation selector, ZWJ, rainbow
    "thumbs": "👍🏽",  # skin-tone modifier
    "accents": "Z̷̢̛",  # a letter and three combining marks
    "smile": SMILE,
}


def whole(pieces: list[str], cluster: str) -> None:
    assert "".join(pieces).count(cluster) == sum(p.count(cluster) for p in pieces)  # none was cut apart
    assert all(p.replace(cluster, "") in ("", "x") for p in pieces), [p[:20] for p in pieces]


@pytest.mark.parametrize("name", CLUSTERS)
def test_a_giant_line_of_emoji_is_cut_between_them_on_every_platform(name):
    cluster = CLUSTERS[name]
    line = "x" + cluster * (9000 // len(cluster))  # the "x" puts every cut off the cluster grid
    telegram = split_for_telegram(line)
    assert len(telegram) > 1 and all(utf16_len(p) <= MAX_MESSAGE_UNITS for p in telegram)
    whole(telegram, cluster)
    slack = [html.unescape(p) for p in split_sections(line)]
    assert len(slack) > 1 and all(len(p) <= MAX_SECTION for p in split_sections(line))
    whole(slack, cluster)
    chunks = chunk_text(line)
    assert len(chunks) > 1 and all(len(p) <= MAX_TEXT_CHARS for p in chunks)
    whole(chunks, cluster)
    assert "".join(telegram) == "".join(slack) == "".join(chunks) == line  # nothing lost or added


def test_escaping_that_grows_the_text_still_fits_a_slack_section():
    for char in "&<>":
        pieces = split_sections(char * 3000)
        assert all(len(p) <= MAX_SECTION for p in pieces) and html.unescape("".join(pieces)) == char * 3000
    assert split_for_telegram("&" * 4096) == ["&" * 4096]  # Telegram counts the parsed text: one message


def test_a_cluster_longer_than_the_limit_is_still_cut():
    assert safe_cut("e" + "\u0301" * 10, 5) == 5  # nowhere better: cut anyway rather than loop
    assert safe_cut("ab🇺🇦🇺🇦", 5) == 4 and safe_cut("ab🇺🇦🇺🇦", 4) == 4 and safe_cut(f"a{FAMILY}", 3) == 1


def test_a_shortened_line_ends_with_an_ellipsis_after_a_whole_emoji():
    from core.text import clip

    assert clip("short", 10) == "short"
    assert clip("ab" + FAMILY * 3, 12) == "ab" + FAMILY + "…"  # not "ab" + 7 code points of a second family
    assert clip("Cafe\u0301 au lait", 5) == "Caf…"
    assert len(clip("x" * 100, 40)) == 40
