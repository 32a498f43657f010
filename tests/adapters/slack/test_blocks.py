"""Outbox payloads become Slack messages: escaped mrkdwn sections within Slack's limits, buttons last."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.adapters.slack.blocks import (
    EMPTY_FALLBACK, MAX_BLOCKS, MAX_BUTTON_TEXT, MAX_SECTION, SlackMessage, actions, escape, messages, split_sections,
)

ENTITY_CUT = re.compile(r"&(a(m(p)?)?|l(t)?|g(t)?)?$")  # a piece ending in a partial entity


def _block_ids(message: SlackMessage) -> list[str]:
    return [b["block_id"] for b in message.blocks]


def _action_ids(message: SlackMessage) -> list[str]:
    return [e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]


def _payload(text: str, buttons: list[list[list[str]]] | None = None, **extra: Any) -> dict[str, Any]:
    return {"text": text, "buttons": buttons or [], "replace": False, **extra}


def test_escape_neutralises_pings_and_links():
    assert escape("<!channel> hi <@U123> & <https://x.test|click>") == (
        "&lt;!channel&gt; hi &lt;@U123&gt; &amp; &lt;https://x.test|click&gt;"
    )
    assert escape("&amp;") == "&amp;amp;"  # the flow's text is plain: shown as typed


def test_a_short_reply_is_one_section_with_escaped_fallback_text():
    [message] = messages(_payload("Ping <!channel> & <@U123>"))
    assert message.edit is None
    assert message.text == "Ping &lt;!channel&gt; &amp; &lt;@U123&gt;"
    assert message.blocks == [{"type": "section", "block_id": "s0",
                               "text": {"type": "mrkdwn", "text": "Ping &lt;!channel&gt; &amp; &lt;@U123&gt;",
                                        "verbatim": True}}]


def test_long_text_full_of_ampersands_splits_after_escaping_and_never_inside_an_entity():
    text = "Tom & Jerry <3 " * 250 + "\n" + "&" * 2000 + "\n" + "a&b\n" * 312  # 7000 plain, ~18000 escaped
    assert len(text) == 7000 and len(escape(text)) > 17000
    pieces = split_sections(text)
    assert len(pieces) > 3
    assert all(len(p) <= MAX_SECTION for p in pieces)
    assert not any(ENTITY_CUT.search(p) for p in pieces)
    assert "".join(p.replace("\n", "") for p in pieces) == escape(text).replace("\n", "")
    [message] = messages(_payload(text))
    sections = [b["text"]["text"] for b in message.blocks]
    assert all(len(s) <= MAX_SECTION for s in sections)
    assert message.text == sections[0] and len(message.text) <= MAX_SECTION


def test_a_hard_split_stops_before_an_entity_that_would_not_fit():
    assert split_sections("ab&cd", limit=6) == ["ab", "&amp;c", "d"]
    assert split_sections("aaaa\nbbbb\ncc", limit=9) == ["aaaa\nbbbb", "cc"]
    assert split_sections("x" * 3000) == ["x" * 3000]
    assert split_sections("") == [""]
    with pytest.raises(ValueError):
        split_sections("x", limit=4)


def test_buttons_are_one_actions_block_per_row_with_unique_action_ids():
    rows = [[["Yes", "1|book|ok"], ["No", "1|book|no"]], [["Later", "1|book|later"]]]
    [message] = messages(_payload("Book it?", rows))
    assert [b["type"] for b in message.blocks] == ["section", "actions", "actions"]
    assert message.blocks[1] == {"type": "actions", "block_id": "a0", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "Yes", "emoji": True}, "action_id": "b0",
         "value": "1|book|ok"},
        {"type": "button", "text": {"type": "plain_text", "text": "No", "emoji": True}, "action_id": "b1",
         "value": "1|book|no"},
    ]}
    assert message.blocks[2]["block_id"] == "a1" and message.blocks[2]["elements"][0]["action_id"] == "b2"


def test_twenty_five_buttons_fit_and_a_twenty_sixth_is_refused():
    rows = [[[f"Slot {r}{c}", f"1|slot|{r}{c}"] for c in range(5)] for r in range(5)]
    [message] = messages(_payload("Pick a slot", rows))
    action_ids = _action_ids(message)
    assert len(action_ids) == 25 and len(set(action_ids)) == 25
    assert len(set(_block_ids(message))) == len(message.blocks) == 6
    with pytest.raises(ValueError):
        actions(rows + [[["One more", "1|slot|x"]]])


def test_a_long_label_is_shortened_to_slacks_limit():
    [block] = actions([[["é" * 80, "1|x"]]])
    label = block["elements"][0]["text"]["text"]
    assert len(label) == MAX_BUTTON_TEXT and label.endswith("…")


def test_more_than_fifty_blocks_become_two_messages_with_the_edit_first_and_buttons_last():
    text = "\n".join(["y" * 2999] * 60)  # sixty full sections
    buttons = [[["Yes", "1|book|ok"]], [["No", "1|book|no"]]]
    first, second = messages(_payload(text, buttons, replace=True, edit="D024BE91L:1700000000.000100"))
    assert len(first.blocks) == MAX_BLOCKS and all(b["type"] == "section" for b in first.blocks)
    assert [b["type"] for b in second.blocks] == ["section"] * 10 + ["actions", "actions"]
    assert first.edit == "D024BE91L:1700000000.000100" and second.edit is None
    assert first.text == "y" * 2999 and second.text == "y" * 2999
    for message in (first, second):
        assert len(set(_block_ids(message))) == len(message.blocks)


def test_buttons_never_travel_alone_when_the_sections_only_just_overflow():
    text = "\n".join(["z" * 2999] * 49)
    first, second = messages(_payload(text, [[["A", "1|a"]], [["B", "1|b"]]]))
    assert len(first.blocks) == 48
    assert [b["type"] for b in second.blocks] == ["section", "actions", "actions"]


def test_a_short_edit_keeps_its_buttons_on_the_one_message():
    [message] = messages(_payload("Booked.", [[["Undo", "1|book|undo"]]], replace=True, edit="C1:1.2"))
    assert message.edit == "C1:1.2"
    assert [b["type"] for b in message.blocks] == ["section", "actions"]


def test_buttons_without_text_are_an_actions_block_with_a_fallback():
    [message] = messages(_payload("  ", [[["OK", "1|x|ok"]]]))
    assert message.text == EMPTY_FALLBACK
    assert [b["type"] for b in message.blocks] == ["actions"]


def test_a_file_alone_is_left_to_the_sender():
    file = {"name": "session.ics", "type": "text/calendar", "data": "QkVHSU4="}
    assert messages(_payload("", file=file)) == []
    [message] = messages(_payload("Your invite", file=file))
    assert message.text == "Your invite" and len(message.blocks) == 1
    assert messages(_payload("")) == []


def test_blank_pieces_are_not_sent_as_empty_sections():
    text = "a" * 3000 + "\n\n\n" + "b"
    [message] = messages(_payload(text))
    assert [b["text"]["text"].strip() for b in message.blocks] == ["a" * 3000, "b"]
