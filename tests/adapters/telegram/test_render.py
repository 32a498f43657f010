"""Outbox payloads become the right Bot API calls: escaped HTML, pieces within Telegram's limit, buttons last."""

from __future__ import annotations

import base64
import re

import pytest
from telegram import InlineKeyboardMarkup, InputFile
from telegram.constants import ParseMode

from bot.adapters.telegram.parse import file_ref
from bot.adapters.telegram.render import command_menu, escape, keyboard, plan, split_for_telegram, utf16_len
from bot.i18n import Translator


def test_escape_keeps_plain_text_plain():
    assert escape("<b>&") == "&lt;b&gt;&amp;"
    assert escape("<!channel> \"quoted\" it's") == "&lt;!channel&gt; \"quoted\" it's"


def test_a_short_reply_is_one_escaped_html_message_without_preview():
    [call] = plan({"text": "Tom & <Jerry>", "buttons": [], "replace": False})
    assert call.method == "send_message"
    assert call.kwargs["text"] == "Tom &amp; &lt;Jerry&gt;"
    assert call.kwargs["parse_mode"] == ParseMode.HTML
    assert call.kwargs["link_preview_options"].is_disabled is True
    assert "reply_markup" not in call.kwargs


def test_utf16_len_counts_astral_characters_twice():
    assert utf16_len("a😀é") == 4


def test_splitting_measures_utf16_and_never_breaks_a_surrogate_pair():
    giant = "😀" * 3000 + "x" + "😀" * 3000  # one line of 12001 units
    text = "intro\n" + giant + "\n" + "line\n" * 900
    pieces = split_for_telegram(text)
    assert all(utf16_len(p) <= 4096 for p in pieces)
    assert all("\ud83d" not in p and "\ude00" not in p for p in pieces)  # no lone halves
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")
    assert pieces[0] == "intro"
    odd = split_for_telegram("x" + "😀" * 2100)  # 4201 units: the pair at 4096/4097 must move whole
    assert [utf16_len(p) for p in odd] == [4095, 106]


def test_splitting_prefers_line_breaks_and_keeps_short_text_whole():
    assert split_for_telegram("hello\nworld") == ["hello\nworld"]
    assert split_for_telegram("aaaa\nbbbb\ncc", limit=9) == ["aaaa\nbbbb", "cc"]
    assert split_for_telegram("") == [""]


def test_edit_goes_first_and_buttons_on_the_last_piece():
    text = "\n".join(f"line {i:04d} " + "x" * 90 for i in range(100))  # about 10k units: three pieces
    payload = {"text": text, "buttons": [[["Yes", "1|book|ok"], ["No", "1|book|no"]]], "replace": True, "edit": "42"}
    calls = plan(payload)
    assert [c.method for c in calls] == ["edit_message_text", "send_message", "send_message"]
    assert calls[0].kwargs["message_id"] == 42
    assert "reply_markup" not in calls[0].kwargs  # omitted on the edit: the old buttons go away
    assert "reply_markup" not in calls[1].kwargs
    markup = calls[-1].kwargs["reply_markup"]
    assert isinstance(markup, InlineKeyboardMarkup)
    assert [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard] == [
        [("Yes", "1|book|ok"), ("No", "1|book|no")]
    ]


def test_a_short_edit_keeps_its_buttons():
    [call] = plan({"text": "Booked.", "buttons": [[["Undo", "1|book|undo"]]], "edit": "7"})
    assert call.method == "edit_message_text"
    assert call.kwargs["message_id"] == 7 and call.kwargs["reply_markup"] is not None


def test_callback_data_over_64_bytes_is_refused():
    with pytest.raises(ValueError):
        keyboard([[["Too long", "é" * 33]]])
    assert keyboard([]) is None


def test_a_file_with_data_is_sent_as_a_document_after_the_text():
    data = base64.b64encode(b"BEGIN:VCALENDAR").decode()
    calls = plan({"text": "Your invite", "buttons": [], "file": {"name": "session.ics", "type": "text/calendar", "data": data}})
    assert [c.method for c in calls] == ["send_message", "send_document"]
    document = calls[1].kwargs["document"]
    assert isinstance(document, InputFile)
    assert document.filename == "session.ics"
    assert document.input_file_content == b"BEGIN:VCALENDAR"


def test_a_telegram_file_is_resent_by_id_and_alone_when_there_is_no_text():
    calls = plan({"text": "", "buttons": [[["OK", "1|x|ok"]]], "file": {"name": "cv.pdf", "type": "application/pdf",
                                                                          "ref": file_ref("BQACAgI", "cv.pdf")}})
    assert [c.method for c in calls] == ["send_document"]
    assert calls[0].kwargs["document"] == "BQACAgI"
    assert calls[0].kwargs["reply_markup"] is not None


def test_another_platforms_file_is_named_in_the_text():
    [call] = plan({"text": "Here it is", "buttons": [], "file": {"name": "cv.pdf", "type": "application/pdf",
                                                                 "ref": "slack:F123"}})
    assert call.method == "send_message"
    assert call.kwargs["text"] == "Here it is\ncv.pdf"


def test_command_menu_fits_telegrams_rules():
    commands = command_menu(Translator("en"))
    assert [c.command for c in commands] == ["book", "sessions", "credits", "availability", "settings", "help", "cancel"]
    for command in commands:
        assert re.fullmatch(r"[a-z0-9_]{1,32}", command.command)
        assert 1 <= len(command.description) <= 256


def test_a_photo_a_client_sent_goes_to_the_expert_as_a_photo() -> None:
    ref = file_ref("AgACphoto", "photo.jpg", photo=True)
    [call] = plan({"text": "", "buttons": [], "file": {"name": "photo.jpg", "type": "image/jpeg", "ref": ref}})
    assert call.method == "send_photo" and call.kwargs == {"photo": "AgACphoto"}
    [call] = plan({"text": "", "buttons": [], "file": {"name": "deck.pdf", "ref": file_ref("BQAC", "deck.pdf")}})
    assert call.method == "send_document" and call.kwargs == {"document": "BQAC"}


def test_an_invoice_reply_is_the_invoice_alone_and_round_trips_through_the_outbox():
    from bot.replies import Invoice, Reply, ReplyTooLarge

    reply = Reply("Your invoice: 5 credits for 250 ⭐.",
                  invoice=Invoice("Headstrt credits: 5", "5 credits <b>", "tok", "XTR", 250, "5 credits"))
    import json

    [call] = plan(json.loads(reply.to_json()))
    assert call.method == "send_invoice"
    assert "provider_token" not in call.kwargs  # the sender adds it: no secret in the outbox
    assert (call.kwargs["title"], call.kwargs["payload"], call.kwargs["currency"]) == ("Headstrt credits: 5", "tok", "XTR")
    assert [(p.label, p.amount) for p in call.kwargs["prices"]] == [("5 credits", 250)]
    with pytest.raises(ReplyTooLarge):
        Invoice("x" * 33, "d", "tok", "XTR", 1, "l")
    with pytest.raises(ReplyTooLarge):
        Invoice("t", "d", "p" * 129, "XTR", 1, "l")
    with pytest.raises(ValueError):
        plan({"text": "", "buttons": [], "invoice": {"title": "t", "description": "d", "payload": "p",
                                                     "currency": "XTR", "amount": "250", "label": "l"}})
