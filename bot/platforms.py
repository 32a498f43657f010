"""The chat platforms, each described in one place: a person's account there (who they are), where a
notice reaches them (their chat), how to find them by that account, and the setting that makes a
deployment run it (its token). The dispatcher, the router and the settings ask this registry instead of
each spelling out Telegram, Slack and the console."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.model import Person

if TYPE_CHECKING:
    from storage.uow import SqlUnitOfWork


@dataclass(frozen=True, slots=True)
class ChatPlatform:
    name: str
    token_variable: str  # the environment variable whose token runs it; "" for the console (always local)
    account_of: Callable[[str], str | None]  # a sender's user id as the account we keep (None: not one)
    account: Callable[[Person], str | None]  # the person's account on it, if they have one
    find: Callable[[SqlUnitOfWork, str], Person | None]  # by a sender's user id
    fields: Callable[[str], dict[str, Any]]  # a new person's account fields (Person keywords)
    chat: Callable[[Person], str | None]  # where a notice reaches them

    def knows(self, person: Person, user_id: str) -> bool:
        """Is this person the one behind the sender's account?"""
        account = self.account_of(user_id)
        return account is not None and self.account(person) == account


def _telegram_id(user_id: str) -> str | None:
    return user_id if user_id.isdigit() else None


def _by_telegram(uow: SqlUnitOfWork, account: str) -> Person | None:
    return uow.people.by_telegram(int(account)) if account.isdigit() else None


CONSOLE = ChatPlatform(
    "console", "",
    account_of=lambda user_id: user_id.lower().lstrip("@"),
    account=lambda person: person.handle,
    find=lambda uow, account: uow.people.by_handle(account),
    fields=lambda user_id: {},
    chat=lambda person: person.handle,
)
TELEGRAM = ChatPlatform(
    "telegram", "TELEGRAM_BOT_TOKEN",
    account_of=_telegram_id,
    account=lambda person: str(person.telegram_user_id) if person.telegram_user_id is not None else None,
    find=_by_telegram,
    fields=lambda user_id: {"telegram_user_id": int(user_id)} if user_id.isdigit() else {},
    chat=lambda person: str(person.telegram_user_id) if person.telegram_user_id is not None else None,  # the private chat
)
SLACK = ChatPlatform(
    "slack", "SLACK_BOT_TOKEN",
    account_of=lambda user_id: user_id or None,
    account=lambda person: person.slack_user_id,
    find=lambda uow, account: uow.people.by_slack(account),
    fields=lambda user_id: {"slack_user_id": user_id},
    chat=lambda person: person.slack_user_id,  # chat.postMessage to a user id opens the DM
)

PLATFORMS: dict[str, ChatPlatform] = {p.name: p for p in (CONSOLE, TELEGRAM, SLACK)}
CHAT_PLATFORMS = tuple(name for name, p in PLATFORMS.items() if p.token_variable)  # run by processes of their own


def platform(name: str) -> ChatPlatform:
    """The platform an event came from; anything unknown is treated as the local console."""
    return PLATFORMS.get(name, CONSOLE)
