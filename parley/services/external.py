"""Conversations the host's backend opens for its users (the server API).

Only the host's ids come in; they are resolved to users and the ordinary services do
the rest (parley.services.conversations), so a conversation opened here is the same,
with the same events, as one a user starts.
"""

from __future__ import annotations

from dataclasses import dataclass

from parley.common.errors import InvalidInput
from parley.conf import parley_settings
from parley.identities import clean_external_id, users_by_external_id
from parley.models import Conversation
from parley.services.conversations import conversation_create_group, conversation_start_direct

OPEN_FIELDS = ("users", "title", "admin")


@dataclass(frozen=True)
class Opened:
    conversation: Conversation
    created: bool
    external_ids: list[str]  # the members, admin first for a group
    admin: str | None


def conversation_open(*, data: object) -> Opened:
    """`{"users": [a, b]}`: the direct conversation of a and b (created on first use,
    whichever order they come in). `{"users": [...], "title": ..., "admin": x}`: a new
    group of those users with x (added if not listed) as its admin."""
    if not isinstance(data, dict):
        raise InvalidInput("The request body must be a JSON object.", code="invalid_body")
    unknown = sorted(set(data) - set(OPEN_FIELDS))
    if unknown:
        raise InvalidInput(f"Unknown field(s): {', '.join(map(str, unknown))}.", code="unknown_field")
    ids = _clean_ids(data.get("users"))
    if "title" not in data and "admin" not in data:
        return _direct(ids)
    if data.get("admin") is None:
        raise InvalidInput("A group needs an admin (an external id).", field="admin", code="required")
    admin = clean_external_id(data["admin"], field="admin")
    return _group(ids, admin=admin, title=data.get("title"))


def _clean_ids(value: object) -> list[str]:
    if value is None:
        raise InvalidInput("This field is required.", field="users", code="required")
    if not isinstance(value, list):
        raise InvalidInput("Must be a list of external ids.", field="users", code="invalid_type")
    if len(value) > parley_settings.MAX_GROUP_MEMBERS:
        raise InvalidInput(
            f"A group has at most {parley_settings.MAX_GROUP_MEMBERS} members.", field="users", code="group_full"
        )
    ids = [clean_external_id(v, field="users") for v in value]
    return list(dict.fromkeys(ids))


def _direct(ids: list[str]) -> Opened:
    if len(ids) != 2:
        raise InvalidInput(
            "A direct conversation takes exactly two different users; add a title and an admin for a group.",
            field="users",
            code="direct_needs_two",
        )
    users = users_by_external_id(ids, field="users")
    conversation, created = conversation_start_direct(user=users[ids[0]], other_user_id=users[ids[1]].pk)
    return Opened(conversation=conversation, created=created, external_ids=ids, admin=None)


def _group(ids: list[str], *, admin: str, title: object) -> Opened:
    members = [admin, *(i for i in ids if i != admin)]
    if len(members) > parley_settings.MAX_GROUP_MEMBERS:
        raise InvalidInput(
            f"A group has at most {parley_settings.MAX_GROUP_MEMBERS} members.", field="users", code="group_full"
        )
    users = {**users_by_external_id([admin], field="admin"), **users_by_external_id(members[1:], field="users")}
    conversation = conversation_create_group(
        creator=users[admin], title=title, participant_ids=[users[i].pk for i in members[1:]]
    )
    return Opened(conversation=conversation, created=True, external_ids=members, admin=admin)
