"""Slack request bodies become Incoming events, and what is not for this bot becomes None."""

from __future__ import annotations

from typing import Any

from bot.adapters.slack.parse import (
    file_ref, from_action, from_command, from_event, message_ref, parse_file_ref, parse_message_ref,
)

BOT_USER = "U0BOTBOT1"
ANA = "U061F7AUR"
DM = "D024BE91L"
CHANNEL = "C2147483705"


def _envelope(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "token": "XXYYZZ", "team_id": "T123ABC456", "api_app_id": "A123ABC456", "type": "event_callback",
        "event": event, "event_id": "Ev123ABC456", "event_time": 1_700_000_000,
        "authorizations": [{"enterprise_id": None, "team_id": "T123ABC456", "user_id": BOT_USER, "is_bot": True,
                            "is_enterprise_install": False}],
    }


def _dm_message(**fields: Any) -> dict[str, Any]:
    return {"type": "message", "channel": DM, "user": ANA, "text": "hi", "ts": "1700000000.000100",
            "event_ts": "1700000000.000100", "channel_type": "im", "client_msg_id": "c0ffee", **fields}


def _command(**fields: Any) -> dict[str, Any]:
    return {
        "token": "gIkuvaNzQIHg97ATvDxqgjtO", "team_id": "T0001", "team_domain": "example",
        "enterprise_id": "E0001", "enterprise_name": "Globular Construct Inc", "channel_id": CHANNEL,
        "channel_name": "mentors", "user_id": ANA, "user_name": "ana", "command": "/book", "text": "pricing",
        "api_app_id": "A123456", "is_enterprise_install": "false",
        "response_url": "https://hooks.slack.com/commands/1234/5678", "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        **fields,
    }


def _block_actions(channel: str = DM, *, value: str | None = "1|book|ok", ephemeral: bool = False) -> dict[str, Any]:
    action: dict[str, Any] = {"type": "button", "block_id": "a0", "action_id": "b0",
                              "text": {"type": "plain_text", "text": "Yes", "emoji": True},
                              "action_ts": "1700000123.456789"}
    if value is not None:
        action["value"] = value
    return {
        "type": "block_actions",
        "user": {"id": ANA, "username": "ana", "name": "ana", "team_id": "T0001"},
        "api_app_id": "A0001", "token": "XXYYZZ",
        "container": {"type": "message", "message_ts": "1700000000.000200", "channel_id": channel,
                      "is_ephemeral": ephemeral},
        "trigger_id": "1388105719492.1379717998065.9bc1638947",
        "team": {"id": "T0001", "domain": "example"},
        "channel": {"id": channel, "name": "directmessage" if channel.startswith("D") else "mentors"},
        "message": {"bot_id": "B01", "type": "message", "text": "Book it?", "user": BOT_USER,
                    "ts": "1700000000.000200", "blocks": []},
        "response_url": "https://hooks.slack.com/actions/T0001/1/abc",
        "actions": [action, {**action, "action_id": "b1", "value": "1|book|no"}],
    }


def test_a_dm_message_answers_the_user_and_carries_the_event_id():
    incoming = from_event(_envelope(_dm_message(text="  I need help with pricing ")))
    assert incoming is not None
    assert incoming.event_id == "Ev123ABC456"
    assert incoming.kind == "text" and incoming.text == "I need help with pricing"
    sender = incoming.sender
    assert (sender.platform, sender.user_id, sender.chat_id, sender.is_group) == ("slack", ANA, ANA, False)
    assert sender.language is None and sender.timezone is None


def test_a_dm_message_keeps_a_profile_name_when_slack_sends_one():
    event = _dm_message(user_profile={"real_name": "Ana Lima", "display_name": "ana.l", "name": "ana"})
    incoming = from_event(_envelope(event))
    assert incoming is not None and incoming.sender.display_name == "ana.l"


def test_typed_slash_text_in_a_dm_is_a_command():
    incoming = from_event(_envelope(_dm_message(text="/book pricing")))
    assert incoming is not None and (incoming.command, incoming.args) == ("book", "pricing")


def test_bot_messages_edits_and_empty_messages_are_ignored():
    assert from_event(_envelope(_dm_message(bot_id="B0BOT", user=BOT_USER))) is None
    assert from_event(_envelope(_dm_message(subtype="bot_message", bot_id="B0BOT"))) is None
    changed = {"type": "message", "subtype": "message_changed", "hidden": True, "channel": DM, "channel_type": "im",
               "ts": "1700000001.000100", "message": {"type": "message", "user": ANA, "text": "edited"}}
    assert from_event(_envelope(changed)) is None
    assert from_event(_envelope(_dm_message(subtype="message_changed"))) is None
    assert from_event(_envelope(_dm_message(text="   "))) is None


def test_channel_chatter_and_other_events_are_ignored():
    chatter = _dm_message(channel=CHANNEL, channel_type="channel", text="lunch anyone?")
    assert from_event(_envelope(chatter)) is None
    group_dm = _dm_message(channel="G0MPIM", channel_type="mpim")
    assert from_event(_envelope(group_dm)) is None
    home = {"type": "app_home_opened", "user": ANA, "channel": DM, "tab": "home", "event_ts": "1700000000.1"}
    assert from_event(_envelope(home)) is None
    assert from_event({"type": "url_verification", "challenge": "abc"}) is None


def test_an_app_mention_in_a_channel_is_text_there_without_the_mention():
    event = {"type": "app_mention", "user": ANA, "text": f"<@{BOT_USER}> book pricing", "ts": "1700000000.000300",
             "channel": CHANNEL, "event_ts": "1700000000.000300"}
    incoming = from_event(_envelope(event))
    assert incoming is not None
    assert incoming.text == "book pricing"
    sender = incoming.sender
    assert (sender.user_id, sender.chat_id, sender.is_group) == (ANA, CHANNEL, True)
    later = from_event(_envelope({**event, "text": f"hey <@{BOT_USER}>, sessions please"}))
    assert later is not None and later.text == "hey sessions please"
    command = from_event(_envelope({**event, "text": f"<@{BOT_USER}|headstrt>  /book pricing"}))
    assert command is not None and (command.command, command.args) == ("book", "pricing")
    other = from_event(_envelope({**event, "text": f"<@{BOT_USER}> ask <@U0ANA> about <!here>"}))
    assert other is not None and other.text == "ask <@U0ANA> about <!here>"  # plain text; replies escape it
    assert from_event(_envelope({**event, "bot_id": "B0OTHER"})) is None


def test_a_file_share_in_a_dm_is_a_file_ref():
    event = _dm_message(subtype="file_share", text="here is my deck", files=[
        {"id": "F0S43PZ20", "created": 1_700_000_000, "name": "deck.pdf", "title": "deck.pdf",
         "mimetype": "application/pdf", "filetype": "pdf", "user": ANA, "size": 12345,
         "url_private": "https://files.slack.com/files-pri/T0001-F0S43PZ20/deck.pdf"},
    ], upload=False, display_as_bot=False)
    incoming = from_event(_envelope(event))
    assert incoming is not None
    assert incoming.kind == "file" and incoming.text is None
    assert incoming.file_ref == "slack:F0S43PZ20#deck.pdf"
    assert parse_file_ref(incoming.file_ref) == ("F0S43PZ20", "deck.pdf")
    assert from_event(_envelope({**event, "files": []})) is None
    assert from_event(_envelope({**event, "channel": CHANNEL, "channel_type": "channel"})) is None


def test_file_refs_round_trip():
    assert file_ref("F1", "cv.pdf") == "slack:F1#cv.pdf"
    assert parse_file_ref("slack:F1") == ("F1", "file")
    assert parse_file_ref("telegram:BQAC#cv.pdf") is None


def test_a_slash_command_from_a_channel_answers_in_the_channel():
    incoming = from_command(_command(text=" pricing  "))
    assert incoming.kind == "command"
    assert (incoming.command, incoming.args) == ("book", "pricing")
    assert incoming.event_id == "cmd:13345224609.738474920.8088930838d88f008e0"
    sender = incoming.sender
    assert (sender.user_id, sender.chat_id, sender.display_name, sender.is_group) == (ANA, CHANNEL, "ana", True)


def test_a_slash_command_from_a_dm_answers_the_user():
    incoming = from_command(_command(channel_id=DM, channel_name="directmessage", command="/Sessions", text=""))
    assert (incoming.command, incoming.args) == ("sessions", "")
    assert (incoming.sender.chat_id, incoming.sender.is_group) == (ANA, False)


def test_a_button_press_in_a_dm_carries_the_first_value_and_the_message_ref():
    incoming = from_action(_block_actions())
    assert incoming is not None and incoming.press is not None
    assert incoming.kind == "press"
    assert incoming.press.payload == "1|book|ok"
    assert incoming.press.message_id == f"{DM}:1700000000.000200"
    assert incoming.event_id == f"act:{ANA}:1700000123.456789"
    sender = incoming.sender
    assert (sender.user_id, sender.chat_id, sender.display_name, sender.is_group) == (ANA, ANA, "ana", False)


def test_a_button_press_in_a_channel_answers_in_the_channel():
    incoming = from_action(_block_actions(CHANNEL))
    assert incoming is not None and incoming.press is not None
    assert (incoming.sender.chat_id, incoming.sender.is_group) == (CHANNEL, True)
    assert incoming.press.message_id == f"{CHANNEL}:1700000000.000200"


def test_presses_we_cannot_use_or_update():
    assert from_action(_block_actions(value=None)) is None
    assert from_action({"type": "view_submission", "user": {"id": ANA}, "view": {"id": "V1"}}) is None
    ephemeral = from_action(_block_actions(CHANNEL, ephemeral=True))
    assert ephemeral is not None and ephemeral.press is not None and ephemeral.press.message_id is None
    home = {**_block_actions(), "container": {"type": "view", "view_id": "V0HOME"}, "view": {"id": "V0HOME"}}
    del home["channel"], home["message"]
    from_home = from_action(home)
    assert from_home is not None and from_home.press is not None
    assert from_home.press.message_id is None and from_home.sender.chat_id == ANA


def test_message_refs_round_trip():
    ref = message_ref("C123", "1700000000.000100")
    assert ref == "C123:1700000000.000100"
    assert parse_message_ref(ref) == ("C123", "1700000000.000100")
    assert parse_message_ref("42") is None
    assert parse_message_ref(":1.2") is None and parse_message_ref("C1:") is None


def test_the_entities_slack_escapes_in_typed_text_are_unescaped_once():
    """Slack sends "R&D <x>" typed by a person as "R&amp;D &lt;x&gt;"; we keep what they typed, and a typed
    "&lt;" (sent as "&amp;lt;") stays "&lt;"."""
    incoming = from_event(_envelope(_dm_message(text="R&amp;D &lt;b&gt;x&lt;/b&gt; &amp;lt;")))
    assert incoming is not None and incoming.text == "R&D <b>x</b> &lt;"
    mention = {"type": "app_mention", "user": ANA, "text": f"<@{BOT_USER}> R&amp;D &gt; sales",
               "ts": "1700000000.000300", "channel": CHANNEL, "event_ts": "1700000000.000300"}
    mentioned = from_event(_envelope(mention))
    assert mentioned is not None and mentioned.text == "R&D > sales"
    command = from_command(_command(text="R&amp;D &lt;growth&gt;"))
    assert command is not None and command.args == "R&D <growth>"
