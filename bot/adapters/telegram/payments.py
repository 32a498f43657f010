"""Telegram's pre_checkout_query: the last word before Telegram takes the money. Answered within its 10 s,
ok only for a pending purchase of this person at exactly the invoiced amount; anything else (an unknown
payload, another person's invoice, an altered amount, a database that does not answer) is a no with a reason
the person can act on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from telegram import PreCheckoutQuery
from telegram.error import TelegramError

from core.purchases import checkout_problem
from bot.i18n import Translator, normalise_locale
from storage.errors import one_line
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

CHECK_SECONDS = 6.0  # of Telegram's 10: the answer itself still has to travel


def refusal_text(t: Translator, problem: str) -> str:
    texts = {
        "purchase_not_yours": t("This invoice was made for someone else. Open /credits to buy credits for yourself."),
        "purchase_not_pending": t("This invoice was paid already. Open /credits to see your balance or buy more."),
        "purchase_amount_mismatch": t("The amount does not match this invoice, so nothing was charged. "
                                      "Open /credits for a new one."),
    }
    return texts.get(problem, t("This invoice is not valid any more, so nothing was charged. "
                                "Open /credits for a new one."))


def checkout_refusal(uow_factory: Callable[[], SqlUnitOfWork], telegram_user_id: int, language: str | None,
                     payload: str, currency: str, total: int) -> str | None:
    """None: take the money. Otherwise why not, in the payer's language."""
    with uow_factory() as uow:
        person = uow.people.by_telegram(telegram_user_id)
        problem = checkout_problem(uow, person_id=person.id if person is not None else None, token=payload,
                                   currency=currency, total=total)
    if problem is None:
        return None
    log.warning("pre-checkout refused for telegram user %s: %s", telegram_user_id, problem)
    return refusal_text(Translator(person.locale if person is not None else normalise_locale(language)), problem)


async def answer_checkout(uow_factory: Callable[[], SqlUnitOfWork], query: PreCheckoutQuery) -> None:
    user = query.from_user
    try:
        refusal = await asyncio.wait_for(asyncio.to_thread(
            checkout_refusal, uow_factory, user.id, user.language_code, query.invoice_payload, query.currency,
            query.total_amount), CHECK_SECONDS)
    except Exception as error:  # noqa: BLE001 - slow or away: refuse rather than take money we cannot count
        log.warning("pre-checkout %s refused: the check failed (%s)", query.id, one_line(error))
        t = Translator(normalise_locale(user.language_code))
        refusal = t("Payments are not available right now, so nothing was charged. Please try again in a minute.")
    try:
        await query.answer(ok=refusal is None, error_message=refusal)
    except TelegramError as error:  # too late (past 10 s) or answered before: Telegram has given up on it
        log.warning("pre-checkout %s not answered: %s", query.id, error)


def star_refunder(token: str, api_base_url: str) -> Callable[[int, str], None]:
    """refundStarPayment through python-telegram-bot, for a command that runs outside any event loop."""
    from telegram import Bot

    async def call(user_id: int, charge_id: str) -> None:
        async with Bot(token, base_url=f"{api_base_url}/bot", base_file_url=f"{api_base_url}/file/bot") as bot:
            await bot.refund_star_payment(user_id, charge_id)

    return lambda user_id, charge_id: asyncio.run(call(user_id, charge_id))
