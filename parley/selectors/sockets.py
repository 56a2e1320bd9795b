"""Reads an open socket needs (parley.realtime.commands), each one query whatever the
number of conversations (tests/test_perf_guards.py counts a connect's statements)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection

from parley.models import Conversation, Membership, Message
from parley.users import display_name, wire_id

# The handshake's reads are fixed SQL: compiling their querysets was a fifth of a
# connect's CPU (bench/README.md, "Third round"). Table names are our own; every value
# is a parameter. User ids go through the user field's own conversions, so that a
# UUID key (examples/host) is stored and read as its database holds it.
_MEMBERSHIP = Membership._meta.db_table
_CONVERSATION = Conversation._meta.db_table
_USER_FIELD = Membership._meta.get_field("user").target_field


def _user_param(user_id: Any) -> Any:
    return _USER_FIELD.get_db_prep_value(_USER_FIELD.to_python(user_id), connection)


def _in(values: Collection[int]) -> tuple[str, list[int]]:
    ids = [int(v) for v in values]
    return ("(" + ",".join(["%s"] * len(ids)) + ")" if ids else "(NULL)"), ids


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def memberships_with_size(*, user_id: Any) -> list[tuple[int, int]]:
    """`(conversation id, member count)` of every conversation of the user."""
    sql = (
        f"SELECT m.conversation_id, (SELECT COUNT(*) FROM {_MEMBERSHIP} s WHERE s.conversation_id = m.conversation_id)"  # noqa: S608
        f" FROM {_MEMBERSHIP} m WHERE m.user_id = %s"
    )
    return [(int(cid), int(size or 0)) for cid, size in _rows(sql, [_user_param(user_id)])]


def small_conversations_of(*, user_ids: Collection[Any], max_members: int) -> dict[Any, list[int]]:
    """The conversations of at most `max_members` members of each of `user_ids` (where
    their presence is shared), in one query; keyed by the ids as given."""
    by_param = {_user_param(u): u for u in user_ids}
    if not by_param:
        return {}
    placeholders = ",".join(["%s"] * len(by_param))
    sql = (
        f"SELECT m.user_id, m.conversation_id FROM {_MEMBERSHIP} m WHERE m.user_id IN ({placeholders})"  # noqa: S608
        f" AND (SELECT COUNT(*) FROM {_MEMBERSHIP} s WHERE s.conversation_id = m.conversation_id) <= %s"
        " ORDER BY m.conversation_id"
    )
    found: dict[Any, list[int]] = {u: [] for u in user_ids}
    for user, cid in _rows(sql, [*by_param, max_members]):
        found[by_param[_user_param(user)]].append(int(cid))
    return found


def member_conversation_seqs(*, user_id: Any, conversation_ids: Collection[int] | None = None) -> dict[int, int]:
    """The last seq of each conversation the user is a member of now (of `conversation_ids`
    only, when given)."""
    sql = (
        f"SELECT m.conversation_id, c.last_seq FROM {_MEMBERSHIP} m"  # noqa: S608
        f" JOIN {_CONVERSATION} c ON c.id = m.conversation_id WHERE m.user_id = %s"
    )
    params: list[Any] = [_user_param(user_id)]
    if conversation_ids is not None:
        placeholders, ids = _in(conversation_ids)
        sql += f" AND m.conversation_id IN {placeholders}"
        params += ids
    return {int(cid): int(seq) for cid, seq in _rows(sql, params)}


def conversation_last_seqs(*, conversation_ids: Collection[int]) -> dict[int, int]:
    return dict(Conversation.objects.filter(pk__in=conversation_ids).values_list("id", "last_seq"))


def co_members(*, user_id: Any, conversation_ids: Collection[int], limit: int = 1000) -> list[Any]:
    """Distinct other members of the user's conversations (for the presence snapshot)."""
    if not conversation_ids:
        return []
    placeholders, ids = _in(conversation_ids)
    sql = (
        f"SELECT DISTINCT user_id FROM {_MEMBERSHIP} WHERE conversation_id IN {placeholders}"  # noqa: S608
        " AND user_id <> %s ORDER BY user_id LIMIT %s"
    )
    return [_USER_FIELD.to_python(row[0]) for row in _rows(sql, [*ids, _user_param(user_id), limit])]


def message_senders(*, message_ids: Collection[int]) -> dict[int, Any]:
    """The sender (wire id) of each message; None for an unknown message or a deleted sender."""
    senders: dict[int, Any] = dict.fromkeys(message_ids)
    rows = Message.objects.filter(pk__in=message_ids).values_list("pk", "sender_id")
    senders.update((pk, wire_id(sender)) for pk, sender in rows)
    return senders


def display_names_by_wire_id(*, user_ids: Collection[Any] = (), members_of: int | None = None) -> dict[Any, str | None]:
    """Display names (PARLEY["DISPLAY_NAME"]) keyed by wire id: of `user_ids` (None for a
    user who no longer exists) and of every member of `members_of`."""
    people = get_user_model()._default_manager
    names: dict[Any, str | None] = dict.fromkeys(user_ids)
    if members_of is not None:
        names.update(
            (wire_id(user.pk), display_name(user)) for user in people.filter(memberships__conversation_id=members_of)
        )
    missing = [u for u in user_ids if names.get(u) is None]
    if missing:
        names.update((wire_id(user.pk), display_name(user)) for user in people.filter(pk__in=missing))
    return names
