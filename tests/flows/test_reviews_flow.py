"""Reviews in the console: the expert card shows the rating and the latest public review texts with the
expert's answer (never a private note); the expert answers once, from the notice or from /sessions; staff of
the programme hide a review from its notice, staff of another programme cannot."""

from __future__ import annotations

from datetime import timedelta

from core import booking_service as bs
from tests.flows.test_session_details import HOSTILE, book
from tests.flows.test_sessions import TUE_10, engine, people
from tests.staff_world import THU_10, two_programmes


def held_and_reviewed(uow, dispatcher, clock) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    ana_id, bob_id, bob_person = people(uow)
    booking_id = book(uow, dispatcher, clock, ana_id, bob_id, bob_person)
    clock.set(TUE_10 + timedelta(minutes=45))
    engine(uow, dispatcher, lambda u: bs.complete_ended(u, clock, booking_id=booking_id))
    review = engine(uow, dispatcher, lambda u: bs.leave_review(
        u, booking_id=booking_id, author_id=ana_id, stars=4, text=f"Sharp questions {HOSTILE}",
        private_note="Ana's secret: he was late"))
    return booking_id, review.id


def test_the_expert_answers_from_the_notice_once_and_the_card_shows_both(uow, chat, dispatcher, clock):
    _booking, review_id = held_and_reviewed(uow, dispatcher, clock)
    bob = chat("bob")
    out = bob.as_("bob")
    assert f"Ana reviewed “Pitch deck”: ★★★★☆ “Sharp questions {HOSTILE}”" in out
    assert "Ana's secret" not in out  # the private note is for staff only
    out = bob.say("Answer review")
    assert "Type your answer (at most 1000 characters)" in out
    assert "Please keep it under 1000 characters" in bob.say("x" * 1001)
    out = bob.say(f"Thank you, Ana {HOSTILE}")
    assert "Your answer is saved" in out
    # A second answer, from the old notice: refused, the first one stays.
    out = bob.press(f"1|ans|pick|{review_id}")
    assert "This review has been answered already" in out
    with uow() as u:
        assert u.bookings.review(review_id).answer == f"Thank you, Ana {HOSTILE}"

    out = bob.say("/sessions past")
    assert f"   Your answer: “Thank you, Ana {HOSTILE}”" in out and "Answer review" not in out
    out = bob.as_("ana")
    assert f"Bob answered your review of “Pitch deck”: “Thank you, Ana {HOSTILE}”" in out
    out = bob.say("/sessions past")
    assert f"   Answer by Bob: “Thank you, Ana {HOSTILE}”" in out

    # Someone else looking for an expert sees the rating, the review and the answer; never the private note.
    eve = chat("eve")
    eve.as_("eve")
    out = eve.say("/book fundraising")
    assert "Rating: 4.0 ★ (1 review)" in out
    assert f"   ★★★★☆ “Sharp questions {HOSTILE}”" in out
    assert f"      Answer from Bob: “Thank you, Ana {HOSTILE}”" in out
    assert "secret" not in out


def test_the_expert_answers_from_sessions_and_a_stranger_cannot(uow, chat, dispatcher, clock):
    _booking, review_id = held_and_reviewed(uow, dispatcher, clock)
    eve = chat("eve")
    eve.as_("eve")
    assert "Only the expert a client reviewed can answer that review." in eve.press(f"1|ans|pick|{review_id}")
    ana = chat("ana")
    ana.as_("ana")
    assert "Only the expert a client reviewed" in ana.press(f"1|ans|pick|{review_id}")  # not the author either
    bob = chat("bob")
    bob.as_("bob")
    out = bob.say("/sessions past")
    assert "Review by Ana: ★★★★☆" in out and "Answer review 1" in out
    assert "Type your answer" in bob.say("Answer review 1")
    assert "Nothing changed." in bob.say("Stop")
    bob.say("/sessions past")
    bob.say("Answer review 1")
    assert "Your answer is saved" in bob.say("Glad it helped.")
    assert "Answer review" not in bob.say("/sessions past")


def test_staff_of_the_programme_hide_a_review_from_its_notice(uow, chat, dispatcher, clock):
    a, b = two_programmes(uow, clock)
    clock.set(THU_10 + timedelta(hours=2))
    engine(uow, dispatcher, lambda u: bs.complete_ended(u, clock, booking_id=a.confirmed))
    review = engine(uow, dispatcher, lambda u: bs.leave_review(
        u, booking_id=a.confirmed, author_id=a.founder, stars=1, text="Rude <script>x</script>",
        private_note="private words"))
    tim = chat("tim")
    assert "New review" not in tim.as_("tim")  # the other programme's staff hear nothing
    assert "Only programme staff can do that." in tim.press(f"1|ans|hide|{review.id}")

    ola = chat("ola")
    ola.as_("ola")
    out = ola.say("/book fundraising")
    assert "Rude <script>x</script>" in out and "Rating: 1.0 ★ (1 review)" in out

    sam = chat("sam")
    out = sam.as_("sam")
    assert "New review of Eve by Ana for “Seed round plan”: ★☆☆☆☆ “Rude <script>x</script>”" in out
    assert "private words" not in out
    out = sam.say("Hide review")
    assert "Hide this review of Eve by Ana (“Seed round plan”)?" in out
    out = sam.say("Hide review")
    assert "Hidden: the review no longer shows on Eve's card" in out
    assert "This review is hidden already." in sam.press(f"1|ans|hide|{review.id}")

    out = ola.say("/book fundraising")
    assert "Rude" not in out and "Eve" in out
    assert "Rating: new" in out  # the only rating was the hidden one
    out = ola.as_("eve")
    assert "Programme staff have hidden this review" in ola.press(f"1|ans|pick|{review.id}")
