"""Parley's models, by topic: conversations, memberships, messages and events (the core),
SPEC 10's message features, SPEC 11's safety, SPEC 12's notifications.

Every change a client must see appends an Event whose `seq` is the conversation's
`last_seq` plus one, written in the same transaction as the change while the
conversation row is locked (parley.services.sequencing). `seq` therefore grows by
exactly one per event, with no gaps, in commit order.
"""

from parley.models.conversations import (
    Conversation,
    Event,
    ExternalIdentity,
    Membership,
    Message,
    attachment_upload_to,
)
from parley.models.features import MessageEdit, MessageMention, Reaction
from parley.models.notifications import (
    OutboxEntry,
    PendingPush,
    PushSubscription,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from parley.models.safety import Block, Report

__all__ = [
    "Block",
    "Conversation",
    "Event",
    "ExternalIdentity",
    "Membership",
    "Message",
    "MessageEdit",
    "MessageMention",
    "OutboxEntry",
    "PendingPush",
    "PushSubscription",
    "Reaction",
    "Report",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
    "attachment_upload_to",
]
