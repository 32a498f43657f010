"""NUL and the other control characters are dropped as an event is built (bot/events.py, whatever built
it: a platform parser, the console, a Slack modal), so PostgreSQL never refuses a title or a name with a
DataError, and SQLite stores the same text."""

from __future__ import annotations

from bot.events import Incoming, Press, Sender, parse_text
from core.lifecycle import BookingStatus
from tests.flows.test_book import bookings_of, to_eve_details, world
def test_every_text_of_an_event_is_cleaned_however_it_is_built():
    sender = Sender("slack", "U1\x00", "D1\n", display_name="Ana\x00\nLee", language="en\x07", timezone="UTC\x00")
    assert (sender.user_id, sender.chat_id, sender.display_name, sender.language, sender.timezone) == \
        ("U1", "D1 ", "Ana Lee", "en", "UTC")
    event = Incoming(sender, "ev\x00", text="hi\x00 there", command="bo\x00ok", args="pri\x00cing",
                     press=Press("1|x\x00", "m\x00"), file_ref="f\x00",
                     form=(("ti\x00tle", "Seed\x00 plan"), ("context", "a\r\nb\x1b")))
    assert (event.event_id, event.text, event.command, event.args, event.file_ref) == \
        ("ev", "hi there", "book", "pricing", "f")
    assert (event.press.payload, event.press.message_id) == ("1|x", "m")  # type: ignore[union-attr]
    assert event.form == (("title", "Seed plan"), ("context", "a\nb"))
    assert parse_text(sender, "e", "\x00/book\x00 pricing").command == "book"


def test_a_nul_in_a_title_typed_in_the_console_books(uow, chat):
    w = world(uow)
    ana = chat("ana")
    ana.say("/book fundraising")
    ana.say("Book Eve")
    ana.say("30 min · 0.5 credits")
    ana.say("1")
    ana.say("Tue 5 Mar")
    ana.say("15:00")
    out = to_eve_details(ana, title="Seed\x00 round\x07 plan\x7f")
    assert "“Seed round plan”" in out
    assert "Request sent to Eve" in ana.say("Confirm")
    [booking] = bookings_of(uow, w.ana)
    assert booking.status is BookingStatus.REQUESTED and booking.details.title == "Seed round plan"


def test_a_nul_in_a_name_from_a_chat_platform_is_stored(uow, dispatcher):
    dispatcher.handle(parse_text(Sender("telegram", "555", "555", display_name="Zo\x00e\x1b"), "u1", "hello"))
    with uow() as u:
        zoe = u.people.by_telegram(555)
        assert zoe is not None and zoe.name == "Zoe"
