"""The outbox as several senders see it: a leased row is nobody else's, a crashed sender's rows come
back when the lease ends, retries wait, and a permanent refusal stops retrying."""

from __future__ import annotations

from datetime import timedelta
from threading import Barrier, Thread

from tests import factories as f

LEASE = timedelta(minutes=5)


def queue(uow, n: int, platform: str = "telegram", chat: str = "1") -> list[int]:  # type: ignore[no-untyped-def]
    with uow() as u:
        ids = [u.outbox.add(f"k{platform}{chat}{i}", None, platform, chat, "{}") for i in range(n)]
        u.commit()
    return [i for i in ids if i is not None]


def claim(uow, token: str, **kw):  # type: ignore[no-untyped-def]
    with uow() as u:
        rows = u.outbox.claim(token, LEASE, **kw)
        u.commit()
    return rows


def test_two_senders_never_lease_the_same_row(uow, db):
    for chat in range(40):
        queue(uow, 1, chat=str(chat))
    got: dict[str, list[int]] = {}
    barrier = Barrier(4)

    def worker(token: str) -> None:
        barrier.wait()
        got[token] = [m.id for m in claim(uow, token, platform="telegram", limit=25)]

    threads = [Thread(target=worker, args=(f"t{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    leased = [i for ids in got.values() for i in ids]
    assert len(leased) == len(set(leased)) == 40


def test_a_lease_ends_and_only_the_platform_asked_for_is_leased(uow, clock):
    [tg] = queue(uow, 1)
    queue(uow, 1, platform="slack")
    assert [m.id for m in claim(uow, "a", platform="telegram")] == [tg]
    assert claim(uow, "b", platform="telegram") == []
    clock.advance(LEASE + timedelta(seconds=1))  # sender "a" died without marking anything
    assert [m.id for m in claim(uow, "b", platform="telegram")] == [tg]


def test_sent_failed_released_and_given_up(uow, clock):
    a, b, c = queue(uow, 3)
    claim(uow, "x")
    with uow() as u:
        assert u.outbox.mark_sent(a, sent_message_id="77")
        assert not u.outbox.mark_sent(a)  # once
        u.outbox.mark_failed(b, "timed out", retry_at=clock.now() + timedelta(seconds=30))
        u.outbox.release([c], clock.now() + timedelta(seconds=30))
        u.commit()
    assert claim(uow, "y") == []  # both wait for their retry time
    clock.advance(timedelta(seconds=31))
    assert [m.id for m in claim(uow, "y")] == [b, c]
    with uow() as u:
        u.outbox.mark_failed(b, "Forbidden: bot was blocked by the user", give_up=True)
        assert u.outbox.attempts(b) == 2
        u.commit()
    clock.advance(LEASE * 2)
    assert [m.id for m in claim(uow, "z")] == [c]
    with uow() as u:
        assert [m.id for m in u.outbox.pending("telegram")] == [c]


def test_a_chat_keeps_its_order_across_senders_and_retries(uow, clock):
    first, second = queue(uow, 2)
    with uow() as u:
        [row] = u.outbox.claim("a", LEASE, ids=[first])
        u.commit()
    assert claim(uow, "b") == []  # the second waits while the first is with sender "a"
    with uow() as u:
        assert not u.outbox.mark_sent(first, token="b")  # only the holder settles a row
        u.outbox.mark_failed(first, "timed out", retry_at=clock.now() + timedelta(seconds=30), token="a")
        u.commit()
    assert claim(uow, "b") == []  # ...and while it waits for its retry
    clock.advance(timedelta(seconds=31))
    assert [m.id for m in claim(uow, "b")] == [first, second]
    with uow() as u:
        assert u.outbox.renew(first, "b", LEASE) and not u.outbox.renew(first, "a", LEASE)
        u.commit()


def test_owner_of_a_sent_message(uow):
    with uow() as u:
        ana = f.person(u, "ana")
        row = u.outbox.add("k", ana.id, "telegram", "-100", "{}")
        u.commit()
    with uow() as u:
        u.outbox.mark_sent(row, sent_message_id="15")
        u.commit()
    with uow() as u:
        assert u.outbox.owner_of("telegram", "-100", "15") == ana.id
        assert u.outbox.owner_of("telegram", "-100", "16") is None
        assert u.outbox.owner_of("telegram", "-101", "15") is None
