"""Platform-neutral conversations. Each flow is a class; all_flows() is the registry."""

from __future__ import annotations

import importlib

from bot.flows.base import Flow

# module: class names, in the order commands are looked up
_REGISTRY = (
    ("bot.flows.start", ("StartFlow", "HelpFlow")),
    ("bot.flows.book", ("BookFlow",)),
    ("bot.flows.requests", ("RequestsFlow",)),
    ("bot.flows.availability", ("AvailabilityFlow",)),
    ("bot.flows.sessions", ("SessionsFlow", "ReviewFlow")),
    ("bot.flows.credits", ("CreditsFlow",)),
    ("bot.flows.staff", ("StaffFlow", "TriageFlow")),
)


def all_flows() -> list[Flow]:
    flows: list[Flow] = []
    for module_name, classes in _REGISTRY:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        flows.extend(getattr(module, cls)() for cls in classes)
    return flows
