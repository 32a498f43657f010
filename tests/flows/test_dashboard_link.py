"""/dashboard in the chat: staff get a one-time sign-in link that starts with PUBLIC_URL, in a private chat
only; everyone else a polite no."""

from __future__ import annotations

import re
import uuid

from bot.events import Incoming, Sender, parse_text
from core.signin import redeem_signin_link
from tests import factories as f


def test_staff_get_a_link_others_a_polite_no(uow, clock, chat, monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "https://bot.example.com/")
    with uow() as u:
        programme = f.programme(u)
        f.staff(u, "sam", programme.id)
        f.person(u, "ana")
        u.commit()
    sam = chat("sam")
    sam.as_("sam")
    out = sam.say("/dashboard")
    found = re.search(r"https://bot\.example\.com/dashboard/login/([A-Za-z0-9_-]{40,})", out)
    assert found and "It works once, within 15 minutes." in out
    with uow() as u:
        assert redeem_signin_link(u, clock, found.group(1))
    ana = chat("ana")
    ana.as_("ana")
    out = ana.say("/dashboard")
    assert "The dashboard is for programme staff" in out and "http" not in out


def test_no_link_in_a_group_or_without_public_url(uow, clock, dispatcher, monkeypatch):
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    with uow() as u:
        f.staff(u, "sam", f.programme(u).id)
        u.commit()
    handled = dispatcher.handle(parse_text(Sender("console", "sam", "sam"), uuid.uuid4().hex, "/dashboard"))
    assert "PUBLIC_URL" in handled.messages[-1].payload and "/dashboard/login/" not in handled.messages[-1].payload
    monkeypatch.setenv("PUBLIC_URL", "https://bot.example.com")
    group = Sender("console", "sam", "group-1", is_group=True)
    handled = dispatcher.handle(Incoming(group, uuid.uuid4().hex, command="dashboard"))
    assert "only in a private chat" in handled.messages[-1].payload and "/login/" not in handled.messages[-1].payload
