"""First contact, help, settings and /cancel, in the console."""

from __future__ import annotations

from bot.events import Sender, parse_text
from tests import factories as f


def test_help_and_unknown_commands(uow, chat):
    with uow() as u:
        f.person(u, "ana")
        u.commit()
    ana = chat("ana")
    assert "/book" in ana.say("/help") and "/sessions" in ana.text and "/grant" not in ana.text
    assert "I don't know the command /frobnicate" in ana.say("/frobnicate")
    assert "nothing to stop" in ana.say("/cancel")


def test_a_new_person_is_welcomed_and_asked_for_a_timezone(chat, uow):
    newbie = chat("newbie")  # the bot has never seen @newbie
    out = newbie.say("hello")
    assert "Welcome to Headstrt" in out and "Which timezone are you in?" in out
    assert "[1] Europe/London" in out
    out = newbie.say("Asia/Singapore")  # the label of a button presses it
    assert "Timezone set to Asia/Singapore" in out and "All set" not in out
    assert "Which language should I use?" in out and "English" in out  # the console never says the language
    out = newbie.say("English")
    assert "Language set to English." in out and "All set" in out
    with uow() as u:
        person = u.people.by_handle("newbie")
        assert person is not None and person.timezone == "Asia/Singapore"
    assert "Welcome" not in newbie.say("/help")  # welcomed once


def test_a_platform_that_knows_the_zone_skips_the_question(dispatcher, uow):
    sender = Sender("console", "zoe", "zoe", display_name="Zoe", timezone="Australia/Sydney", language="en-AU")
    handled = dispatcher.handle(parse_text(sender, "first", "hi"))
    text = "\n".join(m.payload for m in handled.messages)
    assert "Australia/Sydney" in text and "Which timezone" not in text
    assert dispatcher.handle(parse_text(sender, "first", "hi")).duplicate  # the same delivery again acts once


def test_a_new_persons_first_command_runs_after_the_welcome(dispatcher, uow):
    """The platform knows zone and language: the welcome, then the command typed, without typing it again."""
    from tests.flows.test_book import world

    world(uow)
    sender = Sender("console", "zoe", "zoe", display_name="Zoe", timezone="Australia/Sydney", language="en-AU")
    handled = dispatcher.handle(parse_text(sender, "first", "/book fundraising"))
    text = "\n".join(m.payload for m in handled.messages)
    assert "Welcome to Headstrt" in text and "Book Eve" in text and "All set" not in text
    assert text.index("Welcome to Headstrt") < text.index("Book Eve")


def test_a_first_command_waits_through_the_onboarding_questions(uow, chat):
    from tests.flows.test_book import world

    world(uow)
    newbie = chat("newbie")
    out = newbie.say("/book fundraising")
    assert "Welcome to Headstrt" in out and "Which timezone are you in?" in out and "Book Eve" not in out
    assert "Book Eve" not in newbie.say("Asia/Kolkata")  # the language question comes first
    out = newbie.say("English")
    assert "Language set to English." in out and "Book Eve" in out and "All set" not in out
    assert "Welcome" not in newbie.say("/help")  # and only once


def test_timezone_by_city_typo_and_button(uow, chat):
    with uow() as u:
        f.person(u, "ana")
        u.commit()
    ana = chat("ana")
    assert "Change timezone" in ana.say("/settings")
    assert "Which timezone" in ana.say("Change timezone")
    assert "Did you mean" in ana.say("Kolkatta") and "Asia/Kolkata" in ana.text
    assert "Timezone set to Asia/Kolkata" in ana.say("Asia/Kolkata")
    with uow() as u:
        assert u.people.by_handle("ana").timezone == "Asia/Kolkata"
    ana.say("/settings")
    ana.say("Change timezone")
    assert "Timezone set to America/New_York" in ana.say("new york")
    assert "don't know the timezone" in (ana.say("/settings"), ana.say("Change timezone"), ana.say("Atlantis"))[2]


def test_a_bug_in_a_flow_is_rolled_back_and_still_answered(uow, chat, dispatcher, monkeypatch):
    with uow() as u:
        f.person(u, "ana")
        u.commit()
    help_flow = dispatcher.commands["help"]

    def broken(ctx, args):  # type: ignore[no-untyped-def]
        ctx.uow.people.save(ctx.person.__class__(**{**{k: getattr(ctx.person, k) for k in ctx.person.__slots__},
                                                     "timezone": "Asia/Tokyo"}))
        raise RuntimeError("boom")

    monkeypatch.setattr(help_flow, "start", broken)
    out = chat("ana").say("/help")
    assert "Something went wrong. Nothing was changed" in out
    with uow() as u:
        assert u.people.by_handle("ana").timezone == "Europe/London"  # the half-done change was rolled back


def test_a_number_typed_after_a_message_without_buttons_is_text(uow, chat):
    with uow() as u:
        f.person(u, "ana")
        u.commit()
    ana = chat("ana")
    ana.say("/settings")  # buttons: [1] Change timezone
    ana.say("Change timezone")  # a question with zone buttons...
    ana.say("/help")  # ...then a message without buttons
    assert "belongs to an earlier message" not in ana.say("1")


def test_greetings_get_help_and_start_does_not_welcome_twice(uow, chat):
    with uow() as u:
        f.person(u, "ana")
        u.commit()
    ana = chat("ana")
    assert "Here is what I can do" in ana.say("Hello!") and "No expert" not in ana.text
    out = ana.say("/start")
    assert "Here is what I can do" in out and "Welcome" not in out and "Which timezone" not in out
    assert "Change language" in ana.say("/settings")  # there are catalogs besides English
