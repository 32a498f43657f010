"""Buying credits as seen from the console: payments happen in Telegram, so an individual here is pointed
there (when the deployment has a Telegram bot), a founder keeps "ask staff", and a buy press that reached
another chat sells nothing."""

from __future__ import annotations

from sqlalchemy import select

from bot.payloads import p
from storage.models import PurchaseRow
from tests import factories as f


def test_an_individual_on_the_console_is_pointed_to_telegram(uow, chat, monkeypatch):
    with uow() as u:
        f.person(u, "chen")
        prog = f.programme(u)
        company = u.people.add_company("Acme", prog.id)
        f.person(u, "ana", company_id=company.id)
        u.commit()
    chen = chat("chen")
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    out = chen.say("/credits")
    assert "Your credits: 0 available" in out and "Telegram" not in out
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    out = chen.say("/credits")
    assert "Credits can be bought in our Telegram chat: open /credits there." in out
    out = chen.press(p("buy", "pack", 5000, 250, "XTR"))  # a press made elsewhere, replayed here
    assert "Credits can be bought in our Telegram chat" in out
    ana = chat("ana")
    out = ana.say("/credits")
    assert "ask your programme staff for an allocation" in out and "Telegram chat" not in out
    out = ana.press(p("buy", "packs"))
    assert "Your credits come from your programme" in out
    with uow() as u:
        assert u.session.scalars(select(PurchaseRow)).all() == []  # not even a pending one
