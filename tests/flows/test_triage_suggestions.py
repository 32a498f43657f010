"""Triage: "pick one who is free then" offers only experts who can take the request as it is."""

from __future__ import annotations

from core.credits import Source
from core.lifecycle import PairingMode
from tests import factories as f
from tests.flows.test_staff import _request, acme


def test_reassign_does_not_offer_a_pro_bono_expert_for_a_paid_hour(uow, chat, dispatcher, clock):
    ids = acme(uow, PairingMode.TRIAGE_FIRST)
    with uow() as u:
        f.credits(u, amount="5", source=Source.PROGRAMME, company_id=ids["company"])
        f.expert(u, "pia", paid=False, topics=("Fundraising",))  # free at the time, but takes 15 minutes only
        u.commit()
    _request(uow, dispatcher, clock, ids, "Seed round", 10)  # one 60-minute meeting with Bob
    sam = chat("sam")
    sam.as_("sam")
    sam.say("/triage")
    out = sam.say("Reassign 1")
    assert "Cleo (@cleo)" in out and "Pia (@pia)" not in out
