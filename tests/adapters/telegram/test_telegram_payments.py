"""Buying credits in Telegram with the real python-telegram-bot against the fake Bot API: /credits offers the
packs, a pack becomes an invoice whose payload is only a purchase's token, pre_checkout_query is answered
ok only for that person's pending purchase at its price, and successful_payment grants once however often
Telegram delivers it. Refunds take back unspent credits only."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.dispatcher import Dispatcher
from bot.flows import all_flows
from bot.router import Router
from bot.adapters.telegram.payments import star_refunder
from bot.payments import refund_purchase
from core.credit_service import available
from core.errors import InsufficientCredits
from core.purchases import PurchaseStatus
from storage.models import CreditMovementRow, PurchaseRow
from tests import factories as f
from tests.adapters.telegram.harness import RunningBot, TgUser
from tests.fakes.telegram_server import FakeTelegram

CHEN, OLA, ANA = 7101, 7102, 7103


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(private_limit=None) as server:
        yield server


@pytest.fixture
def stars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_PAYMENT_PROVIDER_TOKEN", raising=False)
    monkeypatch.delenv("HEADSTRT_CREDIT_PACKS", raising=False)  # the default: 5:250:XTR,10:450:XTR


def people(uow) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Chen and Ola are individuals on the marketplace; Ana is a founder whose credits come from her programme."""
    with uow() as u:
        chen = f.person(u, "chen")
        u.people.save(dataclasses.replace(chen, telegram_user_id=CHEN))
        ola = f.person(u, "ola")
        u.people.save(dataclasses.replace(ola, telegram_user_id=OLA))
        prog = f.programme(u)
        company = u.people.add_company("Acme", prog.id)
        ana = f.person(u, "ana", company_id=company.id)
        u.people.save(dataclasses.replace(ana, telegram_user_id=ANA))
        u.commit()
        return {"chen": chen.id or 0, "ola": ola.id or 0, "ana": ana.id or 0}


def deliver(bot: RunningBot, update: dict[str, Any]) -> None:
    status = bot.deliver(update)
    assert status in (None, 200), status
    bot.settle(update["update_id"])


def invoice_of(fake: FakeTelegram, chat_id: int) -> tuple[int, dict[str, Any]]:
    found = [(m, i) for (c, m), i in fake.invoices.items() if c == chat_id]
    assert found, fake.dump()
    return found[-1]


def checkout(bot: RunningBot, user_id: int, message_id: int, **forged: Any) -> tuple[str, dict[str, Any]]:
    update = bot.fake.checkout(user_id, message_id, **forged)
    deliver(bot, update)
    query_id = update["pre_checkout_query"]["id"]
    assert query_id in bot.fake.checkout_answers, bot.fake.dump()
    return query_id, bot.fake.checkout_answers[query_id]


def purchases(uow) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The purchase rows as stored, oldest first."""
    with uow() as u:
        return [{c.name: getattr(r, c.name) for c in PurchaseRow.__table__.columns}
                for r in u.session.scalars(select(PurchaseRow).order_by(PurchaseRow.id))]


def balance(uow, person_id: int) -> int:  # type: ignore[no-untyped-def]
    with uow() as u:
        return available(u, person_id)


def buy_five(chen: TgUser) -> int:
    """/credits -> Buy credits -> the 5-credit pack: the invoice's message id."""
    out = chen.say("/credits")
    assert "Your credits: 0 available" in out
    assert "Buy credits" in chen.labels()
    out = chen.tap("Buy credits")
    assert "Which pack would you like?" in out
    assert chen.labels() == ["5 credits for 250 ⭐", "10 credits for 450 ⭐"]
    chen.tap("5 credits for 250 ⭐")
    message_id, _ = invoice_of(chen.fake, CHEN)
    return message_id


@pytest.mark.parametrize("polling", [True, False], ids=["polling", "webhook"])
def test_a_purchase_in_stars_grants_once_however_often_telegram_delivers_it(uow, clock, fake, stars, polling):
    ids = people(uow)
    with RunningBot(fake, uow, clock, polling=polling) as bot:
        chen = TgUser(bot, CHEN, "Chen")
        message_id = buy_five(chen)
        invoice = fake.invoices[(CHEN, message_id)]
        assert (invoice["currency"], invoice["total_amount"], invoice["provider_token"]) == ("XTR", 250, "")
        assert invoice["title"] == "Headstrt credits: 5"
        [row] = purchases(uow)
        # The payload names the pending purchase and says nothing about the pack.
        assert invoice["payload"] == row["token"] and row["status"] == "pending" and len(row["token"]) >= 24
        assert "250" not in invoice["payload"] and "XTR" not in invoice["payload"]

        query_id, answer = checkout(bot, CHEN, message_id)
        assert answer["ok"] is True and answer["error_message"] in (None, "")
        assert balance(uow, ids["chen"]) == 0  # nothing before the money is taken

        paid = fake.successful_payment(query_id)
        out = chen._act(paid)
        assert "Thank you! 5 credits were added to your balance. You now have 5 available." in out
        assert balance(uow, ids["chen"]) == 5000

        # Telegram delivers the same update again, then the same payment in a new update: counted once.
        deliver(bot, paid)
        charge = paid["message"]["successful_payment"]["telegram_payment_charge_id"]
        again = fake.successful_payment(query_id, charge_id=charge)
        assert again["update_id"] != paid["update_id"]
        assert chen._act(again) == ""  # nothing to say: it was counted already
        assert balance(uow, ids["chen"]) == 5000
        [row] = purchases(uow)
        with uow() as u:
            grants = u.session.scalars(select(CreditMovementRow.amount).where(CreditMovementRow.kind == "grant")).all()
        assert (row["status"], row["telegram_charge_id"], row["provider_charge_id"]) == ("paid", charge, None)
        assert grants == [5000]

        # Paying the same invoice again is refused before any money moves.
        _, answer = checkout(bot, CHEN, message_id)
        assert answer["ok"] is False and "paid already" in answer["error_message"]

        out = chen.say("/credits")
        assert "Your credits: 5 available" in out
        assert "Your purchases:" in out and "5 credits for 250 ⭐" in out


def test_a_purchase_through_a_provider_records_both_charge_ids(uow, clock, fake, monkeypatch):
    monkeypatch.setenv("TELEGRAM_PAYMENT_PROVIDER_TOKEN", "284685063:TEST:provider")
    monkeypatch.setenv("HEADSTRT_CREDIT_PACKS", "5:2500:USD,10:4500:USD")
    ids = people(uow)
    with RunningBot(fake, uow, clock, polling=True, payment_provider_token="284685063:TEST:provider") as bot:
        chen = TgUser(bot, CHEN, "Chen")
        chen.say("/credits")
        chen.tap("Buy credits")
        assert chen.labels() == ["5 credits for $25.00", "10 credits for $45.00"]
        chen.tap("10 credits for $45.00")
        message_id, invoice = invoice_of(fake, CHEN)
        assert (invoice["currency"], invoice["total_amount"]) == ("USD", 4500)
        assert invoice["provider_token"] == "284685063:TEST:provider"
        query_id, answer = checkout(bot, CHEN, message_id)
        assert answer["ok"] is True
        out = chen._act(fake.successful_payment(query_id))
        assert "10 credits were added" in out
        assert balance(uow, ids["chen"]) == 10_000
        [row] = purchases(uow)
        assert row["status"] == "paid" and row["provider_charge_id"] == f"prov_{row['telegram_charge_id']}"
        out = chen.say("/credits")
        assert "10 credits for $45.00" in out


def test_forged_pre_checkouts_are_refused(uow, clock, fake, stars):
    ids = people(uow)
    with RunningBot(fake, uow, clock, polling=True) as bot:
        chen = TgUser(bot, CHEN, "Chen")
        TgUser(bot, OLA, "Ola").say("/help")
        message_id = buy_five(chen)
        token = fake.invoices[(CHEN, message_id)]["payload"]

        _, answer = checkout(bot, CHEN, message_id, total_amount=1)
        assert answer["ok"] is False and "amount does not match" in answer["error_message"]
        _, answer = checkout(bot, CHEN, message_id, currency="USD")
        assert answer["ok"] is False and "amount does not match" in answer["error_message"]
        # Ola pays Chen's invoice (forwarded to her, or its payload copied): not hers.
        _, answer = checkout(bot, OLA, message_id, chat_id=CHEN)
        assert answer["ok"] is False and "made for someone else" in answer["error_message"]
        _, answer = checkout(bot, CHEN, message_id, payload="made-up-token")
        assert answer["ok"] is False and "not valid any more" in answer["error_message"]
        # Someone the bot never met.
        _, answer = checkout(bot, 7999, message_id, chat_id=CHEN, payload=token)
        assert answer["ok"] is False and "made for someone else" in answer["error_message"]

        assert balance(uow, ids["chen"]) == 0 and balance(uow, ids["ola"]) == 0
        assert [r["status"] for r in purchases(uow)] == ["pending"]
        # The genuine one still goes through.
        _, answer = checkout(bot, CHEN, message_id)
        assert answer["ok"] is True


def test_founders_are_not_offered_packs(uow, clock, fake, stars):
    people(uow)
    with RunningBot(fake, uow, clock, polling=True) as bot:
        ana = TgUser(bot, ANA, "Ana")
        out = ana.say("/credits")
        assert "ask your programme staff for an allocation" in out
        assert "Buy credits" not in ana.labels()
        assert fake.invoices == {}


def test_refund_takes_back_unspent_credits_and_refuses_when_spent(uow, clock, fake, stars):
    ids = people(uow)
    with RunningBot(fake, uow, clock, polling=True) as bot:
        chen = TgUser(bot, CHEN, "Chen")
        charges = []
        for _ in range(2):
            message_id = buy_five(chen) if not charges else _buy_again(chen)
            query_id, _ = checkout(bot, CHEN, message_id)
            paid = fake.successful_payment(query_id)
            chen._act(paid)
            charges.append(paid["message"]["successful_payment"]["telegram_payment_charge_id"])
        assert balance(uow, ids["chen"]) == 10_000
        refunder = star_refunder(fake.token, fake.base_url)

        # As the command line does it: another process queues the notice, the bot's pump sends it.
        elsewhere = Dispatcher(uow, clock, all_flows(), Router(["telegram"]))
        done = refund_purchase(uow, clock, charges[0], star_refund=refunder, queue_notice=elsewhere.queue_notice)
        assert done.stars_returned and done.purchase.status is PurchaseStatus.REFUNDED
        assert fake.charges[charges[0]]["refunded"] is True
        assert balance(uow, ids["chen"]) == 5000
        fake.wait_for(lambda fk: any("Your purchase was refunded: 5 credits for 250 ⭐" in (m.text or "")
                                     for m in fk.sent(CHEN)))

        # Chen spends 2 of the other 5: that purchase can no longer be refunded, and nothing moves.
        with uow() as u:
            from core.credit_service import revoke
            from core.credits import Source
            revoke(u, key="spent-elsewhere", amount_milli=2000, source=Source.INDIVIDUAL, person_id=ids["chen"])
            u.commit()
        with pytest.raises(InsufficientCredits):
            refund_purchase(uow, clock, charges[1], star_refund=refunder)
        assert fake.charges[charges[1]]["refunded"] is False
        assert balance(uow, ids["chen"]) == 3000
        assert [r["status"] for r in purchases(uow)] == ["refunded", "paid"]

        out = chen.say("/credits")
        assert "5 credits for 250 ⭐ (refunded)" in out


def _buy_again(chen: TgUser) -> int:
    before = set(chen.fake.invoices)
    chen.tap("5 credits for 250 ⭐")
    new = [m for (c, m) in set(chen.fake.invoices) - before if c == CHEN]
    assert len(new) == 1
    return new[0]


def test_a_refund_telegram_refuses_changes_nothing(uow, clock, fake, stars):
    ids = people(uow)
    with RunningBot(fake, uow, clock, polling=True) as bot:
        chen = TgUser(bot, CHEN, "Chen")
        query_id, _ = checkout(bot, CHEN, buy_five(chen))
        paid = fake.successful_payment(query_id)
        chen._act(paid)
    charge = paid["message"]["successful_payment"]["telegram_payment_charge_id"]
    fake.charges[charge]["refunded"] = True  # refunded in Telegram already, behind our back
    from telegram.error import BadRequest
    with pytest.raises(BadRequest, match="(?i)charge_already_refunded"):
        refund_purchase(uow, clock, charge, star_refund=star_refunder(fake.token, fake.base_url))
    assert balance(uow, ids["chen"]) == 5000
    assert [r["status"] for r in purchases(uow)] == ["paid"]


def test_the_refund_command(tmp_path, fake, monkeypatch, capsys, stars):
    """`headstrt payments refund CHARGE_ID` on a SQLite file, Stars returned through the fake Bot API."""
    from core.clock import FixedClock
    from core.purchases import Payment, complete_payment, start_purchase
    from storage.db import make_engine
    from storage.uow import SqlUnitOfWork
    from tests.factories import T0

    url = f"sqlite:///{tmp_path / 'pay.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake.token)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake.base_url)
    assert main(["db", "upgrade"]) == 0
    engine = make_engine(url)
    clock = FixedClock(T0)
    fake.user(CHEN, "Chen")
    fake.message(CHEN, "/start")  # opened the chat, so the refund notice can reach them
    with SqlUnitOfWork(engine, clock) as u:
        chen = f.person(u, "chen")
        u.people.save(dataclasses.replace(chen, telegram_user_id=CHEN))
        from core.purchases import Pack
        pack = Pack(5000, 250, "XTR")
        bought = start_purchase(u, clock, person=chen, pack=pack, offered=(pack,))
        complete_payment(u, clock, person_id=chen.id or 0,
                         payment=Payment(bought.token, "XTR", 250, "stxCLI1"))
        u.commit()
    fake.charges["stxCLI1"] = {"user_id": CHEN, "currency": "XTR", "total_amount": 250, "refunded": False}
    assert main(["payments", "refund", "stxCLI1"]) == 0
    out = capsys.readouterr().out
    assert "refunded stxCLI1: 5 credits taken back from @chen; 250 ⭐ returned through Telegram" in out
    assert fake.charges["stxCLI1"]["refunded"] is True
    assert main(["payments", "refund", "stxCLI1"]) == 1  # once
    assert "purchase" in capsys.readouterr().err
    assert main(["payments", "refund", "nope"]) == 1
    engine.dispose()


@pytest.mark.parametrize("packs, token, expected", [
    ("5:2500", "", "HEADSTRT_CREDIT_PACKS: '5:2500' is not credits:price:currency (e.g. 5:2500:USD)"),
    ("5:25.00:USD", "tok", "HEADSTRT_CREDIT_PACKS: '5:25.00:USD' is not credits:price:currency (e.g. 5:2500:USD)"),
    ("5:2500:USD", "", "HEADSTRT_CREDIT_PACKS: '5:2500:USD' is in USD, which needs TELEGRAM_PAYMENT_PROVIDER_TOKEN; "
                       "without one, packs are sold in Telegram Stars (XTR)"),
    ("5:250:XTR", "tok", "HEADSTRT_CREDIT_PACKS: '5:250:XTR' is in Telegram Stars (XTR), which take no payment "
                         "provider: unset TELEGRAM_PAYMENT_PROVIDER_TOKEN or price it in money"),
    ("0:100:XTR", "", "HEADSTRT_CREDIT_PACKS: '0:100:XTR': credits must be above 0 and at most 100000"),
    ("5:250:XTR,,10:450:XTR", "", "HEADSTRT_CREDIT_PACKS: an empty pack in '5:250:XTR,,10:450:XTR'"),
    ("5:2500:ABC", "tok", "HEADSTRT_CREDIT_PACKS: 'ABC' is not a currency code"),
])
def test_bad_credit_packs_stop_the_bot_with_one_line(monkeypatch, capsys, packs, token, expected):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("HEADSTRT_CREDIT_PACKS", packs)
    monkeypatch.setenv("TELEGRAM_PAYMENT_PROVIDER_TOKEN", token)
    monkeypatch.setenv("DATABASE_URL", "sqlite:////nonexistent/never-opened.db")
    assert main(["telegram"]) == 2
    err = capsys.readouterr().err
    assert err == f"headstrt: {expected}\n"
