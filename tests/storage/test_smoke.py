from datetime import timedelta

from core import booking_service as svc
from core.credit_service import balance
from core.sessions import MeetingRequest, SessionDetails
from tests import factories as f
from tests.factories import T0


def test_request_and_accept_spends_the_hold(uow, clock):
    with uow() as u:
        client = f.person(u, "ana")
        ex = f.expert(u, "eve")
        f.credits(u, amount="2", person_id=client.id)
        u.commit()
    start = T0.replace(hour=10) + timedelta(days=1)  # Tue 10:00 UTC = 10:00 London in March
    with uow() as u:
        b = svc.request_booking(u, clock, client_id=client.id, expert_id=ex.id,
                                meetings=[MeetingRequest(start, 60)], details=SessionDetails("Seed", "A plan"),
                                policy=svc.DEFAULT_POLICY)
        u.commit()
    with uow() as u:
        assert balance(u, client.id).available == 1000 and balance(u, client.id).held == 1000
        svc.accept(u, clock, booking_id=b.id, actor_id=ex.person_id)
        u.commit()
    with uow() as u:
        bal = balance(u, client.id)
        assert (bal.available, bal.held) == (1000, 0)
