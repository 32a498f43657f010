"""Forged button presses (issue 10): every action of every flow, fed hostile argument values through the
real dispatcher on both databases. Each is answered, none raises or logs a bug, none changes bookings,
meetings, credits or wallets, and none allocates more than a small bound. Then one test per defect found
by hand: the huge count, "²", 9999-12-31 and an off-grid slot."""

from __future__ import annotations

import logging
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from bot.adapters.console.chat import ConsoleChat
from bot.dispatcher import Dispatcher
from bot.flows import all_flows
from bot.flows.base import Flow
from bot.flows.actions import (
    ID_MAX, Arg, Choice, Day, Either, Id, Int, Opt, Slot, Stamp, Text, ascii_int, iso_day, press_fits,
)
from bot.flows.pickers import parse_day_arg, parse_slot_arg, slot_arg
from core import booking_service as bs
from core.sessions import MeetingRequest, SessionDetails
from tests.factories import T0
from tests.flows.conftest import Transcript
from tests.flows.declared import queued_buttons, undeclared
from tests.flows.test_book import TUE_0930, convo, world

OUTDATED = ("That button belongs to an earlier message, so I left everything as it is. "
            "Please use the latest message, or type /help.")
TABLES = ("bookings", "meetings", "credit_movements", "wallets")
MEMORY_BOUND = 5 * 1024 * 1024  # bytes allocated at the peak of one press


@dataclass
class Scene:
    ana: Transcript  # the presser: a client in the middle of booking Eve, with nothing of her own yet
    others: tuple[int, ...]  # ids that exist but are other people's: Ben's bookings and meetings, people, experts


@pytest.fixture
def scene(uow, chat, dispatcher, clock) -> Scene:  # type: ignore[no-untyped-def]
    w = world(uow)
    with uow() as u:
        held = bs.request_booking(u, clock, client_id=w.ben, expert_id=w.eve,
                                  meetings=[MeetingRequest(TUE_0930, 30)], details=SessionDetails("Deck", "A plan"),
                                  policy=bs.DEFAULT_POLICY)
        taken = bs.request_booking(u, clock, client_id=w.ben, expert_id=w.pat,
                                   meetings=[MeetingRequest(TUE_0930 + timedelta(hours=2), 15)],
                                   details=SessionDetails("Hiring", "A first hire"), policy=bs.DEFAULT_POLICY)
        bs.accept(u, clock, booking_id=taken.id, actor_id=_person_of(u, w.pat))
        u.commit()
    ana = chat("ana")
    ana.say("/book fundraising")
    ana.say("Book Eve")
    assert "How long" in ana.text
    ana.press(f"1|book|len|{convo(uow, 'ana').version}|60")
    assert "How many meetings" in ana.text
    ids = {held.id, taken.id, held.meetings[0].id or 0, taken.meetings[0].id or 0, w.ben, w.eve, w.pat,
           w.eve_person, w.company}
    return Scene(ana, tuple(sorted(ids)))


def _person_of(u, expert_id: int) -> int:  # type: ignore[no-untyped-def]
    expert = u.experts.get(expert_id)
    assert expert is not None
    return expert.person_id


def snapshot(db) -> list[list[tuple[object, ...]]]:  # type: ignore[no-untyped-def]
    with db.connect() as conn:
        return [[tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY id"))] for table in TABLES]


# ---------------------------------------------------------------- forged values

_SLOT_NOW = int(slot_arg(T0))
HOSTILE = [
    "99999999999999999999", "9" * 400, "-1", "-99999999999999999999", "0", "00000000000000000001",
    "²", "٣", "１２", "1²", "३", "", " ", "1 ", "+1", "1.5", "1e3", "0x1f", "None", "[]", "\x00", "x" * 3000,
    "9999-12-31", "0001-01-01", "2030-02-30", "2030-3-5", "２０３０-03-05", "2030-03-05T10:00", "20300305",
    "99999999999", str(_SLOT_NOW + 7), str(_SLOT_NOW - 10 * 24 * 60), str(_SLOT_NOW + 500 * 24 * 60),
    "any", "more", "-", "lang", "'; DROP TABLE bookings; --", "<b>x</b>", "\u202ertl", "👩‍💻",
]


def valid(arg: Arg, others: tuple[int, ...]) -> st.SearchStrategy[str]:
    """Values the declaration accepts: they pass the dispatcher and reach the flow."""
    if isinstance(arg, Int):
        return st.integers(arg.lo, arg.hi).map(str)
    if isinstance(arg, Id):
        return st.one_of(st.sampled_from(others), st.integers(1, ID_MAX)).map(str)
    if isinstance(arg, Stamp):
        return st.integers(0, 40).map(str)
    if isinstance(arg, Slot):  # on the grid or not, in the past day or far ahead
        return st.integers(-24 * 60, 399 * 24 * 60).map(lambda m: str(_SLOT_NOW + m))
    if isinstance(arg, Day):
        return st.dates(T0.date() - timedelta(days=30), T0.date() + timedelta(days=700)).map(date.isoformat)
    if isinstance(arg, Choice):
        return st.sampled_from(arg.values)
    if isinstance(arg, Text):
        return st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "S")), min_size=1,
                       max_size=arg.max_len)
    if isinstance(arg, Either):
        return st.one_of(*(valid(o, others) for o in arg.options))
    return valid(arg.arg, others)


def forged(others: tuple[int, ...]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(HOSTILE), st.sampled_from(others).map(str),
        st.integers(-(10**30), 10**30).map(str), st.text(max_size=40),
    )


FLOWS = {f.name: f for f in all_flows()}
TARGETS = sorted((name, action) for name, f in FLOWS.items() for action in f.actions) + [
    ("book", "nope"), ("nope", "pick"), ("ses", ""),
]


@st.composite
def presses(draw: st.DrawFn, others: tuple[int, ...]) -> str:
    """A payload for one declared action (or an undeclared one), each argument valid or forged, and
    sometimes one argument too few or too many."""
    flow, action = draw(st.sampled_from(TARGETS))
    spec = FLOWS[flow].actions.get(action, ()) if flow in FLOWS else ()
    args = [draw(st.one_of(valid(a, others), forged(others)) if draw(st.booleans()) else valid(a, others))
            for a in spec]
    change = draw(st.sampled_from(["keep", "keep", "drop", "add"]))
    if change == "drop" and args:
        args.pop()
    elif change == "add":
        args.append(draw(forged(others)))
    return "|".join(["1", flow, action, *args])


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_forged_press_is_answered_and_changes_nothing(scene, db, clock, caplog, data):  # type: ignore[no-untyped-def]
    before = snapshot(db)
    payload = data.draw(presses(scene.others), label="payload")
    caplog.clear()
    tracemalloc.start()
    try:
        out = scene.ana.press(payload)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out.strip(), f"no answer to {payload!r}"
    assert not _errors(caplog), f"{payload!r} raised: {_errors(caplog)}"
    assert "Something went wrong" not in out
    assert snapshot(db) == before, f"{payload!r} changed data"
    assert peak < MEMORY_BOUND, f"{payload!r} allocated {peak} bytes"
    flow, action, *args = payload.split("|")[1:]
    if flow not in FLOWS or not press_fits(FLOWS[flow].actions, action, args, clock.now()):
        assert out == OUTDATED, f"{payload!r} was not refused at the boundary: {out}"


# ---------------------------------------------------------------- the defects, one by one


def _at_count_step(scene: Scene, uow) -> int:  # type: ignore[no-untyped-def]
    state = convo(uow, "ana")
    assert state.step == "count", state.step
    return state.version


def test_a_huge_count_is_refused_before_any_list_is_built(scene, uow, db, caplog):  # type: ignore[no-untyped-def]
    version = _at_count_step(scene, uow)
    before = snapshot(db)
    tracemalloc.start()
    try:
        out = scene.ana.press(f"1|book|cnt|{version}|99999999999999999999")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out == OUTDATED
    assert peak < MEMORY_BOUND and not _errors(caplog) and snapshot(db) == before
    after = convo(uow, "ana")
    assert (after.step, after.version) == ("count", version)  # a refusal keeps the buttons on screen current
    scene.ana.press(f"1|book|cnt|{version}|2")  # the real button still works
    assert convo(uow, "ana").data["n"] == 2


@pytest.mark.parametrize("payload", [
    "1|book|pick|²", "1|book|pick|٣", "1|book|cnt|{v}|²", "1|ses|cx|²|1", "1|req|acc|٣", "1|tri|ok|²",
    "1|wl|join|1|６０|any", "1|rev|star|1|²", "1|book|day|{v}|２０３０-03-05",
])
def test_non_ascii_digits_are_refused(scene, uow, db, caplog, payload):  # type: ignore[no-untyped-def]
    version = _at_count_step(scene, uow)
    before = snapshot(db)
    assert scene.ana.press(payload.format(v=version)) == OUTDATED
    assert not _errors(caplog) and snapshot(db) == before


def test_a_far_date_is_refused(scene, uow, db, caplog):  # type: ignore[no-untyped-def]
    version = _at_count_step(scene, uow)
    scene.ana.press(f"1|book|cnt|{version}|1")
    state = convo(uow, "ana")
    assert state.step == "day"
    for far in ("9999-12-31", "0001-01-01", "2999-01-01"):
        assert scene.ana.press(f"1|book|day|{state.version}|{far}") == OUTDATED
        assert scene.ana.press(f"1|book|days|{state.version}|{far}") == OUTDATED
    assert not _errors(caplog)
    assert convo(uow, "ana").version == state.version  # still at the day picker, its buttons current
    assert "Free times on Tue 5 Mar" in scene.ana.press(f"1|book|day|{state.version}|2030-03-05")


def test_an_off_grid_slot_is_answered_with_the_nearest_free_times(scene, uow, db, caplog):  # type: ignore[no-untyped-def]
    version = _at_count_step(scene, uow)
    scene.ana.press(f"1|book|cnt|{version}|1")
    state = convo(uow, "ana")
    before = snapshot(db)
    off_grid = TUE_0930 + timedelta(hours=1, minutes=7)  # 10:37 London: inside Eve's hours, not on her grid
    out = scene.ana.press(f"1|book|slot|{state.version}|{slot_arg(off_grid)}")
    assert out.startswith("Meetings start on the quarter hour (:00, :15, :30, :45), so that time cannot be booked.\n"
                          "The nearest free times, in your time with Eve's for reference:\n"
                          "• Tue 5 Mar 2030, 15:30 (Asia/Kolkata) · 10:00 (Europe/London)\n"), out
    after = convo(uow, "ana")
    assert after.data.get("slots") == [] and snapshot(db) == before and not _errors(caplog)
    far = T0 + timedelta(days=500)  # beyond any horizon: refused at the boundary
    assert scene.ana.press(f"1|book|slot|{after.version}|{slot_arg(far)}") == OUTDATED


# ---------------------------------------------------------------- the declarations themselves


def test_the_argument_kinds() -> None:
    assert ascii_int("12", 0, 99) == 12 and ascii_int("²", 0, 99) is None and ascii_int("٣", 0, 9) is None
    assert ascii_int("100", 0, 99) is None and ascii_int("9" * 10_000, 0, 99) is None and ascii_int("", 0, 9) is None
    assert ascii_int("-1", -5, 5) is None  # payloads carry no signs
    assert iso_day("2030-03-05") == date(2030, 3, 5) and iso_day("２０３０-03-05") is None and iso_day("20300305") is None
    assert parse_day_arg("9999-12-31") is None and parse_day_arg("2030-03-05") == date(2030, 3, 5)
    assert parse_slot_arg("١٢٣") is None and parse_slot_arg("99999999999") is None
    assert parse_slot_arg(slot_arg(TUE_0930)) == TUE_0930
    now = T0
    actions = {"go": (Stamp(), Either((Choice(("more",)), Int(1, 10))), Opt(Slot()))}
    assert press_fits(actions, "go", ["3", "more"], now) and press_fits(actions, "go", ["3", "10", slot_arg(T0)], now)
    assert not press_fits(actions, "go", ["3"], now) and not press_fits(actions, "go", ["3", "11"], now)
    assert not press_fits(actions, "go", ["3", "1", slot_arg(T0 + timedelta(days=401))], now)
    assert not press_fits(actions, "go", ["3", "1", slot_arg(T0), "x"], now)
    assert not press_fits(actions, "other", [], now)
    assert press_fits({"d": (Day(),)}, "d", ["2031-12-31"], now) and not press_fits({"d": (Day(),)}, "d", ["2040-01-01"], now)
    assert not press_fits({"t": (Text(4),)}, "t", ["abcde"], now) and not press_fits({"t": (Text(4),)}, "t", ["a\x00"], now)


def test_every_flow_that_takes_presses_declares_them() -> None:
    for flow in all_flows():
        overrides = type(flow).on_press is not Flow.on_press
        assert bool(flow.actions) == overrides, flow.name


def test_the_buttons_of_a_whole_booking_are_all_declared(scene, uow, chat, dispatcher, db):  # type: ignore[no-untyped-def]
    """Buttons made along the way (search, filters, length, count, days, slots, details, summary, the
    expert's card, the sessions list) all pass their flow's declaration; a forged one in the outbox does not."""
    ana = scene.ana
    ana.say("1")  # one meeting
    ana.say("Tue 5 Mar")
    ana.say("15:30")
    for line in ("Deck", "Feedback", "Skip", "Skip", "Done", "Confirm"):
        ana.say(line)
    eve = chat("eve")
    eve.say("/requests")
    eve.say("/sessions")
    eve.say("/availability")
    eve.say("Remove a day off")
    ana.say("/sessions")
    ana.say("/settings")
    buttons = queued_buttons(uow)
    assert len(buttons) > 30
    assert undeclared(buttons, all_flows()) == []
    flows = {payload.split("|")[1] for payload, _ in buttons}
    assert {"book", "req", "ses", "avail", "start"} <= flows, flows
    forged_one = [("1|book|cnt|3|99", T0)]
    assert undeclared(forged_one, all_flows()) == ["1|book|cnt|3|99"]


ID_ACTIONS = [(name, action) for name, f in sorted(FLOWS.items()) for action, spec in sorted(f.actions.items())
              if any(isinstance(a, Id) for a in spec)]


@pytest.mark.parametrize(("flow", "action"), ID_ACTIONS)
def test_other_peoples_ids_are_answered_not_raised(scene, db, caplog, flow, action):  # type: ignore[no-untyped-def]
    """Ben's bookings and meetings, Eve's and Pat's expert and person ids, the company: pressed by Ana,
    who owns none of them. Each is answered with a sentence; nothing changes and no bug is logged."""
    before = snapshot(db)
    spec = FLOWS[flow].actions[action]
    for other in scene.others:
        args = [str(other) if isinstance(a, Id) else _smallest(a) for a in spec if not isinstance(a, Opt)]
        out = scene.ana.press("|".join(["1", flow, action, *args]))
        assert out.strip() and "Something went wrong" not in out, (flow, action, other, out)
    assert not _errors(caplog), _errors(caplog)
    assert snapshot(db) == before


def _smallest(arg: Arg) -> str:
    """Some value the declaration accepts, for the arguments around an id."""
    if isinstance(arg, Int):
        return str(max(arg.lo, 1) if arg.hi >= 1 else arg.lo)
    if isinstance(arg, Stamp):
        return "1"
    if isinstance(arg, Slot):
        return slot_arg(TUE_0930)
    if isinstance(arg, Day):
        return TUE_0930.date().isoformat()
    if isinstance(arg, Choice):
        return arg.values[-1]
    if isinstance(arg, Either):
        return _smallest(arg.options[-1])
    return "x"
