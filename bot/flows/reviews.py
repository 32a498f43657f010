"""Reviews after they are written: the expert answers a client's review (once, typed), and programme staff
hide a review from the expert's card. The core checks who may do it on every step; this flow only asks."""

from __future__ import annotations

from enum import StrEnum

from core import review_service as rs
from core.errors import InvalidTransition, NotAllowed, NotFound
from core.model import Booking, Review
from core.staff_access import is_staff_of
from core.text import clip as shorten
from bot.flows.actions import Id, Stamp, ints
from bot.flows.base import Context, Flow, outdated
from bot.i18n import Translator
from bot.payloads import p
from bot.replies import Button

NAME = "ans"
CLIP = 500


class Act(StrEnum):
    """Every press this flow takes: readable names in the code, short wire codes (bot/payloads.py) as values."""

    ANSWER = "pick"
    HIDE = "hide"
    STOP = "stop"
    CONFIRM_HIDE = "hideok"


def stars(n: int) -> str:
    return "★" * n + "☆" * (5 - n)


def clip(text: str, limit: int = CLIP) -> str:
    return shorten(" ".join(text.split()), limit)


def quoted(review: Review, limit: int = CLIP) -> str:
    """★★★★☆ “text” (or just the stars)."""
    return stars(review.stars) + (f" “{clip(review.text, limit)}”" if review.text else "")


# ---- the buttons other modules show to reach this flow (its wire codes are spelled only here)


def answer_button(t: Translator, review_id: int, *, n: int | None = None) -> Button:
    """"Answer review" (numbered in a list): the expert answers a client's review."""
    label = t("Answer review") if n is None else t("Answer review {n}", n=n)
    return Button(label, p(NAME, Act.ANSWER, review_id))


def hide_button(t: Translator, review_id: int) -> Button:
    """"Hide review": programme staff take a review off the expert's card."""
    return Button(t("Hide review"), p(NAME, Act.HIDE, review_id))


def _load(ctx: Context, review_id: int) -> tuple[Review, Booking, str, str]:
    """The review, its session, the expert's and the client's names; NotFound for a review that is not there."""
    review = ctx.uow.bookings.review(review_id)
    found = ctx.uow.bookings.with_parties(review.booking_id) if review is not None else None
    if review is None or found is None:
        raise NotFound(f"no review {review_id}", reason="review_not_found")
    return review, found.booking, found.expert.name, found.client.name


class ReviewAnswerFlow(Flow):
    """"Answer review" (from the notice or /sessions) and "Hide review" (staff, from the notice)."""

    name = NAME
    actions = {Act.ANSWER: (Id(),), Act.HIDE: (Id(),), Act.STOP: (Stamp(),), Act.CONFIRM_HIDE: (Stamp(),)}

    def start(self, ctx: Context, args: str) -> None:  # no command: reached by buttons only
        outdated(ctx)

    def on_press(self, ctx: Context, action: str, args: tuple[str, ...]) -> None:
        if action in (Act.ANSWER, Act.HIDE):
            ids = ints(args, 1)
            if ids is None:
                outdated(ctx)
                return
            (self._ask_answer if action == Act.ANSWER else self._ask_hide)(ctx, ids[0])
            return
        if not ctx.pressed_current(NAME, args):
            outdated(ctx)
            return
        if action == Act.STOP:
            ctx.finish()
            ctx.say(ctx.t("Nothing changed."), replace=True)
        elif action == Act.CONFIRM_HIDE and ctx.convo.step == "hide":
            self._hide(ctx)
        else:
            outdated(ctx)

    # ---- the expert's answer

    def _ask_answer(self, ctx: Context, review_id: int) -> None:
        t = ctx.t
        review, booking, _expert, client = _load(ctx, review_id)
        expert = ctx.uow.experts.get(booking.expert_id)
        if expert is None or expert.person_id != ctx.person.id or review.author_id != booking.client_id:
            raise NotAllowed("only the expert of this session can answer its review", reason="not_the_reviewed_expert")
        if review.hidden_at is not None:
            raise InvalidTransition("hidden", reason="review_hidden")
        if review.answered_at is not None:
            raise InvalidTransition("answered", reason="already_answered")
        ctx.goto(NAME, "text", review=review_id)
        ctx.say("\n".join([
            t("{client} reviewed “{title}”: {review}", client=client, title=booking.details.title,
              review=quoted(review)),
            t.plural("Type your answer (at most {n} character). It shows under the review on your card, and you can "
                     "answer only once.",
                     "Type your answer (at most {n} characters). It shows under the review on your card, and you "
                     "can answer only once.",
                     rs.ANSWER_MAX),
        ]), ((ctx.step_button(t("Stop"), NAME, Act.STOP),),))

    def on_text(self, ctx: Context, text: str) -> None:
        if ctx.convo.step != "text":
            super().on_text(ctx, text)
            return
        t = ctx.t
        text = text.strip()
        if not text:
            ctx.say(t("Type a few words, or press Stop."))
            return
        if len(text) > rs.ANSWER_MAX:
            ctx.say(t.plural("Please keep it under {n} character; it is {length} now.",
                             "Please keep it under {n} characters; it is {length} now.",
                             rs.ANSWER_MAX, length=len(text)))
            return
        rs.answer_review(ctx.uow, ctx.clock, review_id=ctx.data["review"], expert_person_id=ctx.person.id or 0,
                         text=text)
        ctx.finish()
        ctx.say(t("Thank you! Your answer is saved; it shows under the review on your card."))

    # ---- staff hide a review

    def _ask_hide(self, ctx: Context, review_id: int) -> None:
        t = ctx.t
        review, booking, expert, client = _load(ctx, review_id)
        if not is_staff_of(ctx.uow, ctx.person.id, booking.programme_id):
            raise NotAllowed("only staff of this programme can hide its reviews", reason="not_staff")
        if review.hidden_at is not None:
            raise InvalidTransition("hidden already", reason="already_hidden")
        ctx.goto(NAME, "hide", review=review_id)
        ctx.say("\n".join([
            t("Hide this review of {expert} by {client} (“{title}”)?", expert=expert, client=client,
              title=booking.details.title),
            quoted(review),
            t("It will no longer show on {expert}'s card, and its stars will no longer count in the rating.",
              expert=expert),
        ]), ((ctx.step_button(t("Hide review"), NAME, Act.CONFIRM_HIDE),
              ctx.step_button(t("Keep it"), NAME, Act.STOP)),))

    def _hide(self, ctx: Context) -> None:
        review = rs.hide_review(ctx.uow, ctx.clock, review_id=ctx.data["review"], staff_id=ctx.person.id or 0)
        _review, _booking, expert, _client = _load(ctx, review.id or 0)
        ctx.finish()
        ctx.say(ctx.t("Hidden: the review no longer shows on {expert}'s card and its stars no longer count.",
                      expert=expert), replace=True)
