"""The `headstrt` commands that set a programme up and run it: programmes, companies, members, experts'
booking rules and pauses, and revoking credits. Every command works for the operator; with `--as HANDLE`
it acts as that staff member, who sees and changes only their own programmes (the core checks it)."""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from core import expert_admin, programme_service, support_service
from core.amounts import credits_to_milli, format_credits
from core.clock import SystemClock
from core.credits import Source
from core.errors import DomainError
from core.member_import import parse_members_csv
from core.member_service import import_members
from core.model import Person, Programme
from core.staff_access import staff_programmes
from core.unset import UNSET, Unset
from storage.db import make_engine
from storage.uow import SqlUnitOfWork

_DURATION_UNITS = {"d": 86400, "h": 3600, "m": 60}


def _uow() -> SqlUnitOfWork:
    return SqlUnitOfWork(make_engine(), SystemClock())


class _Refused(Exception):
    """An operator error: one line, exit status 1."""


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def _run(func: Any) -> Any:
    """Wrap a command so that a typed mistake is one line, not a traceback."""

    def wrapped(args: argparse.Namespace) -> int:
        try:
            return int(func(args))
        except _Refused as exc:
            return _fail(str(exc))
        except ValueError as exc:
            return _fail(f"error: {exc}")

    return wrapped


# ---------------------------------------------------------------- parsing values


def duration(text: str) -> timedelta:
    """ "12h", "30m", "2d" or "0"."""
    raw = text.strip().lower()
    if raw == "0":
        return timedelta(0)
    number, unit = raw[:-1], raw[-1:]
    if unit not in _DURATION_UNITS or not number.isascii() or not number.isdigit() or len(number) > 6:
        raise argparse.ArgumentTypeError(f"{text!r}: use a number and d, h or m, e.g. 12h, 30m, 60d")
    return timedelta(seconds=int(number) * _DURATION_UNITS[unit])


def credits(text: str) -> int:
    try:
        milli = credits_to_milli(text.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    if milli < 0 or milli > support_service.MAX_GRANT_MILLI:
        raise argparse.ArgumentTypeError(f"{text!r}: between 0 and 100000 credits")
    return milli


def lengths(text: str) -> tuple[int, ...]:
    try:
        return programme_service.parse_lengths(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def pairing(text: str) -> Any:
    try:
        return programme_service.parse_pairing(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def handles(text: str) -> list[str]:
    return [h.strip().lstrip("@").lower() for h in text.split(",") if h.strip()]


def _actor(uow: SqlUnitOfWork, args: argparse.Namespace) -> int | None:
    """--as HANDLE: the staff member acting; None: the operator."""
    handle = getattr(args, "as_handle", None)
    if not handle:
        return None
    person = uow.people.by_handle(handle)
    if person is None or person.id is None:
        raise _Refused(f"no person @{handle.lstrip('@')}")
    return person.id


def _programme(uow: SqlUnitOfWork, name: str, actor_id: int | None) -> Programme:
    programme = uow.programmes.by_name(name)
    if programme is None or (actor_id is not None and programme.id not in staff_programmes(uow, actor_id)):
        raise _Refused(f"no programme {name!r}" + (" among yours" if actor_id is not None else
                                                   ": `headstrt programmes list` shows them"))
    return programme


def _person(uow: SqlUnitOfWork, handle: str) -> Person:
    person = uow.people.by_handle(handle)
    if person is None or person.id is None:
        raise _Refused(f"no person @{handle.lstrip('@')}")
    return person


def _expert_id(uow: SqlUnitOfWork, handle: str) -> int:
    expert = uow.experts.by_handle(handle)
    if expert is None or expert.id is None:
        raise _Refused(f"no expert @{handle.lstrip('@')}")
    return expert.id


def _money(milli: int) -> str:
    return format_credits(milli)


# ---------------------------------------------------------------- programmes


def cmd_programmes_create(args: argparse.Namespace) -> int:
    uow = _uow()
    with uow:
        programme = programme_service.create_programme(
            uow, name=args.name, pairing=args.pairing, lengths=args.lengths,
            credits_per_founder=args.credits_per_founder or 0, credits_per_company=args.credits_per_company or 0,
            max_meetings=args.max_meetings, relay_days=30 if args.relay_days is None else args.relay_days,
        )
        uow.commit()
    print(f"created programme {programme.name!r}: {_describe(programme)}")
    return 0


def _describe(p: Programme) -> str:
    parts = [programme_service.pairing_word(p.pairing_mode), "lengths " + ",".join(map(str, p.rules.allowed_lengths))]
    if p.rules.max_meetings:
        parts.append(f"at most {p.rules.max_meetings} meetings a session")
    parts.append(f"{_money(p.credits_per_founder)} credits per founder")
    parts.append(f"{_money(p.credits_per_company)} per company")
    parts.append(f"messages between the sides for {p.relay_days} days after the last meeting")
    return ", ".join(parts)


def cmd_programmes_list(args: argparse.Namespace) -> int:
    uow = _uow()
    with uow:
        actor = _actor(uow, args)
        reach = staff_programmes(uow, actor) if actor is not None else None
        counts = uow.programmes.counts()
        shown = [p for p in uow.programmes.all() if reach is None or p.id in reach]
        for p in shown:
            companies, founders, staff, experts = counts.get(p.id, (0, 0, 0, 0))
            staff_handles = ", ".join(f"@{s.handle}" for s in uow.programmes.staff_of(p.id)) or "none"
            print(f"{p.name}: {_describe(p)}")
            print(f"    {companies} companies, {founders} founders, {experts} experts on the roster; staff: {staff_handles}")
    if not shown:
        print("no programmes yet: `headstrt programmes create NAME --pairing self-select --lengths 30,60`"
              if reach is None else "you are not staff of any programme")
    return 0


def cmd_programmes_set(args: argparse.Namespace) -> int:
    uow = _uow()
    with uow:
        actor = _actor(uow, args)
        now = uow.clock.now()
        programme = _programme(uow, args.name, actor)
        max_meetings: int | None | Unset = UNSET
        if args.max_meetings is not None:
            max_meetings = None if args.max_meetings.lower() in ("none", "0", "") else _int(args.max_meetings, "--max-meetings")
        programme, topped = programme_service.update_programme(
            uow, now, programme_id=programme.id, actor_id=actor, name=args.rename, pairing=args.pairing,
            lengths=args.lengths, credits_per_founder=args.credits_per_founder,
            credits_per_company=args.credits_per_company, max_meetings=max_meetings, relay_days=args.relay_days,
        )
        notes = []
        for handle in args.add_experts or []:
            added = programme_service.add_to_roster(uow, now, programme_id=programme.id, expert_id=_expert_id(uow, handle),
                                                    actor_id=actor)
            notes.append(f"@{handle} {'added to' if added else 'already on'} the roster")
        for handle in args.remove_experts or []:
            programme_service.remove_from_roster(uow, now, programme_id=programme.id,
                                                 expert_id=_expert_id(uow, handle), actor_id=actor)
            notes.append(f"@{handle} off the roster")
        for handle, add in [(h, True) for h in args.add_staff or []] + [(h, False) for h in args.remove_staff or []]:
            person = _person(uow, handle)
            assert person.id is not None
            roles = uow.programmes.staff_programmes(person.id)
            roles = roles | {programme.id} if add else roles - {programme.id}
            programme_service.set_staff_roles(uow, now, person_id=person.id, programme_ids=frozenset(roles), actor_id=actor)
            notes.append(f"@{handle} {'is' if add else 'is no longer'} staff")
        uow.commit()
    print(f"{programme.name}: {_describe(programme)}")
    for note in notes:
        print(f"  {note}")
    if topped.milli:
        print(f"  topped up {topped.companies} companies and {topped.founders} founders: {_money(topped.milli)} credits")
    return 0


def _int(text: str, flag: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        raise _Refused(f"{flag}: a whole number, not {text!r}")
    return int(text)


# ---------------------------------------------------------------- companies


def cmd_companies_set(args: argparse.Namespace) -> int:
    uow = _uow()
    with uow:
        actor = _actor(uow, args)
        programme = _programme(uow, args.programme, actor)
        amount: int | None | Unset = UNSET
        if args.credits is not None:
            amount = None if args.credits.strip().lower() == "default" else credits(args.credits)
        company, given = programme_service.put_company(uow, uow.clock.now(), name=args.name, programme_id=programme.id,
                                                       credits_milli=amount, actor_id=actor)
        uow.commit()
    own = (f"{_money(company.credits_milli)} credits of its own" if company.credits_milli is not None
           else f"the programme's {_money(programme.credits_per_company)} credits per company")
    print(f"{company.name} in {programme.name}: {own}" + (f"; topped up {_money(given)} credits" if given else ""))
    return 0


def cmd_companies_list(args: argparse.Namespace) -> int:
    uow = _uow()
    with uow:
        actor = _actor(uow, args)
        reach = staff_programmes(uow, actor) if actor is not None else None
        programmes = [p for p in uow.programmes.all() if (reach is None or p.id in reach)
                      and (not args.programme or p.name.lower() == args.programme.strip().lower())]
        for p in programmes:
            for company in uow.programmes.companies(p.id):
                wallets = [uow.credits.wallet(source=s, company_id=company.id, create=False)
                           for s in (Source.PROGRAMME, Source.COMPANY)]
                available = sum(w.available for w in wallets if w)
                held = sum(w.held for w in wallets if w)
                members = len(uow.people.members(company.id))
                print(f"{company.name} ({p.name}): {members} founders, {_money(available)} credits available, "
                      f"{_money(held)} held")
    return 0


# ---------------------------------------------------------------- members


def cmd_members_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return _fail(f"cannot read {path}: {exc}")
    parsed = parse_members_csv(text)
    errors = list(parsed.errors)
    if not errors:
        uow = _uow()
        with uow:
            actor = _actor(uow, args)
            outcome = import_members(uow, uow.clock.now(), parsed.records, actor_id=actor)
            errors = list(outcome.errors)
            if not errors:
                uow.commit()
                print(f"imported {len(parsed.records)} people: {outcome.created} new, {outcome.updated} updated, "
                      f"{outcome.companies_created} new companies, {_money(outcome.credits_milli)} credits allocated")
                return 0
    print(f"{path}: nothing imported, {len(errors)} problem(s):", file=sys.stderr)
    for error in errors:
        print(f"  {error}", file=sys.stderr)
    return 1


# ---------------------------------------------------------------- experts


def cmd_experts_rules(args: argparse.Namespace) -> int:
    uow = _uow()
    with uow:
        actor = _actor(uow, args)
        expert_id = _expert_id(uow, args.handle)
        cap: int | None | Unset = UNSET
        if args.daily_cap is not None:
            cap = None if args.daily_cap.lower() in ("none", "0") else _int(args.daily_cap, "--daily-cap")
        rules = expert_admin.set_booking_rules(uow, uow.clock, expert_id=expert_id, actor_id=actor,
                                               min_notice=args.min_notice, horizon=args.horizon, buffer=args.buffer,
                                               daily_cap=cap)
        uow.commit()
    print(f"@{args.handle.lstrip('@')}: {expert_admin.describe(rules)}")
    return 0


def cmd_experts_pause(args: argparse.Namespace) -> int:
    uow = _uow()
    with uow:
        actor = _actor(uow, args)
        expert_id = _expert_id(uow, args.handle)
        if args.action == "pause":
            changed = expert_admin.pause_expert(uow, uow.clock, expert_id=expert_id, actor_id=actor, note=args.note or "")
        else:
            changed = expert_admin.resume_expert(uow, uow.clock, expert_id=expert_id, actor_id=actor)
        uow.commit()
    handle = args.handle.lstrip("@")
    if args.action == "pause":
        print(f"@{handle} is paused: no new requests, not offered in search" if changed else f"@{handle} was already paused")
    else:
        print(f"@{handle} takes requests again" if changed else f"@{handle} was not paused")
    return 0


# ---------------------------------------------------------------- credits


def cmd_credits_revoke(args: argparse.Namespace) -> int:
    uow = _uow()
    with uow:
        actor = _actor(uow, args)
        person_id = company_id = None
        if args.person:
            person_id = _person(uow, args.person).id
        else:
            company = uow.people.company_by_name(args.company, any_case=True)
            if company is None:
                return _fail(f"no company {args.company!r}")
            company_id = company.id
        source = Source(args.source or (Source.INDIVIDUAL if args.person else Source.PROGRAMME))
        amount = None if args.amount.strip().lower() == "all" else credits(args.amount)
        taken = support_service.revoke_credits(uow, uow.clock, staff_id=actor, source=source,
                                               attempt=args.key or uuid.uuid4().hex, amount_milli=amount,
                                               person_id=person_id, company_id=company_id, note=args.note or "")
        uow.commit()
    target = f"@{args.person.lstrip('@')}" if args.person else args.company
    print(f"took back {_money(taken)} {source} credits from {target}" if taken
          else "that revoke was already applied: nothing changed")
    return 0


# ---------------------------------------------------------------- parser


def add_commands(sub: Any, experts: Any, credits_group: Any) -> None:
    """Register the commands on `headstrt`'s parser (its subparsers, and the experts and credits groups)."""
    def as_flag(p: argparse.ArgumentParser) -> None:
        p.add_argument("--as", dest="as_handle", metavar="HANDLE",
                       help="act as this staff member (only their programmes); default: the operator")

    programmes = sub.add_parser("programmes", help="create, list and change programmes").add_subparsers(
        dest="action", required=True)
    create = programmes.add_parser("create", help="a new programme")
    create.add_argument("name")
    create.add_argument("--pairing", type=pairing, required=True, help="self-select, admin-assigned or triage-first")
    create.add_argument("--lengths", type=lengths, required=True, help="meeting lengths in minutes, e.g. 30,60")
    create.add_argument("--credits-per-founder", type=credits, metavar="N")
    create.add_argument("--credits-per-company", type=credits, metavar="N")
    create.add_argument("--max-meetings", type=int, metavar="N", help="meetings in one session at most")
    create.add_argument("--relay-days", type=int, metavar="N",
                        help="days after the last meeting that client and mentor can write to each other (30)")
    create.set_defaults(func=_run(cmd_programmes_create))
    listing = programmes.add_parser("list", help="programmes with their settings, people and staff")
    as_flag(listing)
    listing.set_defaults(func=_run(cmd_programmes_list))
    setp = programmes.add_parser("set", help="change a programme, its staff and its roster of experts")
    setp.add_argument("name")
    setp.add_argument("--name", dest="rename", metavar="NEW", help="rename it")
    setp.add_argument("--pairing", type=pairing)
    setp.add_argument("--lengths", type=lengths)
    setp.add_argument("--credits-per-founder", type=credits, metavar="N", help="raising it tops up founders already in")
    setp.add_argument("--credits-per-company", type=credits, metavar="N", help="raising it tops up companies already in")
    setp.add_argument("--max-meetings", metavar="N|none")
    setp.add_argument("--relay-days", type=int, metavar="N",
                      help="days after the last meeting that client and mentor can write to each other")
    setp.add_argument("--add-experts", type=handles, metavar="H1,H2")
    setp.add_argument("--remove-experts", type=handles, metavar="H1,H2")
    setp.add_argument("--add-staff", type=handles, metavar="H1,H2")
    setp.add_argument("--remove-staff", type=handles, metavar="H1,H2")
    as_flag(setp)
    setp.set_defaults(func=_run(cmd_programmes_set))

    companies = sub.add_parser("companies", help="companies and their own credit allocation").add_subparsers(
        dest="action", required=True)
    cset = companies.add_parser("set", help="create a company in a programme, or change its allocation")
    cset.add_argument("name")
    cset.add_argument("--programme", required=True)
    cset.add_argument("--credits", metavar="N|default", help="its own allocation (default: the programme's)")
    as_flag(cset)
    cset.set_defaults(func=_run(cmd_companies_set))
    clist = companies.add_parser("list", help="companies with their founders and credits")
    clist.add_argument("--programme")
    as_flag(clist)
    clist.set_defaults(func=_run(cmd_companies_list))

    members = sub.add_parser("members", help="import founders, individuals and staff").add_subparsers(
        dest="action", required=True)
    mimp = members.add_parser("import", help="add or update people from a CSV file (all rows or none)")
    mimp.add_argument("file")
    as_flag(mimp)
    mimp.set_defaults(func=_run(cmd_members_import))

    rules = experts.add_parser("rules", help="an expert's booking rules: notice, horizon, buffer, daily cap")
    rules.add_argument("handle")
    rules.add_argument("--min-notice", type=duration, metavar="12h")
    rules.add_argument("--horizon", type=duration, metavar="60d")
    rules.add_argument("--buffer", type=duration, metavar="15m")
    rules.add_argument("--daily-cap", metavar="N|none")
    as_flag(rules)
    rules.set_defaults(func=_run(cmd_experts_rules))
    for action, text in (("pause", "no new requests, not offered in search, until resumed"),
                         ("resume", "take requests again")):
        p = experts.add_parser(action, help=text)
        p.add_argument("handle")
        if action == "pause":
            p.add_argument("--note", help="why (kept in the staff log)")
        as_flag(p)
        p.set_defaults(func=_run(cmd_experts_pause), action=action)

    revoke = credits_group.add_parser("revoke", help="take back unused credits (never held or spent ones)")
    owner = revoke.add_mutually_exclusive_group(required=True)
    owner.add_argument("--person", metavar="HANDLE")
    owner.add_argument("--company", metavar="NAME")
    revoke.add_argument("--source", choices=[s.value for s in Source],
                        help="which wallet (default: individual for --person, programme for --company)")
    revoke.add_argument("--key", help="the same key is applied once (default: a new one)")
    revoke.add_argument("--note")
    revoke.add_argument("amount", help="credits, e.g. 2 or 0.5, or all")
    as_flag(revoke)
    revoke.set_defaults(func=_run(cmd_credits_revoke))


__all__ = ["add_commands", "DomainError"]
