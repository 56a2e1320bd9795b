"""Web Push end to end against a local push-service stand-in (an HTTP server started by
the test): the payload decrypted with the subscription's own keys (http_ece, aes128gcm),
the VAPID JWT checked with py_vapid, the Topic header, coalescing per conversation,
no push to a member with an open socket, 404/410 deleting the subscription, and the
subscription routes' bad inputs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from parley.models import OutboxEntry, PendingPush, PushSubscription
from parley.realtime import presence
from tests.conftest import Api, body
from tests.helpers import group, send
from tests.notifystands import Browser, Stand, serve, vapid_claims, vapid_settings
from tests.test_notify_webhooks import drain

SUBSCRIPTIONS = "/api/push/subscriptions/"


@pytest.fixture
def push_on(settings: Any, db: None) -> dict[str, str]:
    keys = vapid_settings()
    settings.PARLEY = {
        **settings.PARLEY,
        **keys,
        "RATE_LIMITS_ENABLED": False,
        "NOTIFY_ALLOW_PRIVATE_ADDRESSES": True,
        "PUSH_COALESCE_SECONDS": 0,
    }
    return keys


@pytest.fixture
def push_service() -> Iterator[Stand]:
    with serve(Stand(script=[201])) as stand:
        yield stand


def subscribe(client: Api, browser: Browser, endpoint: str) -> dict[str, Any]:
    response = client.post(SUBSCRIPTIONS, json=browser.subscription(endpoint))
    assert response.status_code in (200, 201), response.text
    return body(response)


def test_a_burst_becomes_one_encrypted_push_with_a_count(
    push_on: dict[str, str], push_service: Stand, alice: Any, bob: Any, api: Any, direct: dict[str, Any]
) -> None:
    browser = Browser()
    created = api(bob).post(SUBSCRIPTIONS, json=browser.subscription(push_service.url + "/push/bob"))
    assert created.status_code == 201, created.text
    again = api(bob).post(SUBSCRIPTIONS, json=browser.subscription(push_service.url + "/push/bob"))
    assert again.status_code == 200 and body(again)["id"] == body(created)["id"]
    for n in range(3):
        send(api(alice), direct["id"], f"message {n}")
    assert OutboxEntry.objects.count() == 3  # one row per message on the send path
    drain()
    pushes = push_service.wait_for(1)
    time.sleep(0.1)
    assert len(push_service.received) == 1, "one notification for the burst"
    push = pushes[0]
    assert push.path == "/push/bob"
    payload = browser.decrypt(push)
    assert payload["type"] == "messages" and payload["count"] == 3
    assert payload["conversation"] == direct["id"]
    assert payload["url"] == f"/#/c/{direct['id']}"
    assert "alice" in payload["body"] and "message 2" in payload["body"]
    assert push.headers["topic"] == f"conversation-{direct['id']}"
    assert int(push.headers["ttl"]) == 86400
    claims = vapid_claims(push, public_key=push_on["VAPID_PUBLIC_KEY"])
    assert claims["aud"] == push_service.url
    assert claims["sub"] == "mailto:ops@example.test"
    assert claims["exp"] > time.time()
    assert not PendingPush.objects.exists() and not OutboxEntry.objects.exists()
    # Alice (the sender) has no subscription and gets nothing; a later message is a new push.
    send(api(alice), direct["id"], "later")
    drain()
    assert browser.decrypt(push_service.wait_for(2)[1])["count"] == 1


def test_no_push_while_a_socket_is_open(
    push_on: dict[str, str], push_service: Stand, alice: Any, bob: Any, api: Any, direct: dict[str, Any]
) -> None:
    subscribe(api(bob), Browser(), push_service.url + "/push/bob")
    presence.socket_opened(bob.pk, [], limit=5)
    send(api(alice), direct["id"], "seen live")
    drain()
    assert push_service.received == []
    assert not PendingPush.objects.exists(), "seen live: nothing is left to push later"
    presence.socket_closed(bob.pk)
    send(api(alice), direct["id"], "now offline")
    drain()
    assert len(push_service.wait_for(1)) == 1


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_deleted(
    push_on: dict[str, str], alice: Any, bob: Any, api: Any, direct: dict[str, Any], status: int
) -> None:
    with serve(Stand(script=[status])) as gone:
        subscribe(api(bob), Browser(), gone.url + "/push/expired")
        send(api(alice), direct["id"], "anyone?")
        drain()
        assert len(gone.wait_for(1)) == 1
    assert not PushSubscription.objects.exists()


def test_levels_and_mutes_decide(
    push_on: dict[str, str], push_service: Stand, make_user: Any, api: Any, alice: Any
) -> None:
    members = {name: make_user(name) for name in ("allan", "mentionee", "quiet", "muted")}
    conversation = group(api(alice), list(members.values()))
    cid = conversation["id"]
    for name, user in members.items():
        subscribe(api(user), Browser(), f"{push_service.url}/push/{name}")
    prefs = {"mentionee": {"notification_level": "mentions"}, "quiet": {"notification_level": "none"}}
    from django.utils import timezone

    from parley.models import Membership

    for name, fields in prefs.items():
        Membership.objects.filter(conversation_id=cid, user=members[name]).update(**fields)
    Membership.objects.filter(conversation_id=cid, user=members["muted"]).update(
        muted_until=timezone.now() + timezone.timedelta(hours=1)
    )
    send(api(alice), cid, "no mention here")
    drain()
    assert sorted(r.path for r in push_service.wait_for(1)) == ["/push/allan"]
    time.sleep(0.1)
    assert len(push_service.received) == 1
    mentioned = [u.get_username() for u in (members["mentionee"], members["quiet"], members["muted"])]
    send(api(alice), cid, " ".join(f"@{m}" for m in mentioned) + " look")
    drain()
    paths = sorted(r.path for r in push_service.wait_for(4)[1:])
    assert paths == ["/push/allan", "/push/mentionee", "/push/muted"], "a mention passes a mute, not `none`"
    # The explicit list counts as the content's `@username` does (the mentions the send stored).
    send(api(alice), cid, "fyi", mentions=[members["muted"].pk])
    drain()
    paths = sorted(r.path for r in push_service.wait_for(6)[4:])
    assert paths == ["/push/allan", "/push/muted"]


def test_one_outbox_row_per_message_and_one_pending_row_per_member(
    push_on: dict[str, str], push_service: Stand, make_user: Any, api: Any, alice: Any
) -> None:
    members = [make_user() for _ in range(25)]
    conversation = group(api(alice), members)
    for i, member in enumerate(members):
        subscribe(api(member), Browser(), f"{push_service.url}/push/{i}")
    OutboxEntry.objects.all().delete()
    for n in range(20):
        send(api(alice), conversation["id"], f"burst {n}")
    assert OutboxEntry.objects.count() == 20
    from parley.services import outbox

    outbox.outbox_drain()
    assert PendingPush.objects.count() == 25
    assert set(PendingPush.objects.values_list("count", flat=True)) == {20}
    drain()
    assert len(push_service.wait_for(25)) == 25


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda s: {**s, "keys": None}, "invalid_subscription"),
        (lambda s: {**s, "keys": {"auth": s["keys"]["auth"]}}, "invalid_subscription"),
        (lambda s: {**s, "keys": {**s["keys"], "p256dh": "!!!"}}, "invalid_subscription"),
        (lambda s: {**s, "keys": {**s["keys"], "auth": "AAAA"}}, "invalid_subscription"),
        (lambda s: {**s, "endpoint": "ftp://push.example/x"}, "invalid_url"),
        (lambda s: {**s, "endpoint": ""}, "invalid_subscription"),
        (lambda s: {**s, "endpoint": 5}, "invalid_subscription"),
        (lambda s: [s], "invalid"),
    ],
)
def test_bad_subscriptions_are_a_clear_400(push_on: dict[str, str], bob: Any, api: Any, mutate: Any, code: str) -> None:
    response = api(bob).post(SUBSCRIPTIONS, json=mutate(Browser().subscription("http://127.0.0.1:9/push")))
    assert response.status_code == 400, response.text
    assert body(response)["code"] == code
    assert not PushSubscription.objects.exists()


def test_private_endpoints_are_refused_in_production(
    push_on: dict[str, str], settings: Any, bob: Any, api: Any
) -> None:
    settings.PARLEY = {**settings.PARLEY, "NOTIFY_ALLOW_PRIVATE_ADDRESSES": False}
    for endpoint in ("https://127.0.0.1/push", "https://169.254.169.254/push", "http://push.example.com/x"):
        response = api(bob).post(SUBSCRIPTIONS, json=Browser().subscription(endpoint))
        assert response.status_code == 400, (endpoint, response.text)
        assert body(response)["code"] in {"unsafe_url", "invalid_url", "unresolvable_url"}
    assert not PushSubscription.objects.exists()


def test_routes_off_without_keys_and_for_strangers(db: None, settings: Any, bob: Any, api: Any) -> None:
    settings.PARLEY = {**settings.PARLEY, "VAPID_PRIVATE_KEY": "", "VAPID_PUBLIC_KEY": ""}
    response = api(bob).post(SUBSCRIPTIONS, json=Browser().subscription("http://127.0.0.1:9/push"))
    assert response.status_code == 404 and body(response)["code"] == "push_disabled"
    assert body(Api().get("/api/push/key/")) == {"enabled": False, "public_key": None}
    assert Api().post(SUBSCRIPTIONS, json={}).status_code == 401
    assert Api().delete(SUBSCRIPTIONS).status_code == 401


def test_key_and_unsubscribe_own_only(push_on: dict[str, str], alice: Any, bob: Any, api: Any) -> None:
    assert body(Api().get("/api/push/key/")) == {"enabled": True, "public_key": push_on["VAPID_PUBLIC_KEY"]}
    subscribe(api(bob), Browser(), "http://127.0.0.1:9/push/bob")
    # Alice cannot unsubscribe Bob's browser (204, nothing happens): the row stays.
    assert (
        api(alice).request("DELETE", SUBSCRIPTIONS, json={"endpoint": "http://127.0.0.1:9/push/bob"}).status_code == 204
    )
    assert PushSubscription.objects.filter(user=bob).count() == 1
    missing = api(bob).request("DELETE", SUBSCRIPTIONS, json={})
    assert missing.status_code == 400 and body(missing)["code"] == "invalid_subscription"
    gone = api(bob).delete(SUBSCRIPTIONS + "?endpoint=http://127.0.0.1:9/push/bob")
    assert gone.status_code == 204
    assert not PushSubscription.objects.exists()


def test_a_user_keeps_at_most_ten_browsers(push_on: dict[str, str], bob: Any, api: Any) -> None:
    from parley.services.push import MAX_SUBSCRIPTIONS_PER_USER

    for n in range(MAX_SUBSCRIPTIONS_PER_USER + 2):
        subscribe(api(bob), Browser(), f"http://127.0.0.1:9/push/{n}")
    kept = sorted(PushSubscription.objects.filter(user=bob).values_list("endpoint", flat=True))
    assert kept == sorted(f"http://127.0.0.1:9/push/{n}" for n in range(2, MAX_SUBSCRIPTIONS_PER_USER + 2))
