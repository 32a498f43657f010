"""Refunding a credit purchase (staff, from the command line): the credits come back out of the buyer's own
wallet only while unspent, Telegram Stars go back through Telegram, and the buyer is told in their chat.
The Stars refund is asked for inside the transaction that takes the credits: if Telegram says no, nothing
changes here either."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.clock import Clock
from core.purchases import STARS, Purchase, refund
from bot.flows.base import Notice
from bot.flows.purchases import pack_words
from bot.i18n import Translator
from bot.replies import Reply
from storage.uow import SqlUnitOfWork

StarRefund = Callable[[int, str], None]  # (telegram user id, charge id); raises when Telegram refuses
QueueNotice = Callable[[SqlUnitOfWork, Notice], object]


class RefundImpossible(Exception):
    """The refund cannot be made from here (no bot to return Stars through, a buyer without Telegram)."""


@dataclass(frozen=True, slots=True)
class Refunded:
    purchase: Purchase
    handle: str
    stars_returned: bool  # False: money paid through a provider, returned in the provider's dashboard


def refund_purchase(uow_factory: Callable[[], SqlUnitOfWork], clock: Clock, charge_id: str, *,
                    star_refund: StarRefund | None, queue_notice: QueueNotice | None = None) -> Refunded:
    """core.purchases.refund, then the money: raises the core's refusal (unknown, not paid, spent) or
    RefundImpossible, and then nothing has changed."""
    with uow_factory() as uow:
        purchase = refund(uow, clock, telegram_charge_id=charge_id)
        person = uow.people.get(purchase.person_id)
        if person is None:
            raise RefundImpossible(f"the buyer of {charge_id} is gone")
        stars = purchase.currency == STARS
        if stars:
            if star_refund is None:
                raise RefundImpossible("Telegram Stars go back through the bot: set TELEGRAM_BOT_TOKEN")
            if person.telegram_user_id is None:
                raise RefundImpossible(f"@{person.handle} has no Telegram account to return the Stars to")
            star_refund(person.telegram_user_id, charge_id)
        if queue_notice is not None:
            t = Translator(person.locale, person.timezone)
            text = t("Your purchase was refunded: {pack}. The credits were taken back from your balance.",
                     pack=pack_words(t, purchase.pack))
            queue_notice(uow, Notice(purchase.person_id, Reply(text), key=f"purchase-refund:{charge_id}"))
        uow.commit()
        return Refunded(purchase, person.handle, stars)
