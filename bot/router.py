"""Notifications go to people, not chats: find where a person can be reached right now."""

from __future__ import annotations

from collections.abc import Sequence

from core.model import Person
from storage.chat_repo import SqlConversations


class Router:
    """`platforms` are the chats this deployment runs (the console process runs only "console")."""

    def __init__(self, platforms: Sequence[str]) -> None:
        self.platforms = tuple(platforms)

    def address(self, person: Person, conversations: SqlConversations) -> tuple[str, str] | None:
        """The platform the person used last, else the first one they have an account on."""
        reachable = {}
        for platform in self.platforms:
            chat = _chat_for(person, platform)
            if chat is not None:
                reachable[platform] = chat
        if not reachable:
            return None
        platform = next(iter(reachable))
        if len(reachable) > 1 and person.id is not None:
            last = conversations.last_platform(person.id, tuple(reachable))
            platform = last or platform
        return platform, reachable[platform]


def _chat_for(person: Person, platform: str) -> str | None:
    if platform == "console":
        return person.handle
    if platform == "telegram" and person.telegram_user_id is not None:
        return str(person.telegram_user_id)  # a private chat's id is the user's id
    if platform == "slack" and person.slack_user_id is not None:
        return person.slack_user_id  # chat.postMessage to a user id opens the DM
    return None
