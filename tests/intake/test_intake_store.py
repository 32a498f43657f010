"""The inbound_events table as workers see it: an event is stored once, each person's oldest unfinished
event is the only one of theirs a worker can take, a dead process's events are free at once, and two
workers never take one event."""

from __future__ import annotations

from datetime import timedelta
from threading import Barrier, Thread

from storage.intake_repo import NewEvent

LEASE = timedelta(minutes=5)
ALIVE = timedelta(seconds=10)


def store(uow, *events: tuple[str, str]) -> list[int | None]:  # type: ignore[no-untyped-def]
    """(event_key, person) pairs, as Telegram updates."""
    with uow() as u:
        ids = u.intake.store([NewEvent("telegram", key, f"telegram:{who}", "{}") for key, who in events])
        u.commit()
    return ids


def claim(uow, owner: str, limit: int = 100):  # type: ignore[no-untyped-def]
    with uow() as u:
        u.heartbeats.beat([owner], kind="test", host="h", pid=1, dead_after=ALIVE)
        got = u.intake.claim_next(owner, limit, LEASE)
        u.commit()
    return [e.event_key for e in got], [e.id for e in got]


def complete(uow, ids: list[int], owner: str) -> None:  # type: ignore[no-untyped-def]
    with uow() as u:
        u.intake.complete(ids, owner)
        u.commit()


def test_a_redelivered_event_is_stored_once(uow):
    first = store(uow, ("u1", "a"), ("u2", "a"))
    again = store(uow, ("u2", "a"), ("u3", "b"))
    assert None not in first and again[0] is None and again[1] is not None
    with uow() as u:
        assert u.intake.unfinished() == 3


def test_a_burst_in_one_statement_keeps_the_order_given_and_stores_a_repeated_key_once(uow):
    ids = store(uow, *[(f"k{n}", "abc"[n % 3]) for n in range(30)], ("k4", "b"), ("new", "a"))
    stored = [i for i in ids if i is not None]
    assert ids[30] is None and len(stored) == 31 and stored == sorted(stored)  # ids rise in the order given
    with uow() as u:
        assert u.intake.unfinished() == 31


def test_each_person_gets_only_their_oldest_unfinished_event(uow):
    store(uow, ("a1", "a"), ("b1", "b"), ("a2", "a"), ("b2", "b"), ("c1", "c"))
    keys, ids = claim(uow, "w1")
    assert keys == ["a1", "b1", "c1"]
    assert claim(uow, "w2")[0] == []  # a's and b's next wait for the first to finish
    complete(uow, ids[:1], "w1")
    assert claim(uow, "w2")[0] == ["a2"]


def test_a_failed_event_holds_its_person_back_until_it_is_retried_or_given_up(uow, clock):
    store(uow, ("a1", "a"), ("a2", "a"))
    _, [a1] = claim(uow, "w1")
    with uow() as u:
        u.intake.fail(a1, "boom", retry_in=timedelta(seconds=30), owner="w1")
        u.commit()
    assert claim(uow, "w1")[0] == []  # neither a1 (not yet due) nor a2 (behind a1)
    clock.advance(timedelta(seconds=31))
    assert claim(uow, "w1")[0] == ["a1"]
    with uow() as u:
        u.intake.fail(a1, "boom", retry_in=None, owner="w1")
        assert u.intake.status(a1) == ("failed", 2)
        u.commit()
    assert claim(uow, "w1")[0] == ["a2"]


def test_a_dead_owners_events_are_free_at_once_and_a_live_ones_are_not(uow, clock):
    store(uow, ("a1", "a"))
    claim(uow, "dead")
    clock.advance(timedelta(seconds=5))
    assert claim(uow, "alive")[0] == []  # "dead" beat 5 s ago: still alive
    clock.advance(ALIVE)  # no beat for 15 s: its heartbeat expired, long before the 5-minute lease
    keys, ids = claim(uow, "alive")
    assert keys == ["a1"]
    complete(uow, ids, "dead")  # the dead owner's late settlement changes nothing
    with uow() as u:
        assert u.intake.status(ids[0]) == ("pending", 0)


def test_a_clean_stop_frees_what_was_held_at_once(uow):
    store(uow, ("a1", "a"))
    claim(uow, "stopping")
    with uow() as u:
        u.heartbeats.goodbye(["stopping"])
        u.commit()
    assert claim(uow, "next")[0] == ["a1"]


def test_outbox_rows_of_a_dead_sender_are_taken_over_before_the_lease_ends(uow, clock):
    with uow() as u:
        u.heartbeats.beat(["pump1"], kind="test", host="h", pid=1, dead_after=ALIVE)
        first = u.outbox.add("k1", None, "telegram", "1", "{}", claim=("pump1", LEASE))
        u.outbox.add("k2", None, "telegram", "1", "{}")
        u.commit()
    with uow() as u:
        assert u.outbox.claim("pump2", LEASE) == []  # k1 held by a live sender, k2 waits behind it
        u.commit()
    clock.advance(ALIVE + timedelta(seconds=1))
    with uow() as u:
        assert [m.id for m in u.outbox.claim("pump2", LEASE)][0] == first
        u.commit()


def test_two_workers_never_take_the_same_event(uow):
    store(uow, *((f"e{i}", f"p{i}") for i in range(60)))
    barrier = Barrier(4)
    got: dict[str, list[str]] = {}

    def worker(owner: str) -> None:
        barrier.wait()
        got[owner] = claim(uow, owner, limit=20)[0]

    threads = [Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    taken = [k for keys in got.values() for k in keys]
    assert len(taken) == len(set(taken)) == 60
