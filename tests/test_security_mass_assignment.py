"""Mass assignment: protected fields sent by every actor through every write change nothing.

Each write (REST POST/PUT/PATCH, multipart and JSON, and the WebSocket commands) is
sent with every protected field of its object set to a forged value that nothing else
would ever produce. After the write, each protected field is compared with what the
server alone decides; a field that took the forged value, or moved where the server
would not have moved it, is a change. Figure: attempts, changes (0).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import transaction
from django.utils import timezone

from parley.models import Conversation, Membership, Message
from server.accounts.models import User
from tests.conftest import PASSWORD, Api
from tests.figures import record
from tests.security_world import USER_ACTORS, World, build_world
from tests.ws import Socket

C, M = "/api/chat/conversations/", "/api/chat/messages/"
FORGED_TIME = "2001-02-03T04:05:06Z"
FORGED_DT = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)
FORGED_ID = 424_242


def forged_message_fields(w: World) -> dict[str, Any]:
    return {
        "id": FORGED_ID,
        "sender": w.users["carol"].pk,
        "sender_name": "forged",
        "conversation": w.conversations["F"],
        "seq": 999_999,
        "timestamp": FORGED_TIME,
        "is_deleted": True,
        "deleted_at": FORGED_TIME,
        "is_read": True,
        "read_at": FORGED_TIME,
        "edited_at": FORGED_TIME,
        "attachment_name": "forged.html",
        "attachment_size": 1,
        "attachment_type": "text/html",
    }


def forged_conversation_fields(w: World) -> dict[str, Any]:
    return {
        "id": FORGED_ID,
        "kind": "direct",
        "participants": [w.users["carol"].pk, w.users["gus"].pk],
        "members": [{"id": w.users["carol"].pk, "role": "admin"}],
        "messages": [{"content": "forged"}],
        "last_message": None,
        "unread_count": 99,
        "last_read_message_id": 999_999,
        "last_seq": 999_999,
        "created_at": FORGED_TIME,
        "updated_at": FORGED_TIME,
        "created_by": w.users["carol"].pk,
        "direct_key": "1:2",
        "role": "admin",
    }


class Tally:
    def __init__(self) -> None:
        self.attempts = 0
        self.changes: list[str] = []

    def check(self, label: str, field: str, ok: bool) -> None:
        self.attempts += 1
        if not ok:
            self.changes.append(f"{label}: {field}")


def message_row(message_id: int) -> dict[str, Any]:
    return Message.objects.filter(pk=message_id).values().first() or {}


def check_new_message(tally: Tally, label: str, row: dict[str, Any], *, sender: User, conversation_id: int) -> None:
    recent = (timezone.now() - row["timestamp"]).total_seconds() < 60
    tally.check(label, "id", row["id"] != FORGED_ID)
    tally.check(label, "sender", row["sender_id"] == sender.pk)
    tally.check(label, "conversation", row["conversation_id"] == conversation_id)
    tally.check(
        label, "seq", row["seq"] != 999_999 and row["seq"] == Conversation.objects.get(pk=conversation_id).last_seq
    )
    tally.check(label, "timestamp", recent)
    tally.check(label, "is_deleted", row["is_deleted"] is False and row["deleted_at"] is None)
    tally.check(label, "is_read", row["is_read"] is False and row["read_at"] is None)
    tally.check(label, "edited_at", row["edited_at"] is None)
    tally.check(label, "attachment", row["attachment"] == "" and row["attachment_name"] == "")
    tally.check(label, "attachment_size/type", row["attachment_size"] is None and row["attachment_type"] == "")


def check_unchanged(tally: Tally, label: str, before: dict[str, Any], after: dict[str, Any], fields: list[str]) -> None:
    for field in fields:
        tally.check(label, field, before.get(field) == after.get(field))


def others_pointers(user: User) -> list[tuple[int, int]]:
    return list(Membership.objects.exclude(user=user).values_list("id", "last_read_message_id"))


def conversation_state(conversation_id: int) -> dict[str, Any]:
    row = Conversation.objects.filter(pk=conversation_id).values().first() or {}
    row["members"] = sorted(
        Membership.objects.filter(conversation_id=conversation_id).values_list("user_id", "role", "unread_count")
    )
    return row


@pytest.fixture
def world(make_user, settings) -> World:
    settings.PARLEY = {**settings.PARLEY, "RATE_LIMITS_ENABLED": False}
    return build_world(make_user)


def test_rest_writes_ignore_protected_fields(world: World) -> None:
    w = world
    tally = Tally()
    msg_forged = forged_message_fields(w)
    conv_forged = forged_conversation_fields(w)
    group = w.conversations["G"]

    def in_savepoint(work: Callable[[], None]) -> None:
        with transaction.atomic():
            work()
            transaction.set_rollback(True)

    for actor in USER_ACTORS:
        user = w.actor_user(actor)
        assert user is not None
        client = Api(w.tokens[actor])
        member = w.member(user, group)
        label = f"{actor}"

        def send_json(user: User = user, client: Api = client, member: bool = member, label: str = label) -> None:
            count = Message.objects.count()
            response = client.post(f"{C}{group}/send_message/", json={**msg_forged, "content": "mass"})
            if not member:
                tally.check(f"{label} send-json", "refused", response.status_code == 403)
                tally.check(f"{label} send-json", "rows", Message.objects.count() == count)
                return
            assert response.status_code == 201, response.text
            check_new_message(
                tally, f"{label} send-json", message_row(response.json()["id"]), sender=user, conversation_id=group
            )

        def send_form(user: User = user, client: Api = client, member: bool = member, label: str = label) -> None:
            form = {k: str(v) for k, v in msg_forged.items()}
            response = client.post(
                f"{C}{group}/send_message/",
                data={**form, "content": "mass"},
                files={"attachment": ("ok.txt", b"data", "text/plain")},
            )
            if not member:
                tally.check(f"{label} send-form", "refused", response.status_code == 403)
                return
            assert response.status_code == 201, response.text
            row = message_row(response.json()["id"])
            tally.check(f"{label} send-form", "attachment_name", row["attachment_name"] == "ok.txt")
            tally.check(f"{label} send-form", "attachment_type", row["attachment_type"] == "application/octet-stream")
            tally.check(f"{label} send-form", "attachment_size", row["attachment_size"] == 4)
            tally.check(f"{label} send-form", "sender", row["sender_id"] == user.pk)
            tally.check(f"{label} send-form", "conversation", row["conversation_id"] == group)
            tally.check(f"{label} send-form", "id", row["id"] != FORGED_ID)
            tally.check(
                f"{label} send-form",
                "timestamp/is_deleted/is_read",
                row["is_deleted"] is False and row["is_read"] is False and row["timestamp"] != FORGED_DT,
            )

        def edit(method: str, path: str, user: User = user, client: Api = client, label: str = label) -> None:
            own = w.messages["mA"] if user == w.users["alice"] else w.messages["mB"]
            before = message_row(own)
            response = client.request(method, f"{M}{own}/{path}/", json={**msg_forged, "content": "edited by mass"})
            after = message_row(own)
            tally.check(f"{label} {path}", "status", response.status_code in (200, 404))
            fields = ["id", "sender_id", "conversation_id", "seq", "timestamp", "is_deleted", "deleted_at", "is_read"]
            fields += ["read_at", "attachment", "attachment_name", "attachment_size", "attachment_type", "client_id"]
            check_unchanged(tally, f"{label} {path}", before, after, fields)
            tally.check(f"{label} {path}", "edited_at", after.get("edited_at") != FORGED_DT)

        def update(method: str, client: Api = client, label: str = label) -> None:
            for cid in (group, w.conversations["D"]):
                before = conversation_state(cid)
                client.request(method, f"{C}{cid}/", json=conv_forged)
                after = conversation_state(cid)
                fields = ["id", "kind", "direct_key", "created_by_id", "created_at", "updated_at", "last_seq"]
                fields += ["last_message_id", "title", "members"]
                check_unchanged(tally, f"{label} {method} {cid}", before, after, fields)

        def create(user: User = user, client: Api = client, label: str = label) -> None:
            response = client.post(C, json={**conv_forged, "participants": [w.users["gus"].pk], "title": "mine"})
            assert response.status_code == 201, response.text
            state = conversation_state(response.json()["id"])
            tally.check(f"{label} create", "id", state["id"] != FORGED_ID)
            tally.check(f"{label} create", "kind", state["kind"] == "group")
            tally.check(f"{label} create", "created_by", state["created_by_id"] == user.pk)
            tally.check(f"{label} create", "last_seq", state["last_seq"] == 0)
            tally.check(f"{label} create", "created_at", state["created_at"] != FORGED_DT)
            tally.check(f"{label} create", "direct_key", state["direct_key"] is None)
            wanted = sorted({(user.pk, "admin", 0), (w.users["gus"].pk, "member", 0)})
            tally.check(f"{label} create", "members/roles/unread", state["members"] == wanted)

        def start(user: User = user, client: Api = client, label: str = label) -> None:
            other = w.users["gus"]
            response = client.post(f"{C}start/", json={**conv_forged, "user2": other.pk, "title": "forged"})
            assert response.status_code in (200, 201), response.text
            state = conversation_state(response.json()["id"])
            tally.check(f"{label} start", "kind", state["kind"] == "direct")
            tally.check(f"{label} start", "title", state["title"] == "")
            tally.check(
                f"{label} start", "members", sorted(m[0] for m in state["members"]) == sorted([user.pk, other.pk])
            )

        def add(client: Api = client, member: bool = member, label: str = label) -> None:
            before = conversation_state(group)
            client.post(
                f"{C}{group}/add_participants/",
                json={"participants": [w.users["gus"].pk], "role": "admin", "kind": "direct"},
            )
            after = conversation_state(group)
            roles = {uid: role for uid, role, _ in after["members"]}
            tally.check(f"{label} add", "role", roles.get(w.users["gus"].pk, "member") == "member")
            tally.check(f"{label} add", "kind", after["kind"] == before["kind"])
            if not member:
                tally.check(f"{label} add", "members", after["members"] == before["members"])

        def mark_read(user: User = user, client: Api = client, label: str = label) -> None:
            target = w.messages["mA"]
            others = list(Membership.objects.exclude(user=user).values_list("id", "last_read_message_id"))
            before = message_row(target)
            client.post(
                f"{M}{target}/mark_read/",
                json={
                    "user": w.users["bob"].pk,
                    "last_read_message_id": 999_999,
                    "read_at": FORGED_TIME,
                    "is_read": True,
                },
            )
            after = message_row(target)
            tally.check(
                f"{label} mark_read",
                "others' pointers",
                others == list(Membership.objects.exclude(user=user).values_list("id", "last_read_message_id")),
            )
            tally.check(
                f"{label} mark_read",
                "own pointer",
                not Membership.objects.filter(user=user, last_read_message_id=999_999).exists(),
            )
            tally.check(
                f"{label} mark_read",
                "read_at",
                after.get("read_at") != FORGED_DT and before.get("content") == after.get("content"),
            )

        for work in (
            send_json,
            send_form,
            lambda: edit("POST", "edit_message"),
            lambda: edit("PATCH", "edit"),
            lambda: update("PUT"),
            lambda: update("PATCH"),
            create,
            start,
            add,
            mark_read,
        ):
            in_savepoint(work)

    # Registration: account flags are never the caller's to set.
    def register() -> None:
        response = Api().post(
            "/api/auth/register/",
            json={
                "username": "mass_newcomer",
                "password": PASSWORD,
                "id": FORGED_ID,
                "is_staff": True,
                "is_superuser": True,
                "is_active": False,
                "date_joined": FORGED_TIME,
                "last_login": FORGED_TIME,
                "groups": [1],
                "user_permissions": [1],
            },
        )
        assert response.status_code == 201, response.text
        user = User.objects.get(username="mass_newcomer")
        for field, ok in {
            "id": user.pk != FORGED_ID,
            "is_staff": not user.is_staff,
            "is_superuser": not user.is_superuser,
            "is_active": user.is_active,
            "date_joined": user.date_joined != FORGED_DT,
            "last_login": user.last_login is None,
            "groups": not user.groups.exists(),
            "user_permissions": not user.user_permissions.exists(),
        }.items():
            tally.check("register", field, ok)

    in_savepoint(register)
    record("mass_assignment_rest", attempts=tally.attempts, changes=len(tally.changes))
    assert tally.changes == [], tally.changes
    assert tally.attempts > 300


@pytest.mark.django_db(transaction=True)
async def test_websocket_commands_ignore_protected_fields(make_user, settings) -> None:
    settings.PARLEY = {**settings.PARLEY, "RATE_LIMITS_ENABLED": False}
    w: World = await database_sync_to_async(build_world)(make_user)
    tally = Tally()
    forged = forged_message_fields(w)
    group = w.conversations["G"]
    refs = itertools.count(1)
    for actor in ("owner", "other"):
        user = w.actor_user(actor)
        assert user is not None
        for path in (f"/ws/chat/{group}/", "/ws/chat/"):
            sock = Socket(f"{path}?token={w.tokens[actor]}")
            await sock.open()
            ref = next(refs)
            await sock.send({**forged, "type": "message.send", "content": "ws mass", "conversation": group, "ref": ref})
            ack = await sock.receive_until("ack")
            row = await database_sync_to_async(message_row)(ack["message"]["id"])
            await database_sync_to_async(check_new_message)(
                tally, f"{actor} ws send", row, sender=user, conversation_id=group
            )

            own = ack["message"]["id"]
            before = await database_sync_to_async(message_row)(own)
            await sock.send(
                {**forged, "type": "message.edit", "message_id": own, "content": "ws edit", "conversation": group}
            )
            await sock.receive_until("ack")
            after = await database_sync_to_async(message_row)(own)
            fields = ["id", "sender_id", "conversation_id", "seq", "timestamp", "is_deleted", "is_read", "read_at"]
            check_unchanged(tally, f"{actor} ws edit", before, after, fields)
            tally.check(f"{actor} ws edit", "edited_at", after["edited_at"] != FORGED_DT)

            pointers = await database_sync_to_async(others_pointers)(user)
            await sock.send(
                {
                    "type": "message.read",
                    "message_id": w.messages["mA"],
                    "conversation": group,
                    "user": w.users["carol"].pk,
                }
            )
            await sock.receive_until("ack")
            now = await database_sync_to_async(others_pointers)(user)
            tally.check(f"{actor} ws read", "others' pointers", now == pointers)
            await sock.close()
    record("mass_assignment_ws", attempts=tally.attempts, changes=len(tally.changes))
    assert tally.changes == [], tally.changes
