"""Telegram updates become Incoming events, and what is not for this bot becomes None."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.adapters.telegram.parse import file_ref, parse_file_ref, to_incoming

BOT = "HeadstrtTestBot"
ANA = {"id": 501, "is_bot": False, "first_name": "Ana", "last_name": "Lima", "language_code": "pt-br"}
PRIVATE = {"id": 501, "type": "private", "first_name": "Ana"}
GROUP = {"id": -100200, "type": "supergroup", "title": "Mentors"}
THE_BOT = {"id": 9, "is_bot": True, "first_name": "Headstrt", "username": BOT}


def _message(chat: dict[str, Any] = PRIVATE, **fields: Any) -> dict[str, Any]:
    return {"message_id": 77, "date": 1_900_000_000, "chat": chat, "from": ANA, **fields}


def _update(**fields: Any) -> Update:
    return Update.de_json({"update_id": 1234, **fields}, bot=None)


def _incoming(**fields: Any):  # type: ignore[no-untyped-def]
    return to_incoming(_update(**fields), BOT)


def test_private_text_carries_the_sender_and_the_update_id():
    incoming = _incoming(message=_message(text="  I need help with pricing "))
    assert incoming is not None
    assert incoming.event_id == "u1234"
    assert incoming.text == "I need help with pricing" and incoming.command is None
    sender = incoming.sender
    assert (sender.platform, sender.user_id, sender.chat_id) == ("telegram", "501", "501")
    assert sender.display_name == "Ana Lima"
    assert sender.language == "pt-br"
    assert sender.timezone is None and sender.is_group is False


def test_start_deep_link():
    incoming = _incoming(message=_message(text="/start e_ana"))
    assert incoming is not None
    assert (incoming.command, incoming.args) == ("start", "e_ana")


def test_group_command_for_this_bot_and_not_for_another():
    ours = _incoming(message=_message(GROUP, text="/book@HeadstrtTestBot pricing"))
    assert ours is not None
    assert (ours.command, ours.args) == ("book", "pricing")
    assert ours.sender.is_group is True and ours.sender.chat_id == "-100200"
    assert _incoming(message=_message(GROUP, text="/book@headstrttestbot")) is not None  # usernames ignore case
    assert _incoming(message=_message(GROUP, text="/book")) is not None
    assert _incoming(message=_message(GROUP, text="/book@OtherBot")) is None


def test_group_chatter_is_ignored_unless_it_replies_to_or_mentions_the_bot():
    assert _incoming(message=_message(GROUP, text="lunch anyone?")) is None
    bot_message = {"message_id": 70, "date": 1_900_000_000, "chat": GROUP, "from": THE_BOT, "text": "Which day?"}
    reply = _incoming(message=_message(GROUP, text="Tuesday", reply_to_message=bot_message))
    assert reply is not None and reply.text == "Tuesday"
    someone = {**bot_message, "from": {**ANA, "id": 8}}
    assert _incoming(message=_message(GROUP, text="Tuesday", reply_to_message=someone)) is None
    mention = _incoming(message=_message(GROUP, text="@HeadstrtTestBot find me a mentor"))
    assert mention is not None and mention.text == "find me a mentor"


def test_a_press_in_a_group_answers_in_that_chat_and_carries_the_message():
    query = {"id": "q1", "from": ANA, "chat_instance": "ci", "data": "1|book|day|7",
             "message": {"message_id": 88, "date": 1_900_000_000, "chat": GROUP, "from": THE_BOT, "text": "Pick"}}
    incoming = _incoming(callback_query=query)
    assert incoming is not None and incoming.kind == "press"
    assert incoming.press is not None
    assert (incoming.press.payload, incoming.press.message_id) == ("1|book|day|7", "88")
    assert incoming.sender.is_group is True
    assert (incoming.sender.user_id, incoming.sender.chat_id) == ("501", "-100200")


def test_a_press_without_message_answers_the_person_and_one_without_data_is_not_ours():
    inline = _incoming(callback_query={"id": "q2", "from": ANA, "chat_instance": "ci", "data": "1|x",
                                       "inline_message_id": "im"})
    assert inline is not None and inline.sender.chat_id == "501" and inline.press is not None
    assert inline.press.message_id is None
    assert _incoming(callback_query={"id": "q3", "from": ANA, "chat_instance": "ci", "game_short_name": "g"}) is None


def test_a_document_and_a_photo_become_file_refs():
    document = {"file_id": "BQAC", "file_unique_id": "u1", "file_name": "cv.pdf"}
    incoming = _incoming(message=_message(document=document, caption="my cv"))
    assert incoming is not None and incoming.kind == "file"
    assert incoming.file_ref == "telegram:BQAC#cv.pdf"
    photos = [
        {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 60},
        {"file_id": "large", "file_unique_id": "l", "width": 1280, "height": 853},
        {"file_id": "medium", "file_unique_id": "m", "width": 320, "height": 213},
    ]
    photo = _incoming(message=_message(photo=photos))
    assert photo is not None and photo.file_ref == file_ref("large", "photo.jpg", photo=True)
    assert parse_file_ref(photo.file_ref) == ("large", "photo.jpg")
    assert parse_file_ref("slack:F1") is None
    assert _incoming(message=_message(GROUP, document=document)) is None  # shared with the group, not us


def test_edits_membership_changes_and_channel_posts_are_ignored():
    assert _incoming(edited_message={**_message(text="/book"), "edit_date": 1_900_000_100}) is None
    assert _incoming(message=_message(GROUP, new_chat_members=[ANA])) is None
    assert _incoming(channel_post={"message_id": 5, "date": 1_900_000_000,
                                   "chat": {"id": -100300, "type": "channel", "title": "News"}, "text": "/book"}) is None
