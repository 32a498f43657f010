"""Buying credits in Telegram: the packs on offer, an invoice per pack (its payload is a pending purchase's
token, never the price), and the completed payment turned into credits once. Only individuals buy: a
founder's credits come from their programme and company (ask staff)."""

from __future__ import annotations

from enum import StrEnum
import logging

from core.credit_service import available
from core.purchases import Pack, Payment, PaymentRefused, complete_payment, is_individual, start_purchase
from bot.events import PaymentIn
from bot.flows.actions import Int, Text, ascii_int
from bot.flows.base import Context, Flow, outdated
from bot.i18n import Translator
from bot.payloads import p
from bot.replies import Button, Invoice, Reply, rows
from bot.settings import PaymentSettings, enabled_platforms, payment_settings

log = logging.getLogger(__name__)

NAME = "buy"


class Act(StrEnum):
    """Every press this flow takes: readable names in the code, short wire codes (bot/payloads.py) as values."""

    PACKS = "packs"
    PACK = "pack"


PLATFORM = "telegram"  # the one chat with payments


def can_buy(ctx: Context) -> bool:
    """An individual, in a private Telegram chat: where an invoice can be paid by the person it is for."""
    return ctx.sender.platform == PLATFORM and not ctx.sender.is_group and is_individual(ctx.person)


def buy_elsewhere(ctx: Context) -> str | None:
    """For an individual on Slack or the console of a deployment that has a Telegram bot: where to buy."""
    if ctx.sender.platform == PLATFORM or not is_individual(ctx.person) or PLATFORM not in enabled_platforms():
        return None
    return ctx.t("Credits can be bought in our Telegram chat: open /credits there.")


def buy_button(ctx: Context) -> Button:
    return Button(ctx.t("Buy credits"), p(NAME, Act.PACKS))


def pack_words(t: Translator, pack: Pack) -> str:
    return t.plural("{credits} credit for {price}",
                    "{credits} credits for {price}",
                    t.credits_n(pack.credits_milli), credits=t.credits(pack.credits_milli),
                    price=t.price(pack.price_minor, pack.currency))


class BuyFlow(Flow):
    """Stateless: the packs and the invoice are answers to presses; a payment arrives on its own."""

    name = NAME
    commands = ()
    actions = {Act.PACKS: (), Act.PACK: (Int(1, 10**9), Int(1, 10**9), Text(8))}  # credits (milli), price, currency

    def start(self, ctx: Context, args: str) -> None:
        self._packs(ctx)

    def on_press(self, ctx: Context, action: str, args: tuple[str, ...]) -> None:
        if action == Act.PACKS:
            self._packs(ctx)
        elif (action == Act.PACK and len(args) == 3 and (credits := ascii_int(args[0], 1, 10**9)) is not None
              and (price := ascii_int(args[1], 1, 10**9)) is not None):
            self._invoice(ctx, Pack(credits, price, args[2]))
        else:
            outdated(ctx)

    def on_payment(self, ctx: Context, payment: PaymentIn) -> None:
        t = ctx.t
        person_id = ctx.person.id or 0
        try:
            result = complete_payment(ctx.uow, ctx.clock, person_id=person_id, payment=Payment(
                payment.payload, payment.currency, payment.total, payment.charge_id, payment.provider_charge_id))
        except PaymentRefused as refused:
            # Checked before the money moved, so this is a bug or a forgery: staff must look at it.
            log.error("payment %s (%s %s) by person %s matches no purchase: %s", payment.charge_id, payment.total,
                      payment.currency, person_id, refused.reason)
            ctx.say(t("I received your payment but could not match it to a purchase, so no credits were added "
                      "yet. Please contact support and quote this payment id: {charge}", charge=payment.charge_id))
            return
        if not result.granted:
            log.info("payment %s delivered again: already counted", payment.charge_id)
            return
        ctx.say(t.plural("Thank you! {credits} credit was added to your balance. You now have {available} available.",
                         "Thank you! {credits} credits were added to your balance. You now have {available} "
                         "available.",
                         t.credits_n(result.purchase.credits_milli),
                         credits=t.credits(result.purchase.credits_milli),
                         available=t.credits(available(ctx.uow, person_id))))

    # ---- steps

    def _offer(self, ctx: Context) -> PaymentSettings | None:
        """The packs this person may buy here, or None after saying why not."""
        t = ctx.t
        if not is_individual(ctx.person):
            ctx.say(t("Your credits come from your programme: ask your programme staff for an allocation."))
            return None
        if ctx.sender.platform != PLATFORM:
            ctx.say(t("Credits can be bought in our Telegram chat: open /credits there."))
            return None
        if ctx.sender.is_group:
            ctx.say(t("I sell credits only in a private chat: write /credits to me directly."))
            return None
        try:
            return payment_settings()
        except ValueError as error:
            log.error("buying credits is off: %s", error)
            ctx.say(t("Buying credits is not set up here yet. Please ask whoever runs Headstrt."))
            return None

    def _packs(self, ctx: Context, intro: str | None = None) -> None:
        settings = self._offer(ctx)
        if settings is None:
            return
        t = ctx.t
        buttons = [Button(pack_words(t, pack), p(NAME, Act.PACK, pack.credits_milli, pack.price_minor, pack.currency))
                   for pack in settings.packs]
        text = t("Which pack would you like? You pay in Telegram, and the credits are added as soon as the "
                 "payment goes through.")
        ctx.say(f"{intro}\n{text}" if intro else text, rows(buttons, per_row=1))

    def _invoice(self, ctx: Context, pack: Pack) -> None:
        settings = self._offer(ctx)
        if settings is None:
            return
        t = ctx.t
        if pack not in settings.packs:
            self._packs(ctx, t("That pack is no longer on offer. Here are the current ones."))
            return
        purchase = start_purchase(ctx.uow, ctx.clock, person=ctx.person, pack=pack, offered=settings.packs)
        credits = t.credits(pack.credits_milli)
        price = t.price(pack.price_minor, pack.currency)
        invoice = Invoice(
            title=t("Headstrt credits: {credits}", credits=credits)[:32],
            description=t.plural("{credits} credit for booking sessions with experts. It is added to your balance "
                                 "as soon as the payment goes through.",
                                 "{credits} credits for booking sessions with experts. They are added to your "
                                 "balance as soon as the payment goes through.",
                                 t.credits_n(pack.credits_milli), credits=credits)[:255],
            payload=purchase.token, currency=pack.currency, amount=pack.price_minor,
            label=t.plural("{credits} credit",
                           "{credits} credits",
                           t.credits_n(pack.credits_milli), credits=credits),
        )
        ctx.replies.append(Reply(t.plural("Your invoice: {credits} credit for {price}.",
                                          "Your invoice: {credits} credits for {price}.",
                                          t.credits_n(pack.credits_milli), credits=credits, price=price),
                                 invoice=invoice))
