"""The credit ledger: wallets change only through keyed movements, each applied once,
and every wallet always equals the sum of its ledger entries. SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from core.booking_service import DEFAULT_POLICY
from core import booking_service as svc
from core.clock import FixedClock
from core.credit_service import balance, grant, revoke
from core.credits import Movement, Portion, Source, plan_hold, plan_return
from core.errors import (
    InsufficientCredits,
    InvalidTransition,
    NotAllowed,
    PolicyViolation,
)
from core.lifecycle import BookingStatus as BS
from core.lifecycle import MeetingStatus as MS
from core.model import Programme
from core.policy import CancelReason
from core.schedule import BookingRules, WeeklyWindow
from core.sessions import MeetingRequest, SessionDetails
from storage.models import CreditMovementRow, LedgerEntryRow, WalletRow
from storage.uow import SqlUnitOfWork
from tests import factories as f
from tests.factories import T0

DETAILS = SessionDetails("Pricing", "A price list I can test")
H = timedelta(hours=1)
MIN = timedelta(minutes=1)
MON = T0.replace(hour=0)
DELTAS = {
    "grant": (1, 0), "hold": (-1, 1), "release": (1, -1), "spend": (0, -1),
    "charge": (-1, 0), "refund": (1, 0), "revoke": (-1, 0),
}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return MON + timedelta(days=day, hours=hour, minutes=minute)


def check_ledger(u, wallet_ids: set[int] | None = None) -> dict[int, tuple[int, int]]:
    """For every wallet: available == sum(available_delta), held == sum(held_delta), neither negative;
    every ledger entry matches its movement's kind, and a movement's entries add up to its amount."""
    only = [] if wallet_ids is None else [LedgerEntryRow.wallet_id.in_(sorted(wallet_ids))]
    sums = {
        w: (a, h) for w, a, h in u.session.execute(
            select(LedgerEntryRow.wallet_id, func.sum(LedgerEntryRow.available_delta), func.sum(LedgerEntryRow.held_delta))
            .where(*only).group_by(LedgerEntryRow.wallet_id)
        )
    }
    query = select(WalletRow)
    if wallet_ids is not None:
        query = query.where(WalletRow.id.in_(sorted(wallet_ids)))
    seen: dict[int, tuple[int, int]] = {}
    for w in u.session.scalars(query):
        a, h = sums.get(w.id, (0, 0))
        assert (w.available, w.held) == (a, h), f"wallet {w.id} drifted from its ledger"
        assert w.available >= 0 and w.held >= 0
        seen[w.id] = (w.available, w.held)
    entries = u.session.execute(
        select(CreditMovementRow.id, CreditMovementRow.kind, CreditMovementRow.amount, LedgerEntryRow.amount,
               LedgerEntryRow.available_delta, LedgerEntryRow.held_delta, LedgerEntryRow.wallet_id)
        .join(LedgerEntryRow, LedgerEntryRow.movement_id == CreditMovementRow.id).where(*only)
    ).all()
    per_movement: dict[int, tuple[int, int]] = {}
    for mid, kind, total, amount, da, dh, _wallet_id in entries:
        assert amount > 0
        assert (da, dh) == (DELTAS[kind][0] * amount, DELTAS[kind][1] * amount)
        got, _ = per_movement.get(mid, (0, total))
        per_movement[mid] = (got + amount, total)
    for mid, (got, total) in per_movement.items():
        assert got == total, f"movement {mid}: entries {got} != amount {total}"
    return seen


def money(uow, person_id: int) -> tuple[int, int]:
    with uow() as u:
        b = balance(u, person_id)
    return b.available, b.held


def movement_count(uow, *where) -> int:
    with uow() as u:
        return u.session.scalar(select(func.count()).select_from(CreditMovementRow).where(*where))


# ---------------------------------------------------------------- grants and revokes


def test_grant_is_idempotent_by_key(uow, clock):
    with uow() as u:
        ana = f.person(u, "ana")
        u.commit()
    with uow() as u:
        assert grant(u, key="spring:ana", amount_milli=1500, source=Source.INDIVIDUAL, person_id=ana.id) is True
        u.commit()
    with uow() as u:  # a retry, even with another amount, is a no-op
        assert grant(u, key="spring:ana", amount_milli=1500, source=Source.INDIVIDUAL, person_id=ana.id) is False
        assert grant(u, key="spring:ana", amount_milli=9000, source=Source.INDIVIDUAL, person_id=ana.id) is False
        u.commit()
    assert money(uow, ana.id) == (1500, 0)
    assert movement_count(uow) == 1
    with uow() as u:
        assert grant(u, key="summer:ana", amount_milli=500, source=Source.INDIVIDUAL, person_id=ana.id) is True
        u.commit()
    assert money(uow, ana.id) == (2000, 0)
    with uow() as u:
        check_ledger(u)


def test_grant_rules(uow, clock):
    with uow() as u:
        prog = f.programme(u)
        company = u.people.add_company("Acme", prog.id)
        ana = f.person(u, "ana", company_id=company.id)
        sam = f.staff(u, "sam", prog.id)
        u.commit()
    with uow() as u:
        with pytest.raises(NotAllowed) as info:
            grant(u, key="k1", amount_milli=1000, source=Source.COMPANY, company_id=company.id, actor_id=ana.id)
        assert info.value.reason == "not_staff"
        for amount in (0, -5):
            with pytest.raises(ValueError):
                grant(u, key="k2", amount_milli=amount, source=Source.INDIVIDUAL, person_id=ana.id)
        with pytest.raises(ValueError):
            grant(u, key="k3", amount_milli=1000, source=Source.INDIVIDUAL, company_id=company.id)
        with pytest.raises(ValueError):
            grant(u, key="k4", amount_milli=1000, source=Source.COMPANY, person_id=ana.id, company_id=company.id)
        with pytest.raises(ValueError):
            grant(u, key="k5", amount_milli=1000, source=Source.COMPANY)
        u.commit()
    assert money(uow, ana.id) == (0, 0)
    assert movement_count(uow) == 0
    with uow() as u:
        assert grant(u, key="k1", amount_milli=1000, source=Source.COMPANY, company_id=company.id, actor_id=sam.id)
        u.commit()
    assert money(uow, ana.id) == (1000, 0)  # a founder draws on the company's wallet


def test_revoke_never_takes_more_than_is_available(uow, clock):
    with uow() as u:
        ana = f.person(u, "ana")
        f.credits(u, amount="1", person_id=ana.id)
        u.commit()
    with uow() as u:
        wallets = u.credits.wallets_for(ana.id)
        assert u.credits.apply("hold:direct", Movement.HOLD, plan_hold(wallets, 600))
        u.commit()
    assert money(uow, ana.id) == (400, 600)

    with uow() as u:
        with pytest.raises(InsufficientCredits) as info:
            revoke(u, key="r0", amount_milli=500, source=Source.INDIVIDUAL, person_id=ana.id)
        assert (info.value.context["needed"], info.value.context["available"]) == (500, 400)
        u.commit()
    assert money(uow, ana.id) == (400, 600)  # held credits stay held

    with uow() as u:
        assert revoke(u, key="r1", amount_milli=100, source=Source.INDIVIDUAL, person_id=ana.id) is True
        assert revoke(u, key="r1", amount_milli=100, source=Source.INDIVIDUAL, person_id=ana.id) is False
        u.commit()
    assert money(uow, ana.id) == (300, 600)
    with uow() as u:
        assert revoke(u, key="r2", amount_milli=300, source=Source.INDIVIDUAL, person_id=ana.id) is True
        u.commit()
    assert money(uow, ana.id) == (0, 600)

    with uow() as u:  # a wallet that does not exist has nothing to revoke, and is not created
        with pytest.raises(InsufficientCredits) as info:
            revoke(u, key="r3", amount_milli=1, source=Source.COMPANY, person_id=ana.id)
        assert info.value.context["available"] == 0
        u.commit()
    with uow() as u:
        assert len(u.credits.wallets_for(ana.id)) == 1
        check_ledger(u)


# ---------------------------------------------------------------- apply


def test_apply_with_the_same_key_twice_applies_once(uow, clock):
    with uow() as u:
        ana = f.person(u, "ana")
        wallet = u.credits.wallet(source=Source.INDIVIDUAL, person_id=ana.id)
        u.commit()
    with uow() as u:
        assert u.credits.apply("g1", Movement.GRANT, [Portion(wallet.id, 2000)]) is True
        assert u.credits.apply("g1", Movement.GRANT, [Portion(wallet.id, 2000)]) is False  # same transaction
        u.commit()
    with uow() as u:
        assert u.credits.apply("g1", Movement.GRANT, [Portion(wallet.id, 5000)]) is False  # a later retry
        assert u.credits.apply("h1", Movement.HOLD, [Portion(wallet.id, 700)]) is True
        u.commit()
    with uow() as u:
        assert u.credits.apply("h1", Movement.HOLD, [Portion(wallet.id, 700)]) is False
        assert u.credits.apply("s1", Movement.SPEND, [Portion(wallet.id, 700)]) is True
        assert u.credits.apply("s1", Movement.SPEND, [Portion(wallet.id, 700)]) is False
        u.commit()
    assert money(uow, ana.id) == (1300, 0)
    assert movement_count(uow) == 3
    with uow() as u:
        assert u.session.scalar(select(func.count()).select_from(LedgerEntryRow)) == 3
        check_ledger(u)


def test_apply_refuses_to_overdraw_and_changes_nothing(uow, clock):
    with uow() as u:
        ana = f.person(u, "ana")
        f.credits(u, amount="1", person_id=ana.id)
        wallet = u.credits.wallet(source=Source.INDIVIDUAL, person_id=ana.id)
        u.commit()
    for key, kind, amount in [("h", Movement.HOLD, 1001), ("r", Movement.RELEASE, 1), ("s", Movement.SPEND, 1),
                              ("c", Movement.CHARGE, 1500), ("v", Movement.REVOKE, 1001)]:
        with pytest.raises(InsufficientCredits):
            with uow() as u:
                u.credits.apply(key, kind, [Portion(wallet.id, amount)])
                u.commit()
    with uow() as u:
        with pytest.raises(ValueError):
            u.credits.apply("z", Movement.GRANT, [Portion(wallet.id, 0)])
        with pytest.raises(ValueError):
            u.credits.apply("n", Movement.GRANT, [Portion(wallet.id, -10)])
    assert money(uow, ana.id) == (1000, 0)
    assert movement_count(uow) == 1  # the grant
    # the refused keys were not used up: they apply once the money is there
    with uow() as u:
        assert u.credits.apply("h", Movement.HOLD, [Portion(wallet.id, 1000)]) is True
        u.commit()
    assert money(uow, ana.id) == (0, 1000)


@pytest.mark.parametrize("column", ["available", "held"])
def test_the_database_refuses_a_negative_wallet(uow, clock, column):
    with uow() as u:
        ana = f.person(u, "ana")
        f.credits(u, amount="1", person_id=ana.id)
        u.commit()
    with uow() as u:
        with pytest.raises(IntegrityError) as info:
            u.session.execute(text(f"UPDATE wallets SET {column} = -1"))
            u.session.flush()
        assert f"ck_wallets_{column}_nonneg" in str(info.value.orig)
    with uow() as u:  # through the ORM, too
        with pytest.raises(IntegrityError):
            u.session.execute(update(WalletRow).values({column: getattr(WalletRow, column) - 5000}))
    # a refusal escaping a unit of work reads as the engine's own error
    with pytest.raises(InsufficientCredits):
        with uow() as u:
            u.session.execute(text(f"UPDATE wallets SET {column} = {column} - 2000"))
            u.commit()
    assert money(uow, ana.id) == (1000, 0)
    with uow() as u:
        check_ledger(u)


# ---------------------------------------------------------------- history


def test_balance_history_lists_movements_newest_first_with_wallet_labels(uow, clock):
    with uow() as u:
        prog = f.programme(u, "Spring")
        company = u.people.add_company("Acme", prog.id)
        ana = f.person(u, "ana", company_id=company.id)
        bo = f.person(u, "bo")
        ex = f.expert(u, "eve")
        grant(u, key="p", amount_milli=500, source=Source.PROGRAMME, company_id=company.id, note="spring cohort")
        clock.advance(MIN)
        grant(u, key="c", amount_milli=1000, source=Source.COMPANY, company_id=company.id)
        clock.advance(MIN)
        grant(u, key="i", amount_milli=1000, source=Source.INDIVIDUAL, person_id=ana.id, note="bought")
        grant(u, key="bo", amount_milli=7000, source=Source.INDIVIDUAL, person_id=bo.id)
        u.commit()
    clock.advance(MIN)
    with uow() as u:
        svc.request_booking(u, clock, client_id=ana.id, expert_id=ex.id,
                            meetings=[MeetingRequest(at(1, 10), 60)], details=DETAILS, policy=svc.DEFAULT_POLICY)
        u.commit()

    with uow() as u:
        bal = balance(u, ana.id)
    programme, company_label, own = "Programme allocation (Spring)", "Company allocation (Acme)", "Your own credits"
    assert bal.history == (
        (T0 + 3 * MIN, Movement.HOLD, 500, company_label, ""),
        (T0 + 3 * MIN, Movement.HOLD, 500, programme, ""),
        (T0 + 2 * MIN, Movement.GRANT, 1000, own, "bought"),
        (T0 + MIN, Movement.GRANT, 1000, company_label, ""),
        (T0, Movement.GRANT, 500, programme, "spring cohort"),
    )
    assert (bal.available, bal.held) == (1500, 1000)
    assert sorted((w.source, w.label, w.available, w.held) for w in bal.wallets) == sorted([
        (Source.PROGRAMME, programme, 0, 500), (Source.COMPANY, company_label, 500, 500), (Source.INDIVIDUAL, own, 1000, 0),
    ])
    with uow() as u:
        assert [h[1] for h in u.credits.history(ana.id, limit=2)] == [Movement.HOLD, Movement.HOLD]
        assert balance(u, bo.id).history == ((T0 + 2 * MIN, Movement.GRANT, 7000, own, ""),)


# ---------------------------------------------------------------- a long mixed sequence


def test_ledger_invariant_after_a_long_mixed_sequence(uow, clock):
    with uow() as u:
        prog = f.programme(u, "Spring")
        company = u.people.add_company("Acme", prog.id)
        ana = f.person(u, "ana", company_id=company.id)
        ex = f.expert(u, "eve")
        f.credits(u, amount="1", source=Source.PROGRAMME, company_id=company.id)
        f.credits(u, amount="1", source=Source.COMPANY, company_id=company.id)
        f.credits(u, amount="3", person_id=ana.id, key="own")
        u.commit()
    P, C, I = Source.PROGRAMME, Source.COMPANY, Source.INDIVIDUAL
    expert_id = ex.person_id

    def run(fn, **kwargs):
        with uow() as u:
            result = fn(u, clock, **kwargs)
            u.commit()
        return result

    def book(start: datetime, minutes: int) -> int:
        return run(svc.request_booking, client_id=ana.id, expert_id=ex.id,
                   meetings=[MeetingRequest(start, minutes)], details=DETAILS, policy=svc.DEFAULT_POLICY).id

    def wallets() -> dict[Source, tuple[int, int]]:
        with uow() as u:
            check_ledger(u)
            return {w.source: (w.available, w.held) for w in u.credits.wallets_for(ana.id)}

    b1 = book(at(1, 10), 60)
    run(svc.accept, booking_id=b1, actor_id=expert_id)
    b2 = book(at(2, 10), 30)
    run(svc.decline, booking_id=b2, actor_id=expert_id)
    b3 = book(at(3, 10), 90)
    assert wallets() == {P: (0, 0), C: (0, 1000), I: (2500, 500)}
    run(svc.withdraw, booking_id=b3, actor_id=ana.id)
    b5 = book(at(7, 10), 60)
    run(svc.accept, booking_id=b5, actor_id=expert_id)
    b4 = book(at(4, 10), 45)
    assert wallets() == {P: (0, 0), C: (0, 0), I: (2250, 750)}

    clock.set(at(1, 10, 10))  # the expert never showed up for b1
    with uow() as u:
        b1_meeting = u.bookings.get(b1).meetings[0].id
    assert run(svc.report_no_show, booking_id=b1, meeting_id=b1_meeting, reporter_id=ana.id, policy=DEFAULT_POLICY).refund_milli == 1000
    assert wallets() == {P: (1000, 0), C: (0, 0), I: (2250, 750)}

    clock.set(T0 + 48 * H)
    assert run(svc.expire, booking_id=b4) is True
    assert wallets() == {P: (1000, 0), C: (0, 0), I: (3000, 0)}

    clock.set(at(7, 10) - 22 * H)  # late: moving b5 forfeits its price (charged from the programme first)
    with uow() as u:
        b5_meeting = u.bookings.get(b5).meetings[0].id
    assert run(svc.reschedule_meeting, booking_id=b5, meeting_id=b5_meeting, actor_id=ana.id,
               new_start=at(8, 10), policy=DEFAULT_POLICY).code == "late_forfeit"
    assert wallets() == {P: (0, 0), C: (0, 0), I: (3000, 0)}
    assert run(svc.cancel_meeting, booking_id=b5, meeting_id=b5_meeting, actor_id=expert_id,
               reason=CancelReason.PERSONAL, policy=DEFAULT_POLICY).refund_milli == 1000
    # the refund goes back where the credits were taken last: the programme's charge
    assert wallets() == {P: (1000, 0), C: (0, 0), I: (3000, 0)}
    with uow() as u:  # and it is not given twice, by no-show or a second cancel
        with pytest.raises(InvalidTransition):
            svc.cancel_meeting(u, clock, policy=DEFAULT_POLICY, booking_id=b5, meeting_id=b5_meeting, actor_id=expert_id)

    with uow() as u:
        assert revoke(u, key="trim", amount_milli=500, source=I, person_id=ana.id)
        u.commit()
    with uow() as u:
        f.credits(u, amount="3", person_id=ana.id, key="own")  # a replayed grant
        u.commit()
    assert wallets() == {P: (1000, 0), C: (0, 0), I: (2500, 0)}
    assert money(uow, ana.id) == (3500, 0)
    with uow() as u:
        kinds = dict(u.session.execute(
            select(CreditMovementRow.kind, func.count()).group_by(CreditMovementRow.kind)
        ).all())
    assert kinds == {"grant": 3, "hold": 5, "spend": 2, "release": 3, "refund": 2, "charge": 1, "revoke": 1}


# ---------------------------------------------------------------- random sequences

ALL_DAY = tuple(WeeklyWindow(d, 0, 24 * 60) for d in range(7))
LENGTHS = (15, 30, 45, 60, 90)


def test_random_credit_operations_never_break_the_ledger(db):
    """Random grants, revokes, requests, answers, cancellations, moves, no-shows and direct
    holds/releases/spends/refunds/charges: every wallet always equals its ledger, never goes
    below zero, and the totals match a model that knows only the rules."""

    class CreditMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.clock = FixedClock(T0)
            tag = uuid.uuid4().hex[:10]
            with self.uow() as u:
                prog = u.people.add_programme(Programme(0, f"prog-{tag}"))
                company = u.people.add_company(f"co-{tag}", prog.id)
                self.client = f.person(u, f"c{tag}", company_id=company.id).id
                self.staff = f.staff(u, f"s{tag}", prog.id).id
                self.expert = f.expert(u, f"e{tag}", weekly=ALL_DAY,
                                       rules=BookingRules(min_notice=H, horizon=timedelta(days=400)))
                self.wallet_ids = {
                    u.credits.wallet(source=Source.PROGRAMME, company_id=company.id).id,
                    u.credits.wallet(source=Source.COMPANY, company_id=company.id).id,
                    u.credits.wallet(source=Source.INDIVIDUAL, person_id=self.client).id,
                }
                u.commit()
            self.company = company.id
            self.next_start = T0 + 2 * H
            self.open: dict[int, int] = {}  # booking id -> price
            self.accepted: list[tuple[int, int]] = []  # (booking id, meeting id), ever accepted
            self.live: list[tuple[int, int]] = []  # those that may still be confirmed
            self.direct_held: list[tuple[str, tuple[Portion, ...]]] = []
            self.direct_spent: list[tuple[str, tuple[Portion, ...], int]] = []  # key, portions, returned so far
            self.grant_keys: list[str] = []  # as passed to grant()
            self.keys: list[str] = []  # movement keys as stored
            self.available = 0  # the model: what the client should have
            self.held = 0
            for source in Source:  # start with something to spend, so the booking rules get exercised
                self.grant(source, 4000)

        # -- plumbing

        def uow(self) -> SqlUnitOfWork:
            return SqlUnitOfWork(db, self.clock)

        def key(self) -> str:
            return uuid.uuid4().hex

        def slot(self, lead: timedelta, minutes: int) -> datetime:
            start = max(self.next_start, self.clock.now() + lead)  # always on a quarter hour
            assert start.minute % 15 == 0 and start.second == 0
            self.next_start = start + timedelta(minutes=minutes)
            return start

        def owner(self, source: Source) -> dict[str, int]:
            return {"person_id": self.client} if source is Source.INDIVIDUAL else {"company_id": self.company}

        def run(self, fn, *args, **kwargs):
            with self.uow() as u:
                result = fn(u, *args, **kwargs)
                u.commit()
            return result

        # -- grants and revokes

        @rule(source=st.sampled_from(list(Source)), amount=st.integers(1, 3000))
        def grant(self, source: Source, amount: int) -> None:
            key = self.key()
            assert self.run(grant, key=key, amount_milli=amount, source=source, **self.owner(source))
            self.grant_keys.append(key)
            self.keys.append(f"grant:{key}")
            self.available += amount

        @precondition(lambda self: self.grant_keys)
        @rule(i=st.integers(0, 10_000), source=st.sampled_from(list(Source)))
        def replay_a_grant_key(self, i: int, source: Source) -> None:
            assert self.run(grant, key=self.grant_keys[i % len(self.grant_keys)], amount_milli=777, source=source,
                            **self.owner(source)) is False

        @rule(source=st.sampled_from(list(Source)), amount=st.integers(1, 2000))
        def revoke(self, source: Source, amount: int) -> None:
            with self.uow() as u:
                w = u.credits.wallet(source=source, create=False, **self.owner(source))
            key = self.key()
            try:
                self.run(revoke, key=key, amount_milli=amount, source=source, **self.owner(source))
            except InsufficientCredits:
                assert amount > w.available
            else:
                assert amount <= w.available
                self.keys.append(f"revoke:{key}")
                self.available -= amount

        # -- the booking service

        @rule(minutes=st.sampled_from(LENGTHS), late=st.booleans())
        def request(self, minutes: int, late: bool) -> None:
            self._request(minutes, late)

        def _request(self, minutes: int, late: bool) -> int | None:
            start = self.slot(2 * H if late else 30 * H, minutes)
            price = minutes * 1000 // 60
            try:
                b = self.run(svc.request_booking, self.clock, client_id=self.client, expert_id=self.expert.id,
                             meetings=[MeetingRequest(start, minutes)], details=DETAILS, policy=svc.DEFAULT_POLICY)
            except InsufficientCredits:
                assert price > self.available
                return None
            assert b.price_milli == price
            self.open[b.id] = price
            self.available -= price
            self.held += price
            return b.id

        @rule(minutes=st.sampled_from(LENGTHS), late=st.booleans())
        def request_and_accept(self, minutes: int, late: bool) -> None:
            booking_id = self._request(minutes, late)
            if booking_id is not None:
                self.answer(sorted(self.open).index(booking_id), "accept")

        @precondition(lambda self: self.open)
        @rule(i=st.integers(0, 10_000), answer=st.sampled_from(["accept", "accept", "decline", "withdraw", "expire"]))
        def answer(self, i: int, answer: str) -> None:
            booking_id = sorted(self.open)[i % len(self.open)]
            price = self.open[booking_id]
            if answer == "accept":
                try:
                    b = self.run(svc.accept, self.clock, booking_id=booking_id, actor_id=self.expert.person_id)
                except InvalidTransition as exc:
                    assert exc.reason == "expired"
                    return
                self.accepted.append((booking_id, b.meetings[0].id))
                self.live.append((booking_id, b.meetings[0].id))
                self.held -= price
            elif answer == "expire":
                if not self.run(svc.expire, self.clock, booking_id=booking_id):
                    return
                self.held -= price
                self.available += price
            else:
                actor = self.expert.person_id if answer == "decline" else self.client
                self.run(getattr(svc, answer), self.clock, booking_id=booking_id, actor_id=actor)
                self.held -= price
                self.available += price
            del self.open[booking_id]

        @rule(hours=st.integers(1, 30))
        def time_passes(self, hours: int) -> None:
            self.clock.advance(timedelta(hours=hours))

        @precondition(lambda self: self.live)
        @rule(i=st.integers(0, 10_000), offset=st.sampled_from([-25 * H, -3 * H, 15 * MIN, 2 * H]))
        def close_to_a_meeting(self, i: int, offset: timedelta) -> None:
            """Jump to just before (or after) a booked meeting, where the late rules and no-shows apply."""
            found = self._confirmed(i)
            if found is not None:
                self.clock.set(max(self.clock.now(), found[1].start + offset))

        def _confirmed(self, i: int):
            while self.live:
                j = i % len(self.live)
                booking_id, meeting_id = self.live[j]
                with self.uow() as u:
                    b = u.bookings.get(booking_id)
                m = b.meeting(meeting_id)
                if b.status is BS.ACCEPTED and m.status is MS.CONFIRMED and m.start > self.clock.now():
                    return b, m
                del self.live[j]
            return None

        @precondition(lambda self: self.live)
        @rule(i=st.integers(0, 10_000), who=st.sampled_from(["client", "expert", "staff"]),
              technical=st.booleans())
        def cancel(self, i: int, who: str, technical: bool) -> None:
            found = self._confirmed(i)
            if found is None:
                return
            b, m = found
            actor = {"client": self.client, "expert": self.expert.person_id, "staff": self.staff}[who]
            reason = CancelReason.TECHNICAL if technical else CancelReason.PERSONAL
            try:
                outcome = self.run(svc.cancel_meeting, self.clock, booking_id=b.id, meeting_id=m.id,
                                   actor_id=actor, reason=reason, policy=DEFAULT_POLICY)
            except PolicyViolation:
                raise AssertionError("a meeting ahead can always be cancelled") from None
            assert outcome.refund_milli in (0, m.price_milli)
            self.available += outcome.refund_milli

        @precondition(lambda self: self.live)
        @rule(i=st.integers(0, 10_000), who=st.sampled_from(["client", "expert"]))
        def reschedule(self, i: int, who: str) -> None:
            found = self._confirmed(i)
            if found is None:
                return
            b, m = found
            actor = self.client if who == "client" else self.expert.person_id
            new_start = self.slot(2 * H, m.minutes)
            try:
                outcome = self.run(svc.reschedule_meeting, self.clock, booking_id=b.id, meeting_id=m.id,
                                   actor_id=actor, new_start=new_start, policy=DEFAULT_POLICY)
            except PolicyViolation as exc:
                assert exc.reason == "limit_reached" and m.reschedule_count >= 2 and who == "client"
                return
            except InsufficientCredits:
                assert m.price_milli > self.available
                return
            if outcome.code == "late_forfeit":
                self.available -= m.price_milli

        @precondition(lambda self: self.accepted)
        @rule(i=st.integers(0, 10_000), who=st.sampled_from(["client", "expert"]))
        def no_show(self, i: int, who: str) -> None:
            booking_id, meeting_id = self.accepted[i % len(self.accepted)]
            actor = self.client if who == "client" else self.expert.person_id
            try:
                outcome = self.run(svc.report_no_show, self.clock, booking_id=booking_id, meeting_id=meeting_id,
                                   reporter_id=actor, policy=DEFAULT_POLICY)
            except (PolicyViolation, InvalidTransition):
                return
            self.available += outcome.refund_milli

        @precondition(lambda self: self.accepted)
        @rule()
        def complete(self) -> None:
            for booking_id, _ in self.accepted:
                self.run(svc.complete_ended, self.clock, booking_id=booking_id)

        # -- straight through the ledger with the pure planners

        @rule(amount=st.integers(1, 2500), kind=st.sampled_from([Movement.HOLD, Movement.CHARGE]))
        def direct_take(self, amount: int, kind: Movement) -> None:
            with self.uow() as u:
                try:
                    portions = plan_hold(u.credits.wallets_for(self.client), amount)
                except InsufficientCredits:
                    assert amount > self.available
                    return
                key = self.key()
                assert u.credits.apply(key, kind, portions)
                u.commit()
            self.keys.append(key)
            self.available -= amount
            if kind is Movement.HOLD:
                self.direct_held.append((key, portions))
                self.held += amount
            else:
                self.direct_spent.append((key, portions, 0))

        @precondition(lambda self: self.direct_held)
        @rule(i=st.integers(0, 10_000), spend=st.booleans())
        def direct_settle(self, i: int, spend: bool) -> None:
            key, portions = self.direct_held.pop(i % len(self.direct_held))
            amount = sum(p.amount for p in portions)
            kind = Movement.SPEND if spend else Movement.RELEASE
            settle_key = self.key()
            with self.uow() as u:
                assert u.credits.apply(settle_key, kind, portions)
                u.commit()
            self.keys.append(settle_key)
            self.held -= amount
            if spend:
                self.direct_spent.append((key, portions, 0))
            else:
                self.available += amount

        @precondition(lambda self: self.direct_spent)
        @rule(i=st.integers(0, 10_000), amount=st.integers(1, 2500))
        def direct_refund(self, i: int, amount: int) -> None:
            j = i % len(self.direct_spent)
            key, portions, returned = self.direct_spent[j]
            taken = sum(p.amount for p in portions)
            amount = min(amount, taken - returned)
            if amount <= 0:
                return
            # what is still spent, per wallet, then returned own-wallet-first
            back = plan_return(portions, returned + amount)
            already = plan_return(portions, returned)
            left = {p.wallet_id: p.amount for p in back}
            for p in already:
                left[p.wallet_id] -= p.amount
            refund_key = self.key()
            with self.uow() as u:
                assert u.credits.apply(refund_key, Movement.REFUND,
                                       [Portion(w, a) for w, a in left.items() if a > 0])
                u.commit()
            self.keys.append(refund_key)
            self.direct_spent[j] = (key, portions, returned + amount)
            self.available += amount

        @precondition(lambda self: self.keys)
        @rule(i=st.integers(0, 10_000), kind=st.sampled_from(list(Movement)))
        def replay_any_key(self, i: int, kind: Movement) -> None:
            wallet = min(self.wallet_ids)
            with self.uow() as u:
                assert u.credits.apply(self.keys[i % len(self.keys)], kind, [Portion(wallet, 1)]) is False
                u.commit()

        # -- what must always hold

        @invariant()
        def ledger_is_consistent(self) -> None:
            with self.uow() as u:
                wallets = check_ledger(u, self.wallet_ids)
            assert set(wallets) == self.wallet_ids
            assert sum(a for a, _ in wallets.values()) == self.available
            assert sum(h for _, h in wallets.values()) == self.held
            assert self.held == sum(self.open.values()) + sum(
                p.amount for _, portions in self.direct_held for p in portions)

    run_state_machine_as_test(
        CreditMachine,
        settings=settings(max_examples=30, stateful_step_count=25, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]),
    )
    with SqlUnitOfWork(db) as u:  # and across every example that ran, all at once
        check_ledger(u)
