"""Platform-neutral conversations. Each flow is a class; all_flows() is the registry."""

from __future__ import annotations

from bot.flows.base import Flow


def all_flows() -> list[Flow]:
    """Every flow, in the order commands are looked up. A flow that cannot be imported is a bug and fails here.

    The imports are inside the function because this package is initialised whenever any bot.flows module is
    imported: bot.notifications needs bot.flows.base, and the requests flow needs bot.notifications back.
    """
    from bot.flows.availability import AvailabilityFlow
    from bot.flows.book import BookFlow
    from bot.flows.credits import CreditsFlow
    from bot.flows.dashboard import DashboardFlow
    from bot.flows.purchases import BuyFlow
    from bot.flows.relay import RelayFlow
    from bot.flows.requests import RequestsFlow
    from bot.flows.reviews import ReviewAnswerFlow
    from bot.flows.sessions import ReviewFlow, SessionsFlow
    from bot.flows.staff import StaffFlow, TriageFlow
    from bot.flows.start import HelpFlow, StartFlow
    from bot.flows.waitlist import WaitlistFlow

    return [
        StartFlow(), HelpFlow(),
        BookFlow(),
        RequestsFlow(),
        AvailabilityFlow(),
        SessionsFlow(), ReviewFlow(), ReviewAnswerFlow(), RelayFlow(),
        CreditsFlow(), BuyFlow(),
        StaffFlow(), TriageFlow(),
        DashboardFlow(),
        WaitlistFlow(),
    ]
