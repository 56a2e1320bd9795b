"""Retention: what may be deleted, without breaking catch-up.

    events_prune       events older than a cutoff, except each conversation's latest
    messages_expire    messages older than PARLEY["MESSAGE_RETENTION_DAYS"], their files
                       and their events; unread counters recounted
    attachments_orphaned  files in attachment storage no message names (any backend:
                       it walks `listdir`, so S3 works as the filesystem does)

Catch-up stays correct because the Event table keeps its tail: every conversation
keeps at least its latest event, so a client whose `since` is older than the oldest
kept event finds the first event after `since` missing, and gets `resync_required`
(REST 410, socket `error` frame; selectors.events_after) instead of a silent gap.
A client with a recent `since` is served as before.

Each function deletes in batches of `batch_size` rows, one short transaction each, so
that a first run on a large table never holds locks for long.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from parley.models import Event, Membership, Message
from parley.storage import attachment_storage

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000


def events_prune(*, older_than: datetime, batch_size: int = BATCH_SIZE, dry_run: bool = False) -> int:
    """Delete events created before `older_than`, keeping each conversation's latest."""
    prunable = Event.objects.filter(created_at__lt=older_than).exclude(seq=F("conversation__last_seq"))
    if dry_run:
        return prunable.count()
    deleted = 0
    while ids := list(prunable.order_by("id").values_list("id", flat=True)[:batch_size]):
        deleted += Event.objects.filter(id__in=ids).delete()[0]
    return deleted


@dataclass
class Expired:
    messages: int = 0
    files: int = 0
    events: int = 0
    conversations: set[int] = field(default_factory=set)


def messages_expire(*, older_than: datetime, batch_size: int = BATCH_SIZE, dry_run: bool = False) -> Expired:
    """Delete messages sent before `older_than` (for good: content, file, row), then
    the events up to the same time, so that a client asking to replay them is told
    to reload; recount the unread counters of the conversations they were in."""
    result = Expired()
    old = Message.objects.filter(timestamp__lt=older_than)
    if dry_run:
        result.messages = old.count()
        result.files = old.exclude(attachment="").count()
        result.events = events_prune(older_than=older_than, dry_run=True)
        return result
    while rows := list(old.order_by("id").values_list("id", "conversation_id", "attachment")[:batch_size]):
        files = [name for _, _, name in rows if name]
        with transaction.atomic():
            Message.objects.filter(id__in=[pk for pk, _, _ in rows]).delete()
            # Files go only once the rows are gone for good.
            transaction.on_commit(lambda files=files: _delete_files(files))  # type: ignore[misc]
        result.messages += len(rows)
        result.files += len(files)
        result.conversations.update(cid for _, cid, _ in rows)
    result.events = events_prune(older_than=older_than, batch_size=batch_size)
    for cid in sorted(result.conversations):
        _recount_unread(cid)
    return result


def _recount_unread(conversation_id: int) -> None:
    unread = (
        Message.objects.filter(
            conversation_id=conversation_id, is_deleted=False, id__gt=OuterRef("last_read_message_id")
        )
        .filter(~Q(sender_id=OuterRef("user_id")) | Q(sender__isnull=True))
        .order_by()
        .values("conversation_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    Membership.objects.filter(conversation_id=conversation_id).update(unread_count=Coalesce(Subquery(unread), Value(0)))


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            attachment_storage.delete(name)
        except Exception:  # noqa: BLE001 - the orphan sweep retries what is left
            logger.warning("could not delete attachment file %s", name)


def attachment_names(directory: str = "") -> Iterator[str]:
    """Every file name under `directory` of attachment storage, by `listdir` (so
    object storage is walked as a filesystem is: its key prefixes are directories)."""
    directories, files = attachment_storage.listdir(directory)
    for name in files:
        yield f"{directory}/{name}" if directory else name
    for sub in directories:
        yield from attachment_names(f"{directory}/{sub}" if directory else sub)


def attachments_orphaned(*, min_age_seconds: int, dry_run: bool = False) -> int:
    """Delete files no message refers to and older than `min_age_seconds` (a younger
    one may belong to a send whose transaction is still running)."""
    referenced = set(Message.objects.exclude(attachment="").values_list("attachment", flat=True))
    cutoff = time.time() - min_age_seconds
    removed = 0
    for name in attachment_names():
        if name in referenced:
            continue
        if min_age_seconds > 0 and attachment_storage.get_modified_time(name).timestamp() > cutoff:
            continue
        removed += 1
        if not dry_run:
            attachment_storage.delete(name)
    return removed
