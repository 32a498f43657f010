"""Run events through the dispatcher from an async adapter: off the event loop (the dispatcher is plain
blocking code), one person's events in one chat in the order they came, and what they queued handed to
this process's outbox pumps at once (the dispatcher knows each platform's)."""

from __future__ import annotations

import asyncio

from bot.dispatcher import Dispatcher, Handled, find_person
from bot.events import Incoming
from bot.keyed_locks import KeyedLocks


class SerialDispatch:
    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self._order = KeyedLocks()

    async def __call__(self, incoming: Incoming) -> Handled:
        async with self._order.hold((incoming.sender.chat_id, incoming.sender.user_id)):
            handled = await asyncio.to_thread(self.dispatcher.handle, incoming)
        self.dispatcher.hand_over(handled.messages)
        return handled

    def meant_for(self, incoming: Incoming) -> bool:
        """In a group or channel, a button counts only from the person its message was for; a message we
        cannot place (not recorded yet, or not ours) is refused rather than guessed."""
        sender, press = incoming.sender, incoming.press
        if press is None or not sender.is_group:
            return True
        with self.dispatcher.uow_factory() as uow:
            owner = uow.outbox.owner_of(sender.platform, sender.chat_id, press.message_id or "")
            person = find_person(uow, sender) if owner is not None else None
            return person is not None and person.id == owner
