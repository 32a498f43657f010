"""Reviews in public: what an expert's card shows, the expert's one answer, and staff hiding a review.

The expert's rating is the stored sum and count of the clients' stars; hiding a review takes its stars out,
so the average shown (and searched on) never counts a hidden review. Only the client's review of the expert
is public; the expert's review of the client and every private note stay with the programme.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.clock import Clock
from core.errors import InvalidSession, InvalidTransition, NotAllowed, NotFound
from core.events import ReviewAnswered
from core.model import Booking, Review
from core.ports import UnitOfWork
from core.staff import StaffAction
from core.staff_access import require_staff
from core.text import clean_text

ANSWER_MAX = 1000
CARD_REVIEWS = 3


@dataclass(frozen=True, slots=True)
class ReviewSeen:
    """A review with its session, checked."""

    review: Review
    booking: Booking
    expert_person_id: int | None

    @property
    def by_client(self) -> bool:
        return self.review.author_id == self.booking.client_id


def _load(uow: UnitOfWork, review_id: int) -> ReviewSeen:
    review = uow.bookings.review(review_id)
    booking = uow.bookings.get(review.booking_id) if review is not None else None
    expert = uow.experts.get(booking.expert_id) if booking is not None else None
    if review is None or booking is None or expert is None:
        raise NotFound(f"no review {review_id}", reason="review_not_found")
    return ReviewSeen(review, booking, expert.person_id)


def latest_reviews(uow: UnitOfWork, expert_id: int, limit: int = CARD_REVIEWS) -> list[Review]:
    """The newest public reviews of an expert with words in them: the clients', not hidden, no private notes."""
    return uow.bookings.public_reviews(expert_id, limit)


def answer_review(uow: UnitOfWork, clock: Clock, *, review_id: int, expert_person_id: int, text: str) -> Review:
    """The expert answers a client's review of them, once; the answer shows under the review."""
    seen = _load(uow, review_id)
    if seen.expert_person_id is None or seen.expert_person_id != expert_person_id:
        raise NotAllowed("only the expert of this session can answer its review", reason="not_the_reviewed_expert")
    if not seen.by_client:
        raise NotAllowed("only a client's review of the expert can be answered", reason="not_the_reviewed_expert")
    if seen.review.hidden_at is not None:
        raise InvalidTransition("this review was hidden by programme staff", reason="review_hidden")
    if seen.review.answered_at is not None:
        raise InvalidTransition("this review has been answered already", reason="already_answered")
    answer = clean_text(text).strip()
    if not answer:
        raise InvalidSession("an answer needs some words", reason="answer_required")
    if len(answer) > ANSWER_MAX:
        raise InvalidSession(f"keep the answer under {ANSWER_MAX} characters", reason="answer_too_long",
                             limit=ANSWER_MAX)
    now = clock.now()
    if not uow.bookings.answer_review(review_id, answer, now):  # a second answer at the same moment lost
        raise InvalidTransition("this review has been answered already", reason="already_answered")
    assert seen.booking.id is not None
    uow.events.append(ReviewAnswered(booking_id=seen.booking.id, series_id=seen.booking.series_id, review_id=review_id))
    review = uow.bookings.review(review_id)
    assert review is not None
    return review


def hide_review(uow: UnitOfWork, clock: Clock, *, review_id: int, staff_id: int, note: str = "") -> Review:
    """Staff of the session's programme hide a review from the expert's card; its stars stop counting.
    Hiding twice changes nothing the second time (InvalidTransition "already_hidden")."""
    seen = _load(uow, review_id)
    require_staff(uow, staff_id, seen.booking.programme_id)  # the marketplace has no staff: the operator only
    if seen.review.hidden_at is not None:
        raise InvalidTransition("this review is hidden already", reason="already_hidden")
    now = clock.now()
    if not uow.bookings.hide_review(review_id, staff_id, now):
        raise InvalidTransition("this review is hidden already", reason="already_hidden")
    if seen.by_client:
        uow.experts.remove_rating(seen.booking.expert_id, seen.review.stars)
    uow.programmes.log(StaffAction(
        key=f"hide_review:{review_id}", action="hide_review", programme_id=seen.booking.programme_id,
        actor_id=staff_id, created_at=now, booking_id=seen.booking.id, subject=f"review {review_id}",
        note=" ".join(note.split())[:500],
    ))
    review = uow.bookings.review(review_id)
    assert review is not None
    return review
