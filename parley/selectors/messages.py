"""Reads of messages: live ones, visible to a member, pages of them.

A page of a queryset is one query at any depth (keyset on the id), two in page mode (the
seed's `count`), plus, when the page needs them, one statement for the parents' quotes,
one for the reader's own reactions (`me`) and one for the reader's blocks
(parley.representations.message_rows_json). A conversation's own history is read in one
statement instead (parley.selectors.history). Both are a `MessageSource` to the API's
pagination.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.expressions import RawSQL

from parley import access
from parley.models import Message
from parley.representations import message_rows_json, message_values
from parley.selectors.blocks import blocked_ids, flag_blocked_senders


def live_messages(*, conversation_id: int) -> QuerySet[Message]:
    return Message.objects.filter(conversation_id=conversation_id, is_deleted=False)


def messages_visible_to(*, user_id: int, conversation_id: int | None = None) -> QuerySet[Message]:
    """Live messages of the conversations the user belongs to."""
    messages = Message.objects.filter(is_deleted=False)
    if conversation_id is not None:
        messages = messages.filter(conversation_id=conversation_id)
    return messages.filter(Exists(access.member_rows(conversation_id=OuterRef("conversation_id"), user_id=user_id)))


@dataclass(frozen=True)
class KeysetPage:
    results: list[dict[str, Any]]
    has_older: bool
    has_newer: bool


def message_keyset_page(
    messages: QuerySet[Message], *, before: int | None, after: int | None, limit: int, viewer_id: Any = None
) -> KeysetPage:
    """Up to `limit` messages next to a message id, oldest first, without counting.

    No cursor: the newest page. `before`: the messages just older than that id.
    `after`: the messages just newer. One index range scan at any depth.
    """
    if after is not None:
        rows = list(message_values(messages.filter(id__gt=after).order_by("id"))[: limit + 1])
        has_more = len(rows) > limit
        rows = rows[:limit]
        return KeysetPage(message_rows_json(rows, viewer_id=viewer_id), has_older=after > 0, has_newer=has_more)
    if before is not None:
        messages = messages.filter(id__lt=before)
    rows = list(message_values(messages.order_by("-id"))[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    rows.reverse()
    return KeysetPage(message_rows_json(rows, viewer_id=viewer_id), has_older=has_more, has_newer=before is not None)


def message_offset_page(
    messages: QuerySet[Message], *, offset: int, limit: int, viewer_id: Any = None
) -> list[dict[str, Any]]:
    return message_rows_json(message_values(messages.order_by("id"))[offset : offset + limit], viewer_id=viewer_id)


class MessageSource(Protocol):
    """What the API pages through: the messages' count, a keyset page, an offset page,
    each message's JSON as the reader sees it (`me`, `sender_blocked`)."""

    def count(self) -> int: ...

    def keyset_page(self, *, before: int | None, after: int | None, limit: int) -> KeysetPage: ...

    def offset_page(self, *, offset: int, limit: int) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class QuerySetMessages:
    """Any queryset of messages, as `viewer_id` reads them."""

    messages: QuerySet[Message]
    viewer_id: Any

    def count(self) -> int:
        return self.messages.count()

    def keyset_page(self, *, before: int | None, after: int | None, limit: int) -> KeysetPage:
        page = message_keyset_page(self.messages, before=before, after=after, limit=limit, viewer_id=self.viewer_id)
        flag_blocked_senders(page.results, blocked=blocked_ids(user_id=self.viewer_id))
        return page

    def offset_page(self, *, offset: int, limit: int) -> list[dict[str, Any]]:
        results = message_offset_page(self.messages, offset=offset, limit=limit, viewer_id=self.viewer_id)
        flag_blocked_senders(results, blocked=blocked_ids(user_id=self.viewer_id))
        return results


def message_json_by_id(ids: list[int], *, viewer_id: Any = None) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    if connection.vendor == "postgresql":
        # One array parameter instead of an IN list of hundreds: Django prepares and
        # psycopg parses every placeholder of such a list (bench S3: 10 % of a page).
        wanted = Message.objects.filter(id__in=RawSQL("SELECT unnest(%s::bigint[])", (list(ids),)))
    else:
        wanted = Message.objects.filter(id__in=ids)
    return {m["id"]: m for m in message_rows_json(message_values(wanted), viewer_id=viewer_id)}
