"""A password change, logout, deactivation or removal cuts live access within a second.

Each case opens the affected user's sockets (the user socket and a conversation
socket), performs the action over REST (or, for deactivation, as an admin or a shell
would: saving the user), and measures the time from the start of the action to the
close frame of every socket; REST with the old token is refused right after. The same over
two processes and Redis is in tests/test_security_slow.py.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from channels.db import database_sync_to_async

from parley.services.conversations import conversation_create_group
from parley.services.messages import message_send
from server.accounts.models import User
from server.accounts.tokens import token_pair_for_user
from tests.conftest import PASSWORD, Api
from tests.figures import record
from tests.ws import Socket

pytestmark = pytest.mark.django_db(transaction=True)
db = database_sync_to_async
LIMIT_SECONDS = 1.0


async def open_sockets(token: str, group_id: int) -> list[Socket]:
    sockets = [Socket.for_user(token), Socket.for_user(token, group_id)]
    for sock in sockets:
        await sock.open()
        await sock.drain(0.05)
    return sockets


async def seconds_until_closed(sockets: list[Socket], started: float, expected_code: int) -> float:
    slowest = 0.0
    for sock in sockets:
        code = await sock.closed_with(timeout=3)
        assert code == expected_code, code
        slowest = max(slowest, time.monotonic() - started)
    return slowest


async def test_revocations_cut_live_access_within_a_second(make_user: Any) -> None:
    alice: User = await db(make_user)("alice")
    users = [await db(make_user)(f"member{i}") for i in range(4)]
    group = await db(conversation_create_group)(creator=alice, title="g", participant_ids=[u.pk for u in users])
    await db(message_send)(sender=alice, conversation_id=group.pk, content="before")
    admin = Api(await db(lambda: token_pair_for_user(alice)["access"])())
    results: dict[str, float] = {}

    # Password change: every socket of the user closes 4401, old tokens get 401.
    user = users[0]
    pair = await db(token_pair_for_user)(user)
    sockets = await open_sockets(pair["access"], group.pk)
    client = Api(pair["access"])
    started = time.monotonic()
    response = await db(client.post)(
        "/api/auth/password/", json={"old_password": PASSWORD, "new_password": "another-long-passphrase"}
    )
    assert response.status_code == 200
    results["password_change"] = await seconds_until_closed(sockets, started, 4401)
    assert (await db(client.get)("/api/auth/me/")).status_code == 401

    # Logout: that session's sockets close 4401 and its access token gets 401.
    user = users[1]
    pair = await db(token_pair_for_user)(user)
    sockets = await open_sockets(pair["access"], group.pk)
    started = time.monotonic()
    response = await db(Api().post)("/api/auth/logout/", json={"refresh": pair["refresh"]})
    assert response.status_code == 204
    results["logout"] = await seconds_until_closed(sockets, started, 4401)
    assert (await db(Api(pair["access"]).get)("/api/auth/me/")).status_code == 401

    # Deactivation (admin or shell): every socket closes 4401.
    user = users[2]
    pair = await db(token_pair_for_user)(user)
    sockets = await open_sockets(pair["access"], group.pk)

    def deactivate() -> None:
        user.is_active = False
        user.save()

    started = time.monotonic()
    await db(deactivate)()
    results["deactivation"] = await seconds_until_closed(sockets, started, 4401)
    assert (await db(Api(pair["access"]).get)("/api/auth/me/")).status_code == 401

    # Removal: the conversation socket closes 4403; the user socket hears the removal
    # and nothing of the group after it; REST answers 403.
    user = users[3]
    token = await db(lambda: token_pair_for_user(user)["access"])()
    user_socket, conversation_socket = await open_sockets(token, group.pk)
    started = time.monotonic()
    response = await db(admin.post)(f"/api/chat/conversations/{group.pk}/remove_participant/", json={"user": user.pk})
    assert response.status_code == 200
    results["removal"] = await seconds_until_closed([conversation_socket], started, 4403)
    removed = await user_socket.receive_until("conversation.removed", timeout=LIMIT_SECONDS)
    results["removal"] = max(results["removal"], time.monotonic() - started)
    assert removed["conversation"] == {"id": group.pk}
    await db(message_send)(sender=alice, conversation_id=group.pk, content="after the removal")
    late = [f for f in await user_socket.drain(0.3) if f.get("conversation") == group.pk]
    assert late == []
    assert (await db(Api(token).get)(f"/api/chat/conversations/{group.pk}/")).status_code == 403
    await user_socket.close()

    record("revocation_in_process", limit_seconds=LIMIT_SECONDS, **{k: round(v, 3) for k, v in results.items()})
    assert max(results.values()) < LIMIT_SECONDS, results
