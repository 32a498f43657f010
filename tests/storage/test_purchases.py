"""The rules of a purchase on both databases: a pack on offer only, grant once per charge id even when two
deliveries race, a refund only of unspent credits and only once."""

from __future__ import annotations

import threading

import pytest

from core.credit_service import available, revoke
from core.credits import Source
from core.errors import InsufficientCredits, InvalidTransition, NotAllowed, NotFound
from core.purchases import Pack, Payment, PaymentRefused, PurchaseStatus, complete_payment, parse_packs, refund, \
    start_purchase
from tests import factories as f

PACK = Pack(5000, 250, "XTR")


def test_parse_packs_is_strict():
    assert parse_packs("5:2500:USD, 10:4500:USD") == (Pack(5000, 2500, "USD"), Pack(10_000, 4500, "USD"))
    assert parse_packs("0.5:100:XTR") == (Pack(500, 100, "XTR"),)
    for bad in ("", "5", "5:2500", "5:25.00:USD", "-5:100:XTR", "5:0:XTR", "5:100:xtr", "5:100:XTR,",
                "5:100:XTR\n6:1:XTR", "1:1:XTR," * 7, "100001:1:XTR", "5:100:XTR,5:100:XTR"):
        with pytest.raises(ValueError) as caught:
            parse_packs(bad)
        assert "\n" not in str(caught.value)


def _bought(uow, clock, handle: str = "chen"):  # type: ignore[no-untyped-def]
    with uow() as u:
        person = f.person(u, handle)
        purchase = start_purchase(u, clock, person=person, pack=PACK, offered=(PACK,))
        u.commit()
        return person.id, purchase.token


def test_only_individuals_buy_and_only_packs_on_offer(uow, clock):
    with uow() as u:
        prog = f.programme(u)
        company = u.people.add_company("Acme", prog.id)
        founder = f.person(u, "ana", company_id=company.id)
        chen = f.person(u, "chen")
        with pytest.raises(NotAllowed):
            start_purchase(u, clock, person=founder, pack=PACK, offered=(PACK,))
        with pytest.raises(NotFound):
            start_purchase(u, clock, person=chen, pack=Pack(5000, 1, "XTR"), offered=(PACK,))


def test_two_deliveries_of_one_payment_racing_grant_once(uow, clock):
    person_id, token = _bought(uow, clock)
    results: list[bool] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def deliver() -> None:
        try:
            start.wait()
            with uow() as u:
                result = complete_payment(u, clock, person_id=person_id,
                                          payment=Payment(token, "XTR", 250, "stxRACE", ""))
                u.commit()
                results.append(result.granted)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(results) == [False, True]
    with uow() as u:
        assert available(u, person_id) == 5000


def test_a_second_charge_for_a_paid_purchase_is_refused(uow, clock):
    person_id, token = _bought(uow, clock)
    with uow() as u:
        complete_payment(u, clock, person_id=person_id, payment=Payment(token, "XTR", 250, "stx1"))
        u.commit()
    with uow() as u, pytest.raises(PaymentRefused) as refused:
        complete_payment(u, clock, person_id=person_id, payment=Payment(token, "XTR", 250, "stx2"))
    assert refused.value.reason == "purchase_not_pending"
    with uow() as u, pytest.raises(PaymentRefused) as refused:
        complete_payment(u, clock, person_id=person_id + 1, payment=Payment(token, "XTR", 250, "stx3"))
    assert refused.value.reason in ("purchase_not_yours", "purchase_not_pending")
    with uow() as u:
        assert available(u, person_id) == 5000


def test_refund_only_unspent_and_only_once(uow, clock):
    person_id, token = _bought(uow, clock)
    with uow() as u:
        complete_payment(u, clock, person_id=person_id, payment=Payment(token, "XTR", 250, "stx1"))
        revoke(u, key="spend", amount_milli=1, source=Source.INDIVIDUAL, person_id=person_id)
        u.commit()
    with uow() as u, pytest.raises(InsufficientCredits) as spent:
        refund(u, clock, telegram_charge_id="stx1")
    assert spent.value.context == {"needed": 5000, "available": 4999}
    with uow() as u:
        f.credits(u, amount="0.001", person_id=person_id)
        purchase = refund(u, clock, telegram_charge_id="stx1")
        u.commit()
    assert purchase.status is PurchaseStatus.REFUNDED
    with uow() as u:
        assert available(u, person_id) == 0
        with pytest.raises(InvalidTransition):
            refund(u, clock, telegram_charge_id="stx1")
        with pytest.raises(NotFound):
            refund(u, clock, telegram_charge_id="nope")
