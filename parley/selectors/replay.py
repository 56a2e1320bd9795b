"""Reads of the durable event log: what a client missed, rendered as its frames."""

from __future__ import annotations

from dataclasses import dataclass

from parley import events
from parley.common.errors import ResyncRequired
from parley.models import Event
from parley.selectors.messages import message_json_by_id


@dataclass(frozen=True)
class EventPage:
    frames: list[events.DurableFrame]
    has_more: bool


def events_after(*, conversation_id: int, since: int, limit: int, strict: bool = False) -> EventPage:
    """Durable events with `seq > since`, in order, rendered as their WebSocket frames.

    `strict`: raise ResyncRequired when the event right after `since` was pruned
    (parley.retention always keeps a conversation's latest event, so a missing
    `since + 1` shows as a first row further on, never as no row at all)."""
    rows = list(Event.objects.filter(conversation_id=conversation_id, seq__gt=since).order_by("seq")[: limit + 1])
    if strict and rows and rows[0].seq > since + 1:
        raise ResyncRequired(conversation_id=conversation_id, oldest_seq=rows[0].seq)
    has_more = len(rows) > limit
    rows = rows[:limit]
    message_ids = sorted({e.message_id for e in rows if e.message_id and e.type in events.MESSAGE_EVENTS})
    messages = message_json_by_id(message_ids)
    frames = []
    for event in rows:
        message = messages.get(event.message_id) if event.message_id else None
        if event.type in events.MESSAGE_EVENTS and message is None:
            continue  # unreachable while messages are only soft-deleted; never replay a stub
        frames.append(events.durable_frame(event, message=message))
    return EventPage(frames, has_more)
