"""Parley installed in the example host (examples/host): a UUID/email user model with a
display-name callable, the host's own SimpleJWT login, and Django sessions.

Collected only when the suite runs with `--ds=examples.host.settings` (make test-host).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client

from parley.models import Message
from tests.conftest import PASSWORD, Api, body
from tests.helpers import conv_url, msg_url, send, start
from tests.hosts import uid
from tests.ws import Socket

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_host_user_model_is_uuid_and_email(alice):
    User = get_user_model()
    assert User.USERNAME_FIELD == "email" and isinstance(alice.pk, uuid.UUID)
    assert not hasattr(alice, "username")


def test_host_login_tokens_work_on_rest(alice, bob):
    login = Api().post("/api/auth/login/", json={"email": "alice@example.test", "password": PASSWORD})
    assert login.status_code == 200, login.text
    client = Api(body(login)["access"])
    conversation = start(client, bob)
    assert sorted(conversation["participants"]) == sorted([str(alice.pk), str(bob.pk)])
    sent = send(client, conversation["id"], "from the host's token")
    # sender is the UUID's text; sender_name is PARLEY["DISPLAY_NAME"] (the full name).
    assert sent["sender"] == str(alice.pk) and sent["sender_name"] == "alice"
    members = {m["id"]: m["username"] for m in body(client.get(conv_url(conversation["id"])))["members"]}
    assert members == {str(alice.pk): "alice", str(bob.pk): "bob"}


def test_display_name_follows_the_host_callable(alice, bob, api):
    alice.full_name = "Alice Liddell"
    alice.save()
    conversation = start(api(alice), bob)
    send(api(alice), conversation["id"], "hello")
    [message] = body(api(bob).get(conv_url(conversation["id"], "messages")))["results"]
    assert message["sender_name"] == "Alice Liddell"


def test_a_malformed_or_unknown_user_id_is_a_400_or_404_never_a_500(alice, api):
    for bad in (5, "5", "not-a-uuid", "", None, [str(alice.pk)], {"id": 1}):
        response = api(alice).post("/api/chat/conversations/start/", json={"user2": bad})
        assert response.status_code == 400, (bad, response.status_code, response.text)
        assert body(response)["code"] in {"invalid_id", "required", "invalid"}
    missing = api(alice).post("/api/chat/conversations/start/", json={"user2": str(uuid.uuid4())})
    assert missing.status_code in (400, 404) and "code" in body(missing)


def _session_client(user: Any) -> tuple[Api, str]:
    client = Client()
    client.force_login(user)
    session = client.cookies["sessionid"].value
    csrf = _get_new_csrf_string()
    return Api(), f"sessionid={session}; csrftoken={csrf}"


def test_session_authentication_on_rest_needs_csrf_for_writes(alice, bob):
    api, cookie = _session_client(alice)
    conversation = body(
        api.post(
            "/api/chat/conversations/start/",
            json={"user2": uid(bob)},
            headers={"Cookie": cookie, "X-CSRFToken": cookie.split("csrftoken=")[1]},
        )
    )
    listed = api.get("/api/chat/conversations/", headers={"Cookie": cookie})
    assert listed.status_code == 200 and [c["id"] for c in body(listed)] == [conversation["id"]]
    no_csrf = api.post(conv_url(conversation["id"], "send_message"), json={"content": "x"}, headers={"Cookie": cookie})
    assert no_csrf.status_code == 403 and Message.objects.count() == 0


async def test_socket_with_the_host_session_cookie(alice, bob, api):
    conversation = await sync_to_async(start)(api(alice), bob)
    _, cookie = await sync_to_async(_session_client)(bob)
    sock = Socket(f"/ws/chat/{conversation['id']}/", headers=[(b"cookie", cookie.encode())])
    ready = await sock.open()
    assert ready["user"] == str(bob.pk)
    await sync_to_async(send)(api(alice), conversation["id"], "over the session socket")
    frame = await sock.receive_until("message.created")
    assert frame["message"]["content"] == "over the session socket" and frame["message"]["sender"] == str(alice.pk)
    await sock.send({"type": "message.send", "content": "back", "ref": 1})
    assert (await sock.receive_until("ack"))["message"]["sender_name"] == "bob"
    await sock.close()


async def test_socket_without_a_session_or_token_is_closed_4401(alice, bob, settings, api):
    settings.PARLEY = {**settings.PARLEY, "WS_AUTH_TIMEOUT_SECONDS": 0.3}
    conversation = await sync_to_async(start)(api(alice), bob)
    sock = Socket(f"/ws/chat/{conversation['id']}/", headers=[(b"cookie", b"sessionid=forged")])
    assert await sock.connect()
    assert await sock.closed_with(timeout=3) == 4401


def test_deleting_a_host_user_keeps_their_messages_as_a_deleted_user(alice, bob, api):
    conversation = start(api(alice), bob)
    sent = send(api(alice), conversation["id"], "I was here")
    api(bob).post(msg_url(sent["id"], "mark_read"))
    alice.delete()  # never blocked by Parley

    [message] = body(api(bob).get(conv_url(conversation["id"], "messages")))["results"]
    assert (message["id"], message["sender"], message["sender_name"]) == (sent["id"], None, "deleted user")
    assert message["content"] == "I was here"
    assert body(api(bob).get(conv_url(conversation["id"])))["participants"] == [str(bob.pk)]
    events = body(api(bob).get(conv_url(conversation["id"], "events") + "?since=0"))["events"]
    assert [e["type"] for e in events] == ["message.created", "message.read"]
    assert events[0]["message"]["sender"] is None


async def test_deleted_users_message_over_the_socket_catch_up(alice, bob, api):
    conversation = await sync_to_async(start)(api(alice), bob)
    await sync_to_async(send)(api(alice), conversation["id"], "before I left")
    await database_sync_to_async(alice.delete)()
    replay = Socket.for_user(await database_sync_to_async(_token)(bob), conversation["id"], since=0)
    assert await replay.connect()
    created = await replay.receive_until("message.created")
    assert created["message"]["sender"] is None and created["message"]["sender_name"] == "deleted user"
    await replay.close()


def _token(user: Any) -> str:
    from tests.hosts import access_token

    return access_token(user)


def test_the_admin_pages_of_chat_models_render_in_the_host(alice, bob, api):
    conversation = start(api(alice), bob)
    send(api(alice), conversation["id"], "searchable")
    admin = get_user_model().objects.create_superuser("root@example.test", PASSWORD, full_name="root")
    client = Client()
    client.force_login(admin)
    for model in ("conversation", "message", "event"):  # memberships are edited inline
        page = client.get(f"/admin/parley/{model}/", {"q": "alice"})
        assert page.status_code == 200, (model, page.status_code)
    assert client.get("/admin/parley/message/", {"q": "searchable"}).status_code == 200
