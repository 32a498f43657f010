"""Reviews in public, on SQLite and PostgreSQL: the card shows the clients' latest review texts (never private
notes, never the expert's review of the client); the expert answers once; staff of the session's programme,
and no one else, hide a review, which then neither shows nor counts in the rating."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from core import booking_service as bs
from core import review_service as rs
from core.errors import DomainError
from core.events import ReviewLeft
from tests.staff_world import THU_10, two_programmes


def held(uow, clock, side) -> None:  # type: ignore[no-untyped-def]
    """The confirmed Thursday meeting took place."""
    clock.set(THU_10 + timedelta(hours=2))
    with uow() as u:
        bs.complete_ended(u, clock, booking_id=side.confirmed)
        u.commit()


def review(uow, side, stars: int, text: str, *, by_expert: bool = False, note: str = "") -> int:  # type: ignore[no-untyped-def]
    with uow() as u:
        r = bs.leave_review(u, booking_id=side.confirmed, author_id=side.expert_person if by_expert else side.founder,
                            stars=stars, text=text, private_note=note)
        events = list(u.events)
        u.commit()
    assert r.id is not None
    assert [e.name for e in events] == ["review_left"] and isinstance(events[0], ReviewLeft) and events[0].review_id == r.id
    return r.id


def refused(uow, fn, *args, **kwargs) -> DomainError:  # type: ignore[no-untyped-def]
    with uow() as u:
        with pytest.raises(DomainError) as info:
            fn(u, *args, **kwargs)
        u.commit()
    return info.value


def rating(uow, expert_id: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with uow() as u:
        r = u.experts.get(expert_id).rating
        return r.stars_sum, r.count


def test_the_card_shows_the_latest_three_client_texts_without_private_notes(uow, clock):
    a, _b = two_programmes(uow, clock)
    held(uow, clock, a)
    first = review(uow, a, 4, "Sharp on the deck", note="He was late")
    review(uow, a, 5, "Client was great", by_expert=True, note="Needs work")  # about the client: not public
    with uow() as u:
        [shown] = rs.latest_reviews(u, a.expert)
    assert (shown.id, shown.stars, shown.text, shown.private_note) == (first, 4, "Sharp on the deck", "")
    assert rating(uow, a.expert) == (4, 1)


def test_the_expert_answers_once(uow, clock):
    a, b = two_programmes(uow, clock)
    held(uow, clock, a)
    review_id = review(uow, a, 3, "Fine, a bit rushed")
    # Not the founder, not another expert; and only the client's review.
    assert refused(uow, rs.answer_review, clock, review_id=review_id, expert_person_id=a.founder,
                   text="Hi").reason == "not_the_reviewed_expert"
    assert refused(uow, rs.answer_review, clock, review_id=review_id, expert_person_id=b.expert_person,
                   text="Hi").reason == "not_the_reviewed_expert"
    assert refused(uow, rs.answer_review, clock, review_id=review_id, expert_person_id=a.expert_person,
                   text="   ").reason == "answer_required"
    assert refused(uow, rs.answer_review, clock, review_id=review_id, expert_person_id=a.expert_person,
                   text="x" * (rs.ANSWER_MAX + 1)).reason == "answer_too_long"
    with uow() as u:
        answered = rs.answer_review(u, clock, review_id=review_id, expert_person_id=a.expert_person,
                                    text="  Thanks, next time we take an hour. ")
        assert [e.name for e in u.events] == ["review_answered"]
        u.commit()
    assert (answered.answer, answered.answered_at) == ("Thanks, next time we take an hour.", clock.now())
    assert refused(uow, rs.answer_review, clock, review_id=review_id, expert_person_id=a.expert_person,
                   text="Second thoughts").reason == "already_answered"
    with uow() as u:
        [shown] = rs.latest_reviews(u, a.expert)
    assert shown.answer == "Thanks, next time we take an hour."
    expert_review = review(uow, a, 5, "Great founder", by_expert=True)
    assert refused(uow, rs.answer_review, clock, review_id=expert_review, expert_person_id=a.expert_person,
                   text="Me?").reason == "not_the_reviewed_expert"
    assert refused(uow, rs.answer_review, clock, review_id=999999, expert_person_id=a.expert_person,
                   text="?").reason == "review_not_found"


def test_two_answers_at_the_same_moment_store_one(uow, clock, db):
    """PostgreSQL: both read "not answered", both write; the conditional update lets one through. (SQLite runs
    every transaction BEGIN IMMEDIATE, so there two answers cannot even overlap.)"""
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite serialises every transaction; the race exists on PostgreSQL only")
    a, _b = two_programmes(uow, clock)
    held(uow, clock, a)
    review_id = review(uow, a, 4, "Good")
    barrier = threading.Barrier(2)
    results: list[str] = []

    def answer(text: str) -> None:
        with uow() as u:
            try:
                u.bookings.review(review_id)  # both read "not answered yet"
                barrier.wait(timeout=5)
                rs.answer_review(u, clock, review_id=review_id, expert_person_id=a.expert_person, text=text)
                u.commit()
                results.append("ok")
            except DomainError as error:
                results.append(error.reason)

    threads = [threading.Thread(target=answer, args=(t,)) for t in ("One", "Two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["already_answered", "ok"]
    with uow() as u:
        assert u.bookings.review(review_id).answer in ("One", "Two")


def test_hiding_is_scoped_to_the_programme_and_takes_the_stars_out(uow, clock):
    a, b = two_programmes(uow, clock)
    held(uow, clock, a)
    low = review(uow, a, 1, "Rude <b>and</b> late")
    assert rating(uow, a.expert) == (1, 1)
    # Staff of the other programme, the expert and the founder: refused, nothing changes.
    for actor in (b.staff, a.expert_person, a.founder):
        assert refused(uow, rs.hide_review, clock, review_id=low, staff_id=actor).reason == "not_staff"
    with uow() as u:
        assert [r.id for r in rs.latest_reviews(u, a.expert)] == [low]
        [line] = [x for x in u.dashboard.expert_lines({a.programme}, THU_10 - timedelta(days=28), clock.now())
                  if x.expert_id == a.expert]
        assert (line.rating_count, line.latest_review) == (1, "Rude <b>and</b> late")
    with uow() as u:
        hidden = rs.hide_review(u, clock, review_id=low, staff_id=a.staff, note="abusive")
        u.commit()
    assert (hidden.hidden_at, hidden.hidden_by) == (clock.now(), a.staff)
    assert refused(uow, rs.hide_review, clock, review_id=low, staff_id=a.staff).reason == "already_hidden"
    with uow() as u:
        assert rs.latest_reviews(u, a.expert) == []
        assert [x.action for x in u.programmes.actions(frozenset({a.programme}))][:1] == ["hide_review"]
    assert rating(uow, a.expert) == (0, 0)  # hidden: not counted in the average shown and searched
    with uow() as u:  # nor on the staff dashboard
        [line] = [x for x in u.dashboard.expert_lines({a.programme}, THU_10 - timedelta(days=28), clock.now())
                  if x.expert_id == a.expert]
    assert (line.rating_count, line.latest_review) == (0, "")
    assert refused(uow, rs.answer_review, clock, review_id=low, expert_person_id=a.expert_person,
                   text="Sorry").reason == "review_hidden"
