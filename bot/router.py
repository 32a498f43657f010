"""Notifications go to people, not chats: find where a person can be reached right now."""

from __future__ import annotations

from collections.abc import Sequence

from core.model import Person
from bot.platforms import CHAT_PLATFORMS, PLATFORMS
from storage.chat_repo import SqlConversations

__all__ = ["CHAT_PLATFORMS", "Router"]


class Router:
    """`platforms` are the chats this process knows run here (from their tokens; the console process runs only
    "console"). `reach_beyond`: other chats a person may be reached on, which a process of their own sends."""

    def __init__(self, platforms: Sequence[str], reach_beyond: Sequence[str] = ()) -> None:
        self.platforms = tuple(platforms)
        self.reach_beyond = tuple(p for p in reach_beyond if p not in self.platforms)

    def address(self, person: Person, conversations: SqlConversations) -> tuple[str, str] | None:
        """The platform the person used last, else the first of this process's they have an account on, else
        any they have an account on: a notice is queued for a chat process to send (and shows in `headstrt
        outbox status` while none runs) rather than dropped because this process lacks that chat's token."""
        reachable = {}
        for platform in self.platforms + self.reach_beyond:
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
    known = PLATFORMS.get(platform)
    return known.chat(person) if known is not None else None
