"""One membership rule (parley.access), whichever path asks.

The rule has an ORM form (`access.member_rows`, behind `membership_access` with and
without `lock=True`, `user_is_member`, the write lock of the services) and an SQL form
(`access.MEMBER_SQL`, inside the send path's fixed statement). Each case below is fed
to every path, down to REST; all must give the same verdict:

    member           allowed
    not_participant  403: the conversation exists, the user is not in it
    not_found        404: no such conversation
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from parley import access
from parley.common.errors import AppError
from parley.services import sending
from parley.services.conversations import conversation_create_group, conversation_delete, conversation_start_direct
from parley.services.members import member_leave, member_remove
from parley.services.messages import message_send
from parley.services.sequencing import conversation_write
from parley.users import user_db_value

pytestmark = pytest.mark.django_db(transaction=True)

MISSING = 987_654


@pytest.fixture
def world(make_user: Callable[..., Any]) -> dict[str, tuple[Any, int, str]]:
    """Each case: (user, conversation id, the verdict the rule gives)."""
    admin, member, removed, left, stranger, hider, idle = (
        make_user(name) for name in ("admin", "member", "removed", "left", "stranger", "hider", "idle")
    )
    group = conversation_create_group(
        creator=admin, title="g", participant_ids=[member.pk, removed.pk, left.pk, idle.pk]
    ).pk
    member_remove(actor=admin, conversation_id=group, user_id=removed.pk)
    member_leave(user=left, conversation_id=group)
    idle.is_active = False  # deactivated: still a member; authentication refuses them first
    idle.save()
    conversation_start_direct(user=stranger, other_user_id=admin.pk)  # a stranger to the group only
    direct, _ = conversation_start_direct(user=hider, other_user_id=admin.pk)
    conversation_delete(user=hider, conversation_id=direct.pk)  # hidden, still a member
    doomed = conversation_create_group(creator=admin, title="doomed", participant_ids=[member.pk]).pk
    conversation_delete(user=admin, conversation_id=doomed)
    return {
        "admin": (admin, group, "member"),
        "member": (member, group, "member"),
        "deactivated member": (idle, group, "member"),
        "hidden direct": (hider, direct.pk, "member"),
        "removed member": (removed, group, "not_participant"),
        "left member": (left, group, "not_participant"),
        "stranger": (stranger, group, "not_participant"),
        "missing conversation": (member, MISSING, "not_found"),
        "deleted conversation": (member, doomed, "not_found"),
    }


def verdict(call: Callable[[], Any]) -> str:
    try:
        call()
    except AppError as refused:
        return refused.code
    return "member"


def exists(conversation_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM parley_conversation WHERE id = %s", [conversation_id])
        return cursor.fetchone() is not None


def sql_form(user: Any, conversation_id: int) -> str:
    """MEMBER_SQL on its own, with the same refusal."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {access.MEMBER_SQL}", {"conversation": conversation_id, "user": user_db_value(user.pk)})
        (is_member,) = cursor.fetchone()
    if is_member:
        return "member"
    return access.membership_refusal(conversation_exists=exists(conversation_id)).code


def send_gate(user: Any, conversation_id: int) -> str:
    """The fixed SQL of the send path (parley.services.sending), unchanged."""
    try:
        sending.message_rows_insert(
            conversation_id=conversation_id,
            sender_id=user.pk,
            content="probe",
            now=timezone.now(),
            client_id=None,
            stored=None,
        )
    except sending.Refused as refused:
        assert not refused.is_duplicate
        return access.membership_refusal(conversation_exists=refused.conversation_exists).code
    return "member"


def locked(user: Any, conversation_id: int) -> None:
    with transaction.atomic():
        access.membership_access(user=user, conversation_id=conversation_id, lock=True)


def write_lock(user: Any, conversation_id: int) -> None:
    with conversation_write(conversation_id, member=user):
        pass


def boolean_form(user: Any, conversation_id: int) -> str:
    if access.user_is_member(user_id=user.pk, conversation_id=conversation_id):
        return "member"
    return access.membership_refusal(conversation_exists=exists(conversation_id)).code


CASES = [
    "admin",
    "member",
    "deactivated member",
    "hidden direct",
    "removed member",
    "left member",
    "stranger",
    "missing conversation",
    "deleted conversation",
]


@pytest.mark.parametrize("case", CASES)
def test_every_path_gives_the_same_verdict(world: dict[str, tuple[Any, int, str]], case: str, api: Any) -> None:
    user, cid, expected = world[case]
    got = {
        "membership_access": verdict(lambda: access.membership_access(user=user, conversation_id=cid)),
        "membership_access(lock=True)": verdict(lambda: locked(user, cid)),
        "conversation_write(member=)": verdict(lambda: write_lock(user, cid)),
        "user_is_member": boolean_form(user, cid),
        "MEMBER_SQL": sql_form(user, cid),
        "send path (fixed SQL)": send_gate(user, cid),
        "message_send": verdict(lambda: message_send(sender=user, conversation_id=cid, content="hi")),
    }
    if user.is_active:  # REST refuses a deactivated user's token before any rule (401)
        client = api(user)
        status = {200: "member", 201: "member", 403: "not_participant", 404: "not_found"}
        got["REST GET conversation"] = status[client.get(f"/api/chat/conversations/{cid}/").status_code]
        got["REST send_message"] = status[
            client.post(f"/api/chat/conversations/{cid}/send_message/", json={"content": "x"}).status_code
        ]
    assert got == dict.fromkeys(got, expected)
