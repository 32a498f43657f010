"""Every button the bot has queued, checked against its flow's declared actions (bot/flows/actions.py).

The dispatcher refuses any press its flow does not declare, so a real button that is not declared would be
a dead button: this keeps the declarations and the buttons the flows make from drifting apart.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from sqlalchemy import select

from bot.flows.actions import press_fits
from bot.flows.base import Flow
from bot.payloads import decode
from storage.models import OutboxRow
from storage.uow import SqlUnitOfWork


def queued_buttons(uow: Callable[[], SqlUnitOfWork]) -> list[tuple[str, object]]:
    """(payload, when it was queued) of every button in the outbox, sent or not."""
    out: list[tuple[str, object]] = []
    with uow() as u:
        for payload, created in u.session.execute(select(OutboxRow.payload, OutboxRow.created_at)):
            for row in json.loads(payload).get("buttons") or ():
                for button in row:
                    out.append((button[1], created))
    return out


def undeclared(buttons: Sequence[tuple[str, object]], flows: Sequence[Flow]) -> list[str]:
    """The payloads among these that their flow would refuse (checked as of the time each was queued)."""
    by_name = {f.name: f for f in flows}
    bad = []
    for raw, created in buttons:
        payload = decode(raw)
        flow = by_name.get(payload.flow) if payload else None
        if payload is None or flow is None or not press_fits(flow.actions, payload.action, payload.args,
                                                              created):  # type: ignore[arg-type]
            bad.append(raw)
    return bad
