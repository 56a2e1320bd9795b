"""Outgoing webhooks end to end: the server API's routes, a real HTTP receiver started
by the test, signatures verified with the `standardwebhooks` library, retries on the
schedule, the delivery log, replay, automatic disabling, timeouts, and the SSRF guard
(http(s) only; private, loopback and link-local addresses refused after DNS and on
every redirect, unless PARLEY["NOTIFY_ALLOW_PRIVATE_ADDRESSES"])."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from parley import worker
from parley.models import Event, OutboxEntry, Webhook, WebhookDelivery
from parley.notify import destinations
from parley.services import outbox
from tests.conftest import Api, body
from tests.helpers import send
from tests.hosttokens import API_KEY
from tests.notifystands import Stand, serve

HOOKS = "/api/server/webhooks/"
KEY = {"Authorization": f"Api-Key {API_KEY}"}


@pytest.fixture
def server(settings: Any, db: None) -> Api:
    settings.PARLEY = {
        **settings.PARLEY,
        "API_KEY": API_KEY,
        "RATE_LIMITS_ENABLED": False,
        "NOTIFY_ALLOW_PRIVATE_ADDRESSES": True,
        "WEBHOOK_RETRY_SCHEDULE": [0, 0, 0],
        "WEBHOOK_TIMEOUT_SECONDS": 2.0,
    }
    return Api()


@pytest.fixture
def receiver() -> Iterator[Stand]:
    with serve(Stand()) as stand:
        yield stand


def call(method: str, path: str, **kwargs: Any) -> Any:
    return Api().request(method, path, headers=KEY, **kwargs)


def drain(rounds: int = 50) -> worker.Totals:
    """What `parley_worker` does, round after round, until a round finds nothing."""
    totals = worker.Totals()
    for _ in range(rounds):
        if worker.run_round(totals) == 0:
            break
    return totals


def create(url: str, events: list[str] | None = None) -> dict[str, Any]:
    response = call("POST", HOOKS, json={"url": url, "events": events or ["message.created"]})
    assert response.status_code == 201, response.text
    return body(response)


def test_create_list_update_delete(server: Api, receiver: Stand) -> None:
    created = create(receiver.url + "/hook", ["message.created", "message.deleted"])
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert created["url"] == receiver.url + "/hook"
    assert created["events"] == ["message.created", "message.deleted"]
    assert set(created) == {"id", "url", "events", "secret", "enabled", "disabled_reason", "created_at"}
    listed = body(call("GET", HOOKS))
    assert [h["id"] for h in listed] == [created["id"]] and "secret" not in listed[0]
    path = f"{HOOKS}{created['id']}/"
    changed = body(call("PATCH", path, json={"events": ["*"], "enabled": False}))
    assert changed["events"] == ["*"] and changed["enabled"] is False
    assert body(call("GET", path))["enabled"] is False
    assert call("DELETE", path).status_code == 204
    assert call("GET", path).status_code == 404
    assert body(call("DELETE", path))["code"] == "unknown_webhook"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"url": "ftp://example.com/x", "events": ["message.created"]}, "invalid_url"),
        ({"url": "javascript:alert(1)", "events": ["message.created"]}, "invalid_url"),
        ({"url": "not a url", "events": ["message.created"]}, "invalid_url"),
        ({"url": "", "events": ["message.created"]}, "invalid_url"),
        ({"url": "http://user:pw@example.com/", "events": ["message.created"]}, "invalid_url"),
        ({"url": "http://127.0.0.1:9/"}, "invalid_events"),
        ({"url": "http://127.0.0.1:9/", "events": []}, "invalid_events"),
        ({"url": "http://127.0.0.1:9/", "events": ["message.exploded"]}, "invalid_events"),
        ({"url": "http://127.0.0.1:9/", "events": "message.created"}, "invalid_events"),
        ({"url": "http://no-such-host.invalid/", "events": ["*"]}, "unresolvable_url"),
    ],
)
def test_bad_input_is_a_clear_400_and_stores_nothing(server: Api, payload: dict[str, Any], code: str) -> None:
    response = call("POST", HOOKS, json=payload)
    assert response.status_code == 400, response.text
    assert body(response)["code"] == code
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/",
        "http://localhost/",
        "http://[::1]/",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://172.16.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
    ],
)
def test_private_addresses_are_refused_in_production(server: Api, settings: Any, url: str) -> None:
    settings.PARLEY = {**settings.PARLEY, "NOTIFY_ALLOW_PRIVATE_ADDRESSES": False}
    response = call("POST", HOOKS, json={"url": url, "events": ["*"]})
    assert response.status_code == 400, response.text
    assert body(response)["code"] == "unsafe_url"
    assert not Webhook.objects.exists()


def test_the_route_takes_the_api_key_only(server: Api, alice: Any, api: Any) -> None:
    assert Api().post(HOOKS, json={"url": "http://127.0.0.1:9/", "events": ["*"]}).status_code == 401
    assert api(alice).get(HOOKS).status_code == 401
    wrong = Api().get(HOOKS, headers={"Authorization": "Api-Key " + "x" * 40})
    assert wrong.status_code == 401
    assert not Webhook.objects.exists()


def test_delivered_signed_retried_logged_and_replayed(
    server: Api, receiver: Stand, alice: Any, bob: Any, api: Any, direct: dict[str, Any]
) -> None:
    hook = create(receiver.url + "/parley")
    receiver.script = [500, 503, 200]
    sent = send(api(alice), direct["id"], "hello over a webhook")
    totals = drain()
    assert totals.done["outbox"] >= 1
    posts = receiver.wait_for(3)
    assert len(posts) == 3, [p.headers for p in posts]
    verifier = Verifier(hook["secret"])
    ids = set()
    for post in posts:
        payload = verifier.verify(post.body, post.headers)  # raises unless the signature is right
        ids.add(post.headers["webhook-id"])
        assert post.path == "/parley"
    assert len(ids) == 1, "every attempt carries the same webhook-id"
    # The body is the socket's frame of the event.
    assert payload["type"] == "message.created"
    assert payload["conversation"] == direct["id"] and payload["seq"] == sent["seq"]
    assert payload["message"]["content"] == "hello over a webhook"
    assert payload["message"]["id"] == sent["id"]

    log = body(call("GET", f"{HOOKS}{hook['id']}/deliveries/"))
    assert len(log) == 1
    delivery = log[0]
    assert delivery["status"] == "delivered" and delivery["attempts"] == 3
    assert [a["status_code"] for a in delivery["log"]] == [500, 503, 200]
    assert delivery["webhook_id"] == ids.pop()
    assert body(call("GET", f"{HOOKS}{hook['id']}/deliveries/?status=failed")) == []
    assert call("GET", f"{HOOKS}{hook['id']}/deliveries/?status=nope").status_code == 400

    replay = call("POST", f"{HOOKS}{hook['id']}/deliveries/{delivery['id']}/replay/")
    assert replay.status_code == 202 and body(replay)["status"] == "pending"
    drain()
    again = receiver.wait_for(4)[3]
    assert again.headers["webhook-id"] == delivery["webhook_id"]
    assert verifier.verify(again.body, again.headers) == payload
    assert call("POST", f"{HOOKS}{hook['id']}/deliveries/999999/replay/").status_code == 404
    assert not OutboxEntry.objects.exists()


def test_only_subscribed_types_and_once_per_event(
    server: Api, receiver: Stand, alice: Any, api: Any, direct: dict[str, Any]
) -> None:
    reads_only = create(receiver.url + "/reads", ["message.read"])
    everything = create(receiver.url + "/all", ["*"])
    send(api(alice), direct["id"], "one")
    claimed = list(Event.objects.filter(conversation_id=direct["id"]))
    # A batch fanned out twice (a worker killed before its commit) creates nothing twice.
    outbox._to_webhooks(claimed)
    outbox._to_webhooks(claimed)
    drain()
    assert WebhookDelivery.objects.filter(webhook_id=everything["id"]).count() == len(claimed)
    assert not WebhookDelivery.objects.filter(webhook_id=reads_only["id"]).exists()
    assert {p.path for p in receiver.wait_for(len(claimed))} == {"/all"}


def test_a_slow_receiver_times_out_and_is_retried(
    server: Api, settings: Any, alice: Any, api: Any, direct: dict[str, Any]
) -> None:
    settings.PARLEY = {**settings.PARLEY, "WEBHOOK_TIMEOUT_SECONDS": 0.3, "WEBHOOK_RETRY_SCHEDULE": [3600]}
    with serve(Stand(delay=1.0)) as slow:
        hook = create(slow.url + "/slow")
        send(api(alice), direct["id"], "are you there")
        drain()
    delivery = body(call("GET", f"{HOOKS}{hook['id']}/deliveries/"))[0]
    assert delivery["status"] == "pending" and delivery["attempts"] == 1
    assert delivery["log"][0]["status_code"] is None
    assert "timeout" in delivery["log"][0]["error"]


def test_persistent_failure_disables_the_webhook(
    server: Api, settings: Any, receiver: Stand, alice: Any, api: Any, direct: dict[str, Any]
) -> None:
    settings.PARLEY = {**settings.PARLEY, "WEBHOOK_RETRY_SCHEDULE": [0]}
    receiver.script = [500]
    hook = create(receiver.url + "/down")
    send(api(alice), direct["id"], "first")
    drain()
    state = body(call("GET", f"{HOOKS}{hook['id']}/"))
    assert state["enabled"] is False and "failed 2 times" in state["disabled_reason"]
    delivery = body(call("GET", f"{HOOKS}{hook['id']}/deliveries/"))[0]
    assert delivery["status"] == "failed" and [a["status_code"] for a in delivery["log"]] == [500, 500]
    # Disabled: nothing more is fanned out or sent to it, and replay says why.
    send(api(alice), direct["id"], "second")
    drain()
    assert len(receiver.received) == 2
    refused = call("POST", f"{HOOKS}{hook['id']}/deliveries/{delivery['id']}/replay/")
    assert refused.status_code == 409 and body(refused)["code"] == "webhook_disabled"
    enabled = body(call("PATCH", f"{HOOKS}{hook['id']}/", json={"enabled": True}))
    assert enabled["enabled"] is True and enabled["disabled_reason"] == ""


def test_every_redirect_is_checked_again(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    """The first hop passes (the address rule patched to let 127.0.0.1 alone through),
    its 307 points at another loopback address: refused, never contacted."""
    settings.PARLEY = {**settings.PARLEY, "NOTIFY_ALLOW_PRIVATE_ADDRESSES": False}
    monkeypatch.setattr(destinations, "_is_public", lambda address: address == "127.0.0.1")
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    with serve(Stand()) as inner:
        target = inner.url.replace("127.0.0.1", "127.0.0.2") + "/secret"

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                self.send_response(307)
                self.send_header("location", target)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        outer = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=outer.serve_forever, daemon=True).start()
        try:
            answer = destinations.post(
                f"http://127.0.0.1:{outer.server_address[1]}/", content=b"{}", headers={}, timeout=2
            )
        finally:
            outer.shutdown()
            outer.server_close()
        assert answer.status_code is None and answer.error.startswith("unsafe_url"), answer
        assert inner.received == []


def test_body_is_compact_json_signed_as_sent(server: Api) -> None:
    from parley.notify.webhooks import body_of, new_secret, signed_headers

    secret = new_secret()
    content = body_of({"type": "message.created", "n": 1})
    headers = signed_headers(secret=secret, message_id="msg_1_1", body=content)
    assert Verifier(secret).verify(content, headers) == orjson.loads(content)
    with pytest.raises(Exception, match="signature"):
        Verifier(secret).verify(content + b" ", headers)


def test_reaction_and_pin_events_carry_the_socket_frames(
    server: Api, receiver: Stand, api: Any, alice: Any, direct: dict[str, Any]
) -> None:
    hook = create(receiver.url + "/features", ["reaction.added", "message.pinned"])
    sent = send(api(alice), direct["id"], "react to me")
    client = api(alice)
    assert client.post(f"/api/chat/messages/{sent['id']}/reactions/", json={"emoji": "👍"}).status_code == 201
    assert client.post(f"/api/chat/messages/{sent['id']}/pin/").status_code == 200
    drain()
    verifier = Verifier(hook["secret"])
    payloads = [verifier.verify(p.body, p.headers) for p in receiver.wait_for(2)]
    reaction, pinned = sorted(payloads, key=lambda p: p["seq"])
    assert reaction == {
        "type": "reaction.added",
        "conversation": direct["id"],
        "seq": sent["seq"] + 1,
        "message_id": sent["id"],
        "emoji": "👍",
        "user": alice.pk,
    }
    assert pinned["type"] == "message.pinned" and pinned["seq"] == sent["seq"] + 2
    assert pinned["message"]["id"] == sent["id"] and pinned["message"]["pinned"] is True
    assert pinned["message"]["reactions"] == [{"emoji": "👍", "count": 1, "me": False}]
