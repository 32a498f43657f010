"""Staff in the console: /grant to a person and to a company, /assign, and triage-first requests
(approve, reassign, decline). Requests are made through the engine, notifications as the dispatcher sends them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from core import booking_service as bs
from core.credit_service import balance
from core.credits import Source
from core.lifecycle import BookingStatus, MeetingStatus, PairingMode
from core.policy import Policy
from core.sessions import MeetingRequest, SessionDetails
from bot.events import parse_text
from bot.notifications import event_notices
from tests import factories as f

TUE_10 = datetime(2030, 3, 5, 10, 0, tzinfo=UTC)


def money(uow, person_id: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with uow() as u:
        bal = balance(u, person_id)
        return bal.available, bal.held


def acme(uow, mode: PairingMode = PairingMode.SELF_SELECT) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """@sam (staff); Acme Robotics with @ana and @carl; @zoe outside it; experts @bob and @cleo."""
    with uow() as u:
        programme = f.programme(u, "Spring cohort", mode=mode)
        company = u.people.add_company("Acme Robotics", programme.id)
        ids = {
            "sam": f.staff(u, "sam", programme.id).id,  # staff reach only their own programme's people
            "ana": f.person(u, "ana", company_id=company.id).id,
            "carl": f.person(u, "carl", company_id=company.id).id,
            "zoe": f.person(u, "zoe", company_id=u.people.add_company("Zeta Labs", programme.id).id).id,
            "company": company.id,
        }
        bob = f.expert(u, "bob", topics=("Fundraising",))
        cleo = f.expert(u, "cleo", topics=("Fundraising", "Pitch decks"))
        ids.update(bob=bob.id, bob_person=bob.person_id, cleo=cleo.id, cleo_person=cleo.person_id)
        u.commit()
    return ids


def typed(transcript, line: str) -> str:  # type: ignore[no-untyped-def]
    """Type a line past the console's own "/as" shortcut, which swallows "/assign" (a console bug)."""
    chat = transcript.chat
    chat.dispatcher.handle(parse_text(chat.sender(), uuid.uuid4().hex, line))
    transcript.last = chat.pending()
    return transcript.text


def test_grant_to_a_person_with_bad_amounts_and_a_double_press(uow, chat):
    ids = acme(uow)
    sam = chat("sam")
    sam.as_("sam")
    assert "Who gets the credits?" in sam.say("/grant")
    out = sam.say("@zo")
    assert "I don't know “@zo”. Did you mean one of these?" in out and "@zoe (Zoe)" in out
    out = sam.say("@zoe (Zoe)")
    assert "Which kind of credits for @zoe (Zoe)?" in out and "[1] Programme  [2] Company  [3] Individual" in out
    assert "How many credits (individual credits) for @zoe (Zoe)?" in sam.say("Individual")
    assert "“lots” is not an amount. Type a number of credits, for example 2 or 0.5." in sam.say("lots")
    assert "at most 3 decimals" in sam.say("0.0001")
    assert "Please give a positive amount" in sam.say("-1")
    assert "Please give a positive amount" in sam.say("0")
    out = sam.say("1.5")
    assert "Grant 1.5 credits (individual credits) to @zoe (Zoe)?" in out
    assert money(uow, ids["zoe"]) == (0, 0)
    out = sam.say("Confirm grant")
    assert "Granted 1.5 credits (individual credits) to @zoe (Zoe). I told them." in out
    assert "earlier message" in sam.say("Confirm grant")  # the same button again: granted once
    assert money(uow, ids["zoe"]) == (1500, 0)
    out = sam.as_("zoe")
    assert out.count("Sam granted you 1.5 credits (individual credits). /credits shows your balance.") == 1
    assert "Your own credits: 1.5 available" in sam.say("/credits") and "— @sam" in sam.text


def test_grant_to_a_company_tells_its_members(uow, chat):
    ids = acme(uow)
    sam = chat("sam")
    sam.as_("sam")
    sam.say("/grant")
    out = sam.say("Acme Robtics")
    assert "I don't know “Acme Robtics”" in out and "[1] Acme Robotics" in out
    out = sam.say("Acme Robotics")
    assert "Which kind of credits for Acme Robotics?" in out and "Individual" not in out
    sam.say("Programme")
    out = sam.say("2")
    assert "Grant 2 credits (programme allocation) to Acme Robotics?" in out and "Its 2 members share them" in out
    assert "I told its 2 members." in sam.say("Confirm grant")
    assert money(uow, ids["ana"]) == (2000, 0) and money(uow, ids["carl"]) == (2000, 0)  # one shared wallet
    assert money(uow, ids["zoe"]) == (0, 0)
    for member in ("ana", "carl"):
        assert "Sam granted 2 credits (programme allocation) to Acme Robotics; everyone at Acme Robotics can use " \
            "them." in sam.as_(member)
    assert "granted" not in sam.as_("zoe")

    # Typed straight after the command, case-insensitively; a crafted press for Individual is refused.
    sam.as_("sam")
    assert "Which kind of credits for Acme Robotics?" in sam.say("/grant acme robotics")
    stamp = sam.chat.button("1")[0].split("|")[3]
    assert "earlier message" in sam.press(f"1|staff|src|{stamp}|individual")


def test_non_staff_are_refused(uow, chat):
    ids = acme(uow)
    ana = chat("ana")
    ana.as_("ana")
    for command in ("/grant", "/assign", "/triage"):
        assert "Only programme staff can do that." in typed(ana, command)
    assert "Only programme staff can do that." in ana.press("1|tri|ok|1")
    assert money(uow, ids["ana"]) == (0, 0)


def test_assign_an_expert_to_a_company(uow, chat):
    ids = acme(uow, PairingMode.ADMIN_ASSIGNED)
    sam = chat("sam")
    sam.as_("sam")
    assert "Which company gets an expert?" in typed(sam, "/assign")
    assert "There is no company called “Acme”. Did you mean one of these?" in sam.say("Acme")
    assert "Which expert should Acme Robotics have?" in sam.say("Acme Robotics")
    out = sam.say("@bobby")
    assert "No expert has the handle “@bobby”" in out and "@bob (Bob)" in out
    out = sam.say("@bob (Bob)")
    assert "Assigned Bob to Acme Robotics." in out and "Note" not in out
    with uow() as u:
        assert u.people.assigned_experts(ids["company"]) == frozenset({ids["bob"]})
    typed(sam, "/assign Acme Robotics")
    assert "Bob was already assigned to Acme Robotics; nothing changed." in sam.say("bob")


def _request(uow, dispatcher, clock, ids, title: str, hour: int) -> int:  # type: ignore[no-untyped-def]
    with uow() as u:
        b = bs.request_booking(u, clock, client_id=ids["ana"], expert_id=ids["bob"],
                               meetings=[MeetingRequest(TUE_10.replace(hour=hour), 60)], details=SessionDetails(title, "A term sheet"),
                               policy=bs.DEFAULT_POLICY)
        for notice in event_notices(u, u.events, key_prefix=uuid.uuid4().hex):
            dispatcher.queue_notice(u, notice)
        u.commit()
        return b.id


def test_triage_first_approve_reassign_and_decline(uow, chat, dispatcher, clock):
    ids = acme(uow, PairingMode.TRIAGE_FIRST)
    with uow() as u:
        f.credits(u, amount="5", source=Source.PROGRAMME, company_id=ids["company"])
        u.commit()
    first = _request(uow, dispatcher, clock, ids, "Seed round", 10)
    sam = chat("sam")
    out = sam.as_("bob")
    assert "Seed round" not in out  # the expert does not see it before staff do
    out = sam.as_("sam")
    assert "Triage: Ana asks Bob for a session." in out and "[1] Approve  [2] Reassign  [3] Decline" in out
    out = sam.say("Approve")
    assert "(updated) Approved: “Seed round” from Ana is now with Bob." in out
    with uow() as u:
        assert u.bookings.get(first).status is BookingStatus.REQUESTED
    out = sam.as_("bob")
    assert "New session request from Ana." in out and "“Seed round”" in out and "[1] Accept" in out
    sam.as_("sam")
    assert "already moved on (it is waiting for the expert)" in sam.press(f"1|tri|ok|{first}")  # a second press

    # Reassign from the queue: experts free at the same times are offered; the old hold is released.
    second = _request(uow, dispatcher, clock, ids, "Pitch deck review", 12)
    assert money(uow, ids["ana"]) == (3000, 2000)
    sam.as_("sam")
    out = sam.say("/triage")
    assert "Requests waiting for triage (1):" in out and "1. Ana asks Bob: “Pitch deck review”" in out
    out = sam.say("Reassign 1")
    assert "Which expert should take “Pitch deck review” instead of Bob?" in out and "Cleo (@cleo)" in out
    assert "Bob (@bob)" not in out
    out = sam.say("Cleo (@cleo)")
    assert "Reassigned: “Pitch deck review” now goes to Cleo; Bob never saw it." in out
    with uow() as u:
        old = u.bookings.get(second)
        assert old.status is BookingStatus.DECLINED and old.meetings[0].status is MeetingStatus.RELEASED
        new = [b for b in u.bookings.for_person(ids["ana"]) if b.expert_id == ids["cleo"]]
        assert len(new) == 1 and new[0].status is BookingStatus.REQUESTED
    assert money(uow, ids["ana"]) == (3000, 2000)  # one hold released, one placed: 1 + 1 held
    out = sam.as_("cleo")
    assert "New session request from Ana." in out and "Pitch deck review" in out
    assert "Pitch deck review" not in sam.as_("bob")

    # Decline with a reason: the client hears it and the credits come back.
    third = _request(uow, dispatcher, clock, ids, "Hiring plan", 14)
    sam.as_("sam")
    sam.say("Decline")
    assert "Decline “Hiring plan” from Ana?" in sam.text
    assert "Declined “Hiring plan”; Ana has been told" in sam.say("Please book a hiring expert instead.")
    with uow() as u:
        assert u.bookings.get(third).status is BookingStatus.DECLINED
    assert money(uow, ids["ana"]) == (3000, 2000)
    assert "Their note: Please book a hiring expert instead." in sam.as_("ana")
    sam.as_("sam")
    assert "Nothing is waiting for triage." in sam.say("/triage")


def test_a_reassigned_request_waits_as_long_as_the_deployment_says(uow, chat, dispatcher, clock):
    """REQUEST_EXPIRY=6h: the new expert has 6 h from the reassignment, not the default 48 h."""
    ids = acme(uow, PairingMode.TRIAGE_FIRST)
    with uow() as u:
        f.credits(u, amount="5", source=Source.PROGRAMME, company_id=ids["company"])
        u.commit()
    _request(uow, dispatcher, clock, ids, "Pitch deck review", 12)
    dispatcher.policy = Policy(request_expiry=timedelta(hours=6))
    sam = chat("sam")
    sam.as_("sam")
    sam.say("Reassign")
    assert "Reassigned" in sam.say("Cleo (@cleo)")
    with uow() as u:
        [new] = [b for b in u.bookings.for_person(ids["ana"]) if b.expert_id == ids["cleo"]]
    assert new.expires_at == clock.now() + timedelta(hours=6)
