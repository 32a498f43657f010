"""/credits: the balance one command away: available and held, per wallet with where it came from,
the recent movements, and what to do when nothing is left."""

from __future__ import annotations

from core.credit_service import balance
from core.credits import Movement, Source
from core.purchases import PurchaseStatus
from bot.flows.base import Context, Flow
from bot.flows.purchases import buy_button, buy_elsewhere, can_buy, pack_words
from bot.i18n import Translator
from storage.people_repo import WalletOwner

NAME = "credits"
HISTORY = 10  # movements shown
RECEIPTS = 5  # purchases shown


def wallet_label(t: Translator, source: Source, programme: str | None, company: str | None) -> str:
    if source is Source.PROGRAMME:
        if programme and company:
            return t("Programme allocation ({programme}, for {company})", programme=programme, company=company)
        return t("Programme allocation")
    if source is Source.COMPANY:
        return t("Company allocation ({company})", company=company) if company else t("Company allocation")
    return t("Your own credits")


def movement_words(t: Translator, kind: Movement, amount: int) -> str:
    credits = t.credits(amount)
    words = {
        Movement.GRANT: t("+{credits} granted", credits=credits),
        Movement.HOLD: t("{credits} held for a request", credits=credits),
        Movement.RELEASE: t("{credits} released (the request closed without a meeting)", credits=credits),
        Movement.SPEND: t("{credits} spent (a request was accepted)", credits=credits),
        Movement.CHARGE: t("-{credits} charged (a late reschedule)", credits=credits),
        Movement.REFUND: t("+{credits} refunded", credits=credits),
        Movement.REVOKE: t("-{credits} taken back by staff", credits=credits),
    }
    return words[kind]


def out_of_credits(t: Translator, in_programme: bool = True) -> str:
    lines = [t("You have no credits available right now. Your options:")]
    if in_programme:  # someone on the marketplace has no programme staff or company to ask
        lines += [t("• ask your programme staff for an allocation"), t("• ask your company for a top-up")]
    lines += [t("• buy credits of your own"), t("• book a pro-bono expert: free 15-minute sessions (/book)")]
    return "\n".join(lines)


class CreditsFlow(Flow):
    """Read-only: it never changes the conversation, so it can be asked in the middle of anything."""

    name = NAME
    commands = ("credits",)

    def start(self, ctx: Context, args: str) -> None:
        t = ctx.t
        bal = balance(ctx.uow, ctx.person.id or 0)
        lines = [t("Your credits: {available} available, {held} held for requests waiting for an answer.",
                   available=t.credits(bal.available), held=t.credits(bal.held))]
        # Whose each wallet is, in one query: the labels are said again in this person's language.
        names = ctx.uow.people.wallet_owners(w.id for w in bal.wallets)
        labels: dict[str, str] = {}  # the ledger's own label -> the label in this person's language
        for w in bal.wallets:
            owner = names.get(w.id, WalletOwner(None, None))
            label = wallet_label(t, w.source, owner.programme, owner.company)
            labels[w.label] = label
            lines.append(t("• {label}: {available} available, {held} held", label=label,
                           available=t.credits(w.available), held=t.credits(w.held)))
        if bal.history:
            lines.append(t("Recent movements:"))
            for at, kind, amount, label, note in bal.history[:HISTORY]:
                line = t("• {when}: {what} ({wallet})", when=t.when(at), what=movement_words(t, kind, amount),
                         wallet=labels.get(label, label))
                if note:
                    line += " " + t("— {note}", note=note)
                lines.append(line)
        else:
            lines.append(t("No movements yet."))
        receipts = ctx.uow.purchases.for_person(ctx.person.id or 0, limit=RECEIPTS)
        if receipts:
            lines.append(t("Your purchases:"))
            for purchase in receipts:
                line = t("• {when}: {pack}", when=t.when(purchase.paid_at or purchase.created_at),
                         pack=pack_words(t, purchase.pack))
                if purchase.status is PurchaseStatus.REFUNDED:
                    line += " " + t("(refunded)")
                lines.append(line)
        if bal.available == 0:
            lines.append(out_of_credits(t, in_programme=ctx.person.company_id is not None))
        elsewhere = buy_elsewhere(ctx)
        if elsewhere is not None:
            lines.append(elsewhere)
        buttons = ((buy_button(ctx),),) if can_buy(ctx) else ()
        ctx.say("\n".join(lines), buttons)
