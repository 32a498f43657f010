"""Demo data: a programme, a company with credits, founders, an individual, staff and experts
in several timezones. Loading it twice changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.amounts import credits_to_milli
from core.credit_service import grant
from core.credits import Source
from core.expert_import import parse_experts_csv
from core.import_service import import_experts
from core.lifecycle import PairingMode
from core.model import Person, Programme
from core.sessions import SessionRules
from storage.uow import SqlUnitOfWork

DEMO_EXPERTS = Path(__file__).resolve().parents[1] / "examples" / "experts.csv"

PROGRAMME = "Headstrt Accelerator"
COMPANY = "Acme Robotics"

PEOPLE = (
    # handle, name, timezone, slack id, telegram id, staff, in the company
    ("ana", "Ana Souza", "Europe/London", "U0DEMOANA1", None, False, True),
    ("ben", "Ben Okafor", "America/New_York", "U0DEMOBEN1", None, False, True),
    ("chen", "Chen Wei", "Asia/Singapore", None, 7000000001, False, False),
    ("sam", "Sam Taylor", "Europe/London", "U0DEMOSAM1", 7000000002, True, False),
)

GRANTS = (
    ("demo:acme:programme", Source.PROGRAMME, None, COMPANY, "10"),
    ("demo:acme:company", Source.COMPANY, None, COMPANY, "2"),
    ("demo:chen:individual", Source.INDIVIDUAL, "chen", None, "3"),
)


@dataclass(frozen=True)
class DemoSummary:
    experts_created: int
    experts_updated: int
    people: int


def load_demo(uow: SqlUnitOfWork) -> DemoSummary:
    with uow:
        people = uow.people
        programme = people.programme_by_name(PROGRAMME) or people.add_programme(
            Programme(0, PROGRAMME, PairingMode.SELF_SELECT, SessionRules(allowed_lengths=(30, 60)))
        )
        company = people.company_by_name(COMPANY) or people.add_company(COMPANY, programme.id)
        for handle, name, tz, slack, telegram, staff, member in PEOPLE:
            person = people.by_handle(handle) or people.add(Person(
                None, handle, name, timezone=tz, slack_user_id=slack, telegram_user_id=telegram,
                company_id=company.id if member else None))
            if staff and person.id is not None:  # staff of the demo programme, and of nothing else
                uow.programmes.set_staff(person.id, uow.programmes.staff_programmes(person.id) | {programme.id})
        parsed = parse_experts_csv(DEMO_EXPERTS.read_text(encoding="utf-8"))
        if not parsed.ok:
            raise RuntimeError("the demo experts file is broken: " + "; ".join(map(str, parsed.errors)))
        outcome = import_experts(uow, parsed.records)
        if outcome.errors:
            raise RuntimeError("; ".join(map(str, outcome.errors)))
        for record in parsed.records:  # the demo programme's roster: its staff set their rules and pause them
            expert = uow.experts.by_handle(record.handle)
            if expert is not None and expert.id is not None:
                uow.programmes.add_to_roster(programme.id, expert.id)
        for key, source, grantee_handle, company_name, amount in GRANTS:
            grantee = people.by_handle(grantee_handle) if grantee_handle else None
            target_company = people.company_by_name(company_name) if company_name else None
            grant(uow, key=key, amount_milli=credits_to_milli(amount), source=source,
                  person_id=grantee.id if grantee else None, company_id=target_company.id if target_company else None,
                  note="demo allocation")
        uow.commit()
        return DemoSummary(outcome.created, outcome.updated, len(PEOPLE))
