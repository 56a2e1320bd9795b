"""Reports and the moderators' admin (SPEC 11): a participant reports, a moderator acts
from the admin's queue, and every action is a service write with its event on the wire.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Permission
from django.test import Client

from parley.models import Event, Membership, Message, Report
from tests.conftest import body
from tests.helpers import group, msg_url, send, start
from tests.ws import Socket, atoken_for

pytestmark = pytest.mark.django_db(transaction=True)

REPORTS = "/admin/parley/report/"


@pytest.fixture
def moderator(make_user):
    user = make_user("mod", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="moderate", content_type__app_label="parley"))
    return user


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def report(api, user, message_id: int, reason: str = "spam") -> dict:
    response = api(user).post(msg_url(message_id, "report"), json={"reason": reason})
    assert response.status_code == 201, response.text
    return body(response)


def act(client: Client, action: str, *reports: int):
    return client.post(REPORTS, {"action": action, "_selected_action": [str(r) for r in reports]}, follow=True)


def test_a_participant_reports_a_message_once(alice, bob, api):
    direct = start(api(alice), bob)
    message = send(api(bob), direct["id"], "buy now")
    first = report(api, alice, message["id"], "  spam  ")
    assert (first["message"], first["reason"], first["status"]) == (message["id"], "spam", "open")
    again = api(alice).post(msg_url(message["id"], "report"), json={"reason": "still spam"})
    assert again.status_code == 200 and body(again)["id"] == first["id"]
    row = Report.objects.get()
    assert (row.reporter_id, row.reported_user_id, row.conversation_id_reported) == (alice.pk, bob.pk, direct["id"])


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, "required"),
        ({"reason": "   "}, "required"),
        ({"reason": "x" * 1001}, "reason_too_long"),
        ({"reason": 5}, "required"),
        ({"reason": "a\x00b"}, "invalid_characters"),
    ],
)
def test_bad_reports_change_nothing(alice, bob, api, payload, code):
    direct = start(api(alice), bob)
    message = send(api(bob), direct["id"])
    response = api(alice).post(msg_url(message["id"], "report"), json=payload)
    assert (response.status_code, body(response)["code"]) == (400, code)
    assert not Report.objects.exists()


def test_own_message_and_strangers_cannot_report(alice, bob, carol, api):
    direct = start(api(alice), bob)
    message = send(api(bob), direct["id"])
    own = api(bob).post(msg_url(message["id"], "report"), json={"reason": "me"})
    assert (own.status_code, body(own)["code"]) == (400, "own_message")
    stranger = api(carol).post(msg_url(message["id"], "report"), json={"reason": "x"})
    assert stranger.status_code == 404
    assert api(None).post(msg_url(message["id"], "report"), json={"reason": "x"}).status_code == 401
    assert api(alice).post(msg_url(999999, "report"), json={"reason": "x"}).status_code == 404
    assert not Report.objects.exists()


def test_the_queue_needs_the_moderate_permission(alice, bob, api, make_user, moderator):
    direct = start(api(alice), bob)
    filed = report(api, alice, send(api(bob), direct["id"], "rude")["id"])
    page = admin_client(moderator).get(REPORTS)
    assert page.status_code == 200 and b"rude" in page.content and b"Deactivate the sender" in page.content
    plain_staff = make_user("staff", is_staff=True)
    assert admin_client(plain_staff).get(REPORTS).status_code == 403
    assert act(admin_client(plain_staff), "report_dismiss", filed["id"]).status_code == 403
    assert Report.objects.get().status == "open"


async def test_deleting_the_message_publishes_message_deleted(alice, bob, carol, api, moderator):
    team = await sync_to_async(lambda *a: group(api(alice), *a))([bob, carol])
    message = await sync_to_async(lambda *a: send(api(bob), *a))(team["id"], "offensive")
    filed = await sync_to_async(report)(api, alice, message["id"])
    await sync_to_async(report)(api, carol, message["id"])
    carols = Socket.for_user(await atoken_for(carol), team["id"])
    await carols.open()

    await sync_to_async(lambda: act(admin_client(moderator), "report_delete_message", filed["id"]))()

    deleted = await carols.receive_until("message.deleted")
    assert (deleted["message_id"], deleted["seq"]) == (message["id"], 2)
    stored = await sync_to_async(Message.objects.get)(pk=message["id"])
    assert stored.is_deleted and stored.content == ""
    statuses = await sync_to_async(lambda: sorted(Report.objects.values_list("status", "resolution")))()
    assert statuses == [("actioned", "message_deleted")] * 2
    await carols.close()


async def test_removing_the_member_publishes_member_removed_and_unsubscribes(alice, bob, carol, api, moderator):
    team = await sync_to_async(lambda *a: group(api(alice), *a))([bob, carol])
    message = await sync_to_async(lambda *a: send(api(bob), *a))(team["id"], "offensive")
    filed = await sync_to_async(report)(api, alice, message["id"])
    carols = Socket.for_user(await atoken_for(carol), team["id"])
    bobs = Socket.for_user(await atoken_for(bob))
    await carols.open()
    await bobs.open()

    await sync_to_async(lambda: act(admin_client(moderator), "report_remove_member", filed["id"]))()

    removed = await carols.receive_until("member.removed")
    assert removed["user"] == bob.pk
    assert (await bobs.receive_until("conversation.removed"))["conversation"]["id"] == team["id"]
    assert not await sync_to_async(Membership.objects.filter(conversation_id=team["id"], user=bob).exists)()
    await carols.close()
    await bobs.close()


async def test_deactivating_the_sender_closes_their_sockets(alice, bob, api, moderator):
    direct = await sync_to_async(lambda *a: start(api(alice), *a))(bob)
    message = await sync_to_async(lambda *a: send(api(bob), *a))(direct["id"], "abuse")
    filed = await sync_to_async(report)(api, alice, message["id"])
    bobs = Socket.for_user(await atoken_for(bob))
    await bobs.open()

    await sync_to_async(lambda: act(admin_client(moderator), "report_deactivate_user", filed["id"]))()

    assert await bobs.closed_with(timeout=3) == 4401
    await sync_to_async(bob.refresh_from_db)()
    assert bob.is_active is False
    assert (
        await sync_to_async(api(None).post)("/api/auth/login/", json={"username": "bob", "password": "x"})
    ).status_code == 401


def test_dismiss_changes_nothing_in_chat(alice, bob, api, moderator):
    direct = start(api(alice), bob)
    filed = report(api, alice, send(api(bob), direct["id"], "meh")["id"])
    events = Event.objects.count()
    act(admin_client(moderator), "report_dismiss", filed["id"])
    assert Report.objects.get().status == "dismissed"
    assert Event.objects.count() == events and Message.objects.filter(is_deleted=False).count() == 1


def test_an_action_on_a_message_that_is_gone_is_an_error_and_changes_nothing(alice, bob, api, moderator):
    direct = start(api(alice), bob)
    message = send(api(bob), direct["id"], "soon gone")
    filed = report(api, alice, message["id"])
    assert api(bob).post(msg_url(message["id"], "delete_message")).status_code == 200
    events = Event.objects.count()
    page = act(admin_client(moderator), "report_delete_message", filed["id"])
    assert page.status_code == 200 and b"no longer exists" in page.content
    assert Event.objects.count() == events and Report.objects.get().status == "open"
    page = act(admin_client(moderator), "report_remove_member", filed["id"])
    assert b"no longer exists" in page.content and Report.objects.get().status == "open"
