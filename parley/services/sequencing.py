"""The one way to change a conversation: locked, numbered, published after commit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction

from parley import access, events
from parley.models import Conversation, Event, Membership, Message, OutboxEntry
from parley.representations import message_json
from parley.users import User


class ConversationWrite:
    """The events and field changes of one transaction on a locked conversation.

    `append` numbers an event `last_seq + 1`; on leaving the block the events are
    inserted in one statement, the conversation row is saved, and their frames are
    published once the outermost transaction has committed, followed by what
    `publish_after` queued.
    """

    def __init__(self, conversation: Conversation, *, membership: Membership | None = None) -> None:
        self.conversation = conversation
        self.membership = membership  # the writer's, when conversation_write checked it
        self._events: list[Event] = []
        self._messages: dict[int, Message] = {}
        self._dirty_fields: set[str] = set()
        self._publications: list[tuple[Any, dict[str, Any]]] = []
        self._after_commit: list[Callable[[], None]] = []

    def append(
        self,
        type: Event.Type,
        *,
        message: Message | None = None,
        message_id: int | None = None,
        actor_id: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> int:
        self.conversation.last_seq += 1
        if message is not None:
            message_id = message.pk
            self._messages[message.pk] = message
        self._events.append(
            Event(
                conversation_id=self.conversation.pk,
                seq=self.conversation.last_seq,
                type=type,
                message_id=message_id,
                actor_id=actor_id,
                data=data or {},
            )
        )
        self._dirty_fields.add("last_seq")
        return self.conversation.last_seq

    def touch(self, **fields: Any) -> None:
        for name, value in fields.items():
            setattr(self.conversation, name, value)
            self._dirty_fields.add(name.removesuffix("_id") if name.endswith("_id") else name)

    def publish_after(self, frame: Any, **audience: Any) -> None:
        """`events.publish_on_commit(frame, **audience)`, after this write's own frames."""
        self._publications.append((frame, audience))

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Work that is not a publish (removing a file) once the transaction commits."""
        self._after_commit.append(callback)

    def _flush(self) -> None:
        if self._events:
            Event.objects.bulk_create(self._events)
            # The notification outbox: one row per event, in the event's transaction.
            OutboxEntry.objects.bulk_create([OutboxEntry(event_id=event.pk) for event in self._events])
        if self._dirty_fields:
            self.conversation.save(update_fields=sorted(self._dirty_fields))
        for event in self._events:
            events.publish_on_commit(self._frame(event), conversation=self.conversation.pk)
        for frame, audience in self._publications:
            events.publish_on_commit(frame, **audience)
        for callback in self._after_commit:
            transaction.on_commit(callback, robust=True)

    def _frame(self, event: Event) -> events.DurableFrame:
        message = self._messages.get(event.message_id) if event.message_id else None
        return events.durable_frame(event, message=message_json(message) if message else None)


@contextmanager
def conversation_write(conversation_id: int, *, member: User | None = None) -> Iterator[ConversationWrite]:
    """Lock the conversation row for the whole transaction, so concurrent writers of
    one conversation queue and `seq` stays gapless.

    With `member`, the lock is `access.membership_access(..., lock=True)`: the user must
    (still) be a member once the lock is held, and `write.membership` is theirs.
    """
    with transaction.atomic():
        if member is None:
            write = ConversationWrite(access.conversation_lock(conversation_id))
        else:
            membership = access.membership_access(user=member, conversation_id=conversation_id, lock=True)
            write = ConversationWrite(membership.conversation, membership=membership)
        yield write
        write._flush()
