"""Who hears of a review: the expert, of a client's review (with "Answer review"), the programme's staff
(with "Hide review"), and the client, of the expert's answer. Only public texts: private notes stay in
the staff's feedback list."""

from __future__ import annotations

from core.events import ReviewAnswered, ReviewLeft
from core.relay_service import COMPLAINT_STARS
from core.experts import Expert
from core.model import Booking, Person, Review
from bot.flows.relay import read_button
from bot.flows.reviews import answer_button, clip, hide_button, quoted
from bot.i18n import Translator
from bot.replies import Reply
from storage.uow import SqlUnitOfWork

__all__ = ["clip", "quoted", "review_notices"]  # clip and quoted are the reviews flow's, read here by the book flow


def review_notices(
    uow: SqlUnitOfWork, event: ReviewLeft | ReviewAnswered, booking: Booking, expert: Expert, expert_person: Person,
    client: Person,
) -> list[tuple[Person, Reply]]:
    if isinstance(event, ReviewLeft) and event.by != "client":  # the expert's review of the client: nobody is notified
        return []
    review_id = event.review_id
    review = uow.bookings.review(review_id)
    if review is None:
        return []
    title = booking.details.title
    if isinstance(event, ReviewAnswered):
        tc = Translator(client.locale, client.timezone)
        return [(client, Reply(tc("{expert} answered your review of “{title}”: “{answer}”", expert=expert.name,
                                  title=title, answer=clip(review.answer))))]
    if review.author_id != client.id:  # the expert's review of the client: nobody is notified
        return []
    te = Translator(expert_person.locale, expert_person.timezone)
    out = [(expert_person, Reply(
        te("{client} reviewed “{title}”: {review}", client=client.name, title=title, review=quoted(review)),
        ((answer_button(te, review_id),),),
    ))]
    if booking.programme_id is not None:
        for member in uow.programmes.staff_of(booking.programme_id):
            if member.id in (client.id, expert_person.id):
                continue
            ts = Translator(member.locale, member.timezone)
            out.append((member, Reply(
                ts("New review of {expert} by {client} for “{title}”: {review}", expert=expert.name,
                   client=client.name, title=title, review=quoted(review)),
                ((hide_button(ts, review_id),
                  *((read_button(ts, booking.id),) if review.stars <= COMPLAINT_STARS and booking.id else ())),),
            )))
    return out
