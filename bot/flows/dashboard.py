"""/dashboard: a one-time sign-in link to the programme dashboard in the browser. Staff only, and only in a
private chat (a link in a group would sign in whoever taps it first); everyone else gets a polite no."""

from __future__ import annotations

from core.signin import LINK_TTL, issue_signin_link
from core.staff_access import staff_programmes
from bot.flows.base import Context, Flow
from bot.settings import public_url

NAME = "dash"


def signin_url(base: str, token: str) -> str:
    """The link's shape, shared with the web side (bot.dashboard serves /dashboard/login/<token>)."""
    return f"{base}/dashboard/login/{token}"


class DashboardFlow(Flow):
    name = NAME
    commands = ("dashboard",)

    def start(self, ctx: Context, args: str) -> None:
        t = ctx.t
        if ctx.person.id is None or not staff_programmes(ctx.uow, ctx.person.id):
            ctx.say(t("The dashboard is for programme staff, so I cannot open it for you. /sessions shows your "
                      "sessions and /credits your balance."))
            return
        if ctx.sender.is_group:
            ctx.say(t("I send sign-in links only in a private chat: write /dashboard to me directly."))
            return
        try:
            base = public_url()
        except ValueError:
            base = None
        if base is None:
            ctx.say(t("The dashboard is not set up here yet: its web address (PUBLIC_URL) is missing. Please ask "
                      "whoever runs Headstrt."))
            return
        token = issue_signin_link(ctx.uow, ctx.clock, person_id=ctx.person.id)
        ctx.say(t.plural("Your sign-in link to the programme dashboard:\n{url}\nIt works once, within {minutes} "
                         "minute. Do not forward it: it signs in as you.",
                         "Your sign-in link to the programme dashboard:\n{url}\nIt works once, within {minutes} "
                         "minutes. Do not forward it: it signs in as you.",
                         int(LINK_TTL.total_seconds() // 60), url=signin_url(base, token),
                         minutes=int(LINK_TTL.total_seconds() // 60)))
