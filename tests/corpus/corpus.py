"""Hostile text for the booking fields: markup of every platform, entities, control characters, right-to-left
marks, emoji sequences and combining marks, and every field at its limit and one over. What a field is
expected to hold after it was typed is computed here the way the boundary and the core clean it."""

from __future__ import annotations

from dataclasses import dataclass

from core.sessions import OUTCOME_MAX, TEXT_MAX, TITLE_MAX
from core.text import clean_text

FIELDS = ("title", "outcome", "intro", "context")
LIMITS = {"title": TITLE_MAX, "outcome": OUTCOME_MAX, "intro": TEXT_MAX, "context": TEXT_MAX}
FAMILY = "👩‍👩‍👧‍👦"  # one emoji of 7 code points joined by ZWJ
SMILE = "😀"  # outside the BMP: 1 Python character, 2 UTF-16 units, 4 UTF-8 bytes


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    title: str
    outcome: str
    intro: str
    context: str

    def value(self, field: str) -> str:
        return str(getattr(self, field))


def same(name: str, text: str) -> Case:
    """The same text in every field (the title cut to its limit)."""
    return Case(name, text[:TITLE_MAX], text, text, text)


def filled(n: int, pattern: str = "<b>&amp;*_~`x ") -> str:
    """Exactly n characters of `pattern` repeated, ending in an emoji outside the BMP (so a cut made by
    UTF-16 units or bytes falls inside it) and never in a space (which trimming would take away)."""
    body = (pattern * (n // len(pattern) + 1))[:n - 1].rstrip()
    body += "x" * (n - 1 - len(body))
    return body + SMILE


HOSTILE: tuple[Case, ...] = (
    same("html", "<b>x</b> <i>it</i> <a href=\"https://evil.example\">click</a> </b> <tg-spoiler>s</tg-spoiler>"),
    same("entities", "&amp; &lt; &gt; &quot; &#39; &nbsp; &#x1F600; & < > R&D"),
    same("slack-markup", "<!channel> <!here> <@U123> <#C123|general> <https://evil.example|click> <!subteam^S1>"),
    same("bare-links", "https://evil.example #general @channel @here mailto:x@evil.example"),
    same("mrkdwn", "*bold* _it_ ~s~ `code` ```block``` > quote :smile:"),
    same("nul", "a\x00b plan"),
    same("controls", "\x07\x1b[31mred\x1b[0m\x7f\x85 \x0b\x0cplan"),
    same("rtl", "\u202eRTL override\u202c \u200fمرحبا\u200f שלום"),
    same("emoji", f"{FAMILY}🏳️‍🌈 👍🏽 🇺🇦 {SMILE}"),
    same("combining", "Z̷̢̛a̴̡l̸̨g̵̢o̶ e\u0301 n\u0303 \u0928\u093f"),
    same("tab", "first\tsecond"),
    Case("lines", "one line", "line one\nline two\n\nline four", "hi\r\nthere", "a\n" * 10 + "end"),
    Case("at-limit", filled(TITLE_MAX), filled(OUTCOME_MAX), filled(TEXT_MAX), filled(TEXT_MAX)),
    Case("emoji-wall", SMILE * TITLE_MAX, SMILE * OUTCOME_MAX,
         FAMILY * (TEXT_MAX // len(FAMILY)) + SMILE * (TEXT_MAX % len(FAMILY)), SMILE * TEXT_MAX),
    Case("escape-growth", "&" * TITLE_MAX, ">" * OUTCOME_MAX, "<" * TEXT_MAX, "&" * TEXT_MAX),
)

OVER = {field: filled(limit + 1) for field, limit in LIMITS.items()}
AT = {field: filled(limit) for field, limit in LIMITS.items()}


def stored(field: str, typed: str) -> str:
    """What the booking keeps of `typed`: control characters (except newline and tab) gone at the boundary,
    then the core's trimming (a title is one line of single spaces)."""
    text = clean_text(typed)
    return " ".join(text.split()) if field == "title" else text.strip()


def one_line(text: str) -> bool:
    return "\n" not in text and "\r" not in text
