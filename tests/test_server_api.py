"""The server API (`/api/server/`, `Authorization: Api-Key <key>`), over the real ASGI app.

The key matrix (missing, wrong, right; no timing signal), every route's answers and
bad inputs (a clear 4xx with JSON, nothing stored), the off state (404), and what the
host's backend can do with it: upsert, deactivate (sockets close), erase (messages stay
as "deleted user"), open direct and group conversations through the chat services.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db.models.signals import post_save

from parley.api import server_auth
from parley.models import Conversation, Event, ExternalIdentity, Membership
from parley.signals import _closes_sockets_of_deactivated_user as close_sockets_of_deactivated_user
from server.accounts.models import User
from server.accounts.tokens import token_pair_for_user
from tests.conftest import Api, body
from tests.hosttokens import API_KEY, HostKeys
from tests.ws import Socket

USERS = "/api/server/users/"
CONVERSATIONS = "/api/server/conversations/"
KEY = {"Authorization": f"Api-Key {API_KEY}"}


@pytest.fixture(scope="module")
def keys() -> HostKeys:
    return HostKeys.generate()


@pytest.fixture
def server(keys: HostKeys, settings: Any) -> Api:
    """The host's backend: the server API enabled, requests carrying the right key."""
    keys.enable(settings)
    return Api()


def call(method: str, path: str, *, headers: dict[str, str] | None = KEY, **kwargs: Any) -> Any:
    return Api().request(method, path, headers=headers or {}, **kwargs)


def put_user(external_id: str, **fields: Any) -> Any:
    return call("PUT", f"{USERS}{external_id}/", json=fields)


def state() -> tuple[Any, ...]:
    """Everything a refused request must leave as it was."""
    return (
        list(User.objects.order_by("pk").values_list("pk", "username", "is_active")),
        list(ExternalIdentity.objects.order_by("pk").values_list("external_id", "user_id", "display_name")),
        Conversation.objects.count(),
        Membership.objects.count(),
        Event.objects.count(),
    )


ROUTES = [
    ("GET", USERS + "someone/", None),
    ("PUT", USERS + "someone/", {"username": "someone"}),
    ("DELETE", USERS + "someone/", None),
    ("POST", CONVERSATIONS, {"users": ["someone", "other"]}),
]


# --- Off, and the key ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_without_an_api_key_configured_every_route_is_404_with_a_reason(keys, settings):
    keys.enable(settings, api_key="")
    before = state()
    for method, path, payload in ROUTES:
        for headers in (KEY, None, {"Authorization": "Api-Key "}):
            response = call(method, path, headers=headers, **({"json": payload} if payload else {}))
            assert response.status_code == 404, (method, path, response.text)
            assert body(response)["code"] == "server_api_disabled"
    assert state() == before


@pytest.mark.django_db
def test_the_api_key_matrix(server, keys, make_user):
    user = make_user("plain")
    wrong_same_length = "x" * len(API_KEY)
    refused = {
        "missing": None,
        "empty key": {"Authorization": "Api-Key "},
        "wrong, same length": {"Authorization": f"Api-Key {wrong_same_length}"},
        "wrong, shorter": {"Authorization": f"Api-Key {API_KEY[:-1]}"},
        "wrong, longer": {"Authorization": f"Api-Key {API_KEY}x"},
        "key as a bearer token": {"Authorization": f"Bearer {API_KEY}"},
        "another scheme": {"Authorization": f"Token {API_KEY}"},
        "a user's token": {"Authorization": f"Bearer {token_pair_for_user(user)['access']}"},
        "a host token": {"Authorization": f"Bearer {keys.token('host-1')}"},
    }
    before = state()
    failures = []
    for method, path, payload in ROUTES:
        for case, headers in refused.items():
            response = call(method, path, headers=headers, **({"json": payload} if payload else {}))
            reason = body(response)
            if response.status_code != 401 or reason.get("code") not in ("api_key_required", "invalid_api_key"):
                failures.append(f"{method} {path} {case}: {response.status_code} {response.text[:100]}")
            elif not response.headers.get("www-authenticate", "").startswith("Api-Key"):
                failures.append(f"{method} {path} {case}: no WWW-Authenticate: Api-Key")
    assert failures == []
    assert state() == before

    # The right key, the scheme in any case: accepted.
    assert put_user("someone", username="someone").status_code == 201
    lower = call("GET", USERS + "someone/", headers={"Authorization": f"api-key {API_KEY}"})
    assert lower.status_code == 200, lower.text


def test_the_key_check_compares_digests_of_equal_length(settings, monkeypatch):
    """Whatever is sent, the constant-time comparison sees two SHA-256 digests: the
    time it takes cannot depend on how much of the key, or of its length, was right."""
    settings.PARLEY = {**settings.PARLEY, "API_KEY": API_KEY}
    seen: list[tuple[bytes, bytes]] = []
    real = server_auth.hmac.compare_digest

    def recording(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(server_auth.hmac, "compare_digest", recording)
    candidates = [b"", b"x", API_KEY[:-1].encode(), ("x" * len(API_KEY)).encode(), API_KEY.encode(), b"y" * 500]
    results = [server_auth.api_key_matches(c) for c in candidates]
    assert results == [False, False, False, False, True, False]
    assert len(seen) == len(candidates)
    assert all(len(a) == len(b) == 32 for a, b in seen)
    assert all(API_KEY.encode() not in (a, b) for a, b in seen)


# Wrong keys that all hash in one SHA-256 block (under 56 bytes), one of them as long as
# the real key: only whether its length is right differs. (A longer input hashes for
# longer, a function of what the caller sent, never of the key.)
WRONG_KEYS = {
    "same length": "x" * len(API_KEY),
    "one shorter": "x" * (len(API_KEY) - 1),
    "one longer": "x" * (len(API_KEY) + 1),
    "short": "x",
}


def paired_difference(measure: Callable[[str], float], other: str, *, pairs: int) -> float:
    """Median over `pairs` of (time of the same-length key - time of `other`) / time of
    `other`, each pair measured back to back in alternating order.

    Robust by construction: load on the machine falls on both halves of a pair alike,
    bursts that spoil a few pairs cannot move a median, and the figure is an effect
    size, so a bound on it does not tighten as samples grow (a significance test would
    end up flagging the ~1-2% that memory layout alone makes between lengths).
    """
    same = WRONG_KEYS["same length"]
    differences = []
    for i in range(pairs):
        if i % 2:
            other_time, same_time = measure(other), measure(same)
        else:
            same_time, other_time = measure(same), measure(other)
        differences.append((same_time - other_time) / other_time)
    return statistics.median(differences)


def test_no_timing_difference_between_wrong_keys_of_the_right_and_another_length(settings):
    """Measured: within 2% of each other on a loaded 2-core machine, where checking the
    length before comparing (the classic leak) shows +97%. The bound, 10%, sits between."""
    settings.PARLEY = {**settings.PARLEY, "API_KEY": API_KEY}
    batch = 200

    def batch_time(key: str) -> float:
        raw = key.encode()
        started = time.perf_counter_ns()
        for _ in range(batch):
            server_auth.api_key_matches(raw)
        return time.perf_counter_ns() - started

    differences = {
        name: paired_difference(batch_time, WRONG_KEYS[name], pairs=60)
        for name in ("one shorter", "one longer", "short")
    }
    assert all(abs(d) < 0.10 for d in differences.values()), differences


@pytest.mark.django_db
def test_no_timing_difference_over_http_between_wrong_keys(server):
    """The same through the whole stack: no difference visible in what a client can
    time. (Request jitter is far larger than the check, so this bound is loose; the
    test above is the precise one.)"""

    def request_time(key: str) -> float:
        """The faster of two refusals in a row: load only ever adds time."""
        fastest = float("inf")
        for _ in range(2):
            started = time.perf_counter()
            response = call("GET", USERS + "someone/", headers={"Authorization": f"Api-Key {key}"})
            fastest = min(fastest, time.perf_counter() - started)
            assert response.status_code == 401
        return fastest

    for key in WRONG_KEYS.values():  # warm up: first requests import and compile
        request_time(key)
    differences = {
        name: paired_difference(request_time, WRONG_KEYS[name], pairs=40)
        for name in ("one shorter", "one longer", "short")
    }
    assert all(abs(d) < 0.25 for d in differences.values()), differences


@pytest.mark.django_db
def test_the_api_key_opens_no_chat_route(server, make_user, settings):
    """Every route of the REST matrix refuses the key (401), except the public ones,
    which ignore it."""
    from tests.security_world import build_world
    from tests.test_security_matrix import OPS, PUBLIC

    world = build_world(make_user)
    ids = {"conversation": world.conversations["G"], "message": world.messages["mA"], "none": 0}
    failures = []
    for op in OPS:
        if op.name in PUBLIC or op.name.startswith("server-"):
            continue
        object_id = ids[op.kind]
        payload = op.body(world, None, object_id) if op.body else None
        url = op.path.format(id=object_id, gus=world.users["gus"].pk)
        response = call(op.method, url, headers={**KEY, **(op.headers or {})}, **({"json": payload} if payload else {}))
        if response.status_code != 401:
            failures.append(f"{op.name}: {response.status_code} {response.text[:80]}")
    assert failures == []


# --- Users -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_put_creates_then_updates_and_get_reads(server):
    created = put_user("host-7", username="grace", display_name="Grace Hopper")
    assert created.status_code == 201
    user = User.objects.get(username="grace")
    assert body(created) == {
        "id": user.pk,
        "external_id": "host-7",
        "username": "grace",
        "display_name": "Grace Hopper",
        "is_active": True,
    }
    assert not user.has_usable_password()

    updated = put_user("host-7", display_name="Rear Admiral Hopper")
    assert updated.status_code == 200
    assert body(updated)["username"] == "grace"  # omitted: kept
    assert body(updated)["display_name"] == "Rear Admiral Hopper"
    renamed = put_user("host-7", username="ghopper")
    assert (renamed.status_code, body(renamed)["username"], body(renamed)["id"]) == (200, "ghopper", user.pk)
    assert body(call("GET", USERS + "host-7/")) == body(renamed)
    assert body(put_user("host-8"))["username"].startswith("user-")  # nothing given: derived


@pytest.mark.django_db
def test_the_id_is_what_start_takes(server, keys):
    other = body(put_user("host-b", username="bee", display_name="Bee"))
    me = Api(keys.token("host-a", name="Ay"))
    response = me.post("/api/chat/conversations/start/", json={"user2": other["id"]})
    assert response.status_code == 201, response.text
    assert {m["username"] for m in body(response)["members"]} == {"Ay", "Bee"}


@pytest.mark.django_db
def test_external_ids_are_opaque_and_may_hold_slashes(server):
    for external_id, url in (("org/42", "org/42"), ("a/b", "a%2Fb"), ("Ünïcode id", "%C3%9Cn%C3%AFcode%20id")):
        response = call("PUT", f"{USERS}{url}/", json={})
        assert response.status_code == 201, (url, response.text)
        assert body(response)["external_id"] == external_id
    assert body(put_user("Case"))["id"] != body(put_user("case"))["id"]


@pytest.mark.django_db
def test_every_bad_user_input_is_a_clear_400_and_stores_nothing(server, make_user):
    make_user("taken")
    put_user("existing", username="existing", display_name="Kept")
    cases: dict[str, tuple[str, Any]] = {
        "body is a list": ("fresh", ["username"]),
        "body is a string": ("fresh", "username"),
        "unknown field": ("fresh", {"username": "ok", "email": "a@b.c"}),
        "username taken": ("fresh", {"username": "taken"}),
        "username taken, on update": ("existing", {"username": "taken"}),
        "username taken, other case": ("fresh", {"username": "TAKEN"}),
        "username not a string": ("fresh", {"username": 7}),
        "username empty": ("fresh", {"username": "  "}),
        "username too long": ("fresh", {"username": "u" * 151}),
        "username bad characters": ("fresh", {"username": "no spaces allowed"}),
        "username with NUL": ("fresh", {"username": "a\x00b"}),
        "display_name not a string": ("existing", {"display_name": None}),
        "display_name too long": ("existing", {"display_name": "d" * 256}),
        "display_name with NUL": ("existing", {"display_name": "a\x00b"}),
        "is_active a string": ("existing", {"is_active": "false"}),
        "is_active a number": ("existing", {"is_active": 0}),
        "external id too long": ("e" * 256, {}),
        "external id with a control character": ("a%01b", {}),
        "external id with NUL": ("a%00b", {}),
    }
    before = state()
    failures = []
    for case, (external_id, payload) in cases.items():
        response = call("PUT", f"{USERS}{external_id}/", json=payload)
        reason = body(response)
        if response.status_code != 400 or "code" not in reason:
            failures.append(f"{case}: {response.status_code} {response.text[:120]}")
    for case, kwargs in {
        "malformed JSON": {"content": b"{", "headers": {**KEY, "Content-Type": "application/json"}},
        "a form": {"data": {"username": "formed"}},
    }.items():
        response = Api().request("PUT", USERS + "fresh/", **({"headers": KEY} | kwargs))
        if response.status_code not in (400, 415) or "code" not in body(response):
            failures.append(f"{case}: {response.status_code} {response.text[:120]}")
    assert failures == []
    assert state() == before


@pytest.mark.django_db
def test_get_and_delete_of_an_unknown_user_are_404(server):
    for method in ("GET", "DELETE"):
        response = call(method, USERS + "nobody/")
        assert (response.status_code, body(response)["code"]) == (404, "unknown_user")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("host_signal", [True, False], ids=["with-parley-signal", "without-it"])
async def test_deactivation_closes_the_users_sockets_within_a_second(keys, settings, host_signal):
    """With parley's post_save signal and without it (a host that saves users with
    queryset.update() sends none): the server API's own revocation closes the sockets."""
    keys.enable(settings)
    if not host_signal:
        post_save.disconnect(close_sockets_of_deactivated_user, sender=User)
    try:
        token = keys.token("leaver", name="Leaver")
        sockets = [Socket.for_user(token), Socket.for_user(token)]
        for sock in sockets:
            await sock.open()
        started = time.monotonic()
        response = await database_sync_to_async(put_user)("leaver", is_active=False)
        assert response.status_code == 200 and body(response)["is_active"] is False
        for sock in sockets:
            assert await sock.closed_with(timeout=2) == 4401
        assert time.monotonic() - started < 1.0
        refused = await database_sync_to_async(Api(token).get)("/api/chat/conversations/")
        assert refused.status_code == 401
        # Back on: the same token works again.
        await database_sync_to_async(put_user)("leaver", is_active=True)
        assert (await Socket.for_user(token).open())["type"] == "ready"
    finally:
        if not host_signal:
            post_save.connect(close_sockets_of_deactivated_user, sender=User)


@pytest.mark.django_db(transaction=True)
async def test_erasing_closes_sockets_and_keeps_messages_as_deleted_user(keys, settings):
    keys.enable(settings)
    token = keys.token("eraser", name="Eraser")
    sock = Socket.for_user(token)
    await sock.open()

    def world() -> dict[str, Any]:
        friend = body(put_user("friend", username="friend"))
        other = body(put_user("other", username="other"))
        direct = body(call("POST", CONVERSATIONS, json={"users": ["eraser", "friend"]}))
        group = body(call("POST", CONVERSATIONS, json={"users": ["friend", "other"], "title": "G", "admin": "eraser"}))
        me = Api(token)
        for cid in (direct["id"], group["id"]):
            assert me.post(f"/api/chat/conversations/{cid}/send_message/", json={"content": "kept"}).status_code == 201
        return {"friend": friend, "other": other, "direct": direct["id"], "group": group["id"]}

    w = await database_sync_to_async(world)()
    await sock.drain(0.1)
    response = await database_sync_to_async(call)("DELETE", USERS + "eraser/")
    assert response.status_code == 204
    assert await sock.closed_with(timeout=2) == 4401

    def after() -> None:
        assert not ExternalIdentity.objects.filter(external_id="eraser").exists()
        friend = Api(keys.token("friend"))
        for cid in (w["direct"], w["group"]):
            messages = body(friend.get(f"/api/chat/conversations/{cid}/messages/"))["results"]
            assert [(m["content"], m["sender"], m["sender_name"]) for m in messages] == [("kept", None, "deleted user")]
        group = body(friend.get(f"/api/chat/conversations/{w['group']}/"))
        assert {m["id"]: m["role"] for m in group["members"]} == {
            w["friend"]["id"]: "admin",
            w["other"]["id"]: "member",
        }
        assert Event.objects.filter(conversation_id=w["group"], type="member.removed").count() == 1
        assert call("DELETE", USERS + "eraser/").status_code == 404

    await database_sync_to_async(after)()


# --- Conversations ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_open_a_direct_conversation_then_find_it_again(server):
    a, b = body(put_user("a", username="aa")), body(put_user("b", username="bb"))
    first = call("POST", CONVERSATIONS, json={"users": ["a", "b"]})
    assert first.status_code == 201, first.text
    opened = body(first)
    assert {k: opened[k] for k in ("kind", "title", "participants", "users", "admin")} == {
        "kind": "direct",
        "title": "",
        "participants": sorted([a["id"], b["id"]]),
        "users": ["a", "b"],
        "admin": None,
    }
    again = call("POST", CONVERSATIONS, json={"users": ["b", "a"]})
    assert (again.status_code, body(again)["id"]) == (200, opened["id"])


@pytest.mark.django_db
def test_open_a_group_with_its_admin(server, keys):
    ids = {name: body(put_user(name, username=name))["id"] for name in ("boss", "m1", "m2")}
    response = call("POST", CONVERSATIONS, json={"users": ["m1", "m2"], "title": "Team", "admin": "boss"})
    assert response.status_code == 201, response.text
    opened = body(response)
    assert (opened["kind"], opened["title"], opened["users"], opened["admin"]) == (
        "group",
        "Team",
        ["boss", "m1", "m2"],
        "boss",
    )
    seen = body(Api(keys.token("m1")).get(f"/api/chat/conversations/{opened['id']}/"))
    assert {m["id"]: m["role"] for m in seen["members"]} == {
        ids["boss"]: "admin",
        ids["m1"]: "member",
        ids["m2"]: "member",
    }


@pytest.mark.django_db
def test_every_bad_conversation_input_is_a_clear_400_and_stores_nothing(server, settings):
    for name in ("a", "b", "c"):
        put_user(name)
    put_user("off", is_active=False)
    settings.PARLEY = {**settings.PARLEY, "MAX_GROUP_MEMBERS": 3}
    cases = {
        "body a list": ["a", "b"],
        "no users": {},
        "users not a list": {"users": "a,b"},
        "an id not a string": {"users": ["a", 2]},
        "an empty id": {"users": ["a", ""]},
        "an id too long": {"users": ["a", "x" * 256]},
        "an id with NUL": {"users": ["a", "b\x00"]},
        "direct with one user": {"users": ["a"]},
        "direct with the same user twice": {"users": ["a", "a"]},
        "direct with three users": {"users": ["a", "b", "c"]},
        "unknown user": {"users": ["a", "nobody"]},
        "deactivated user": {"users": ["a", "off"]},
        "unknown field": {"users": ["a", "b"], "kind": "direct"},
        "group without admin": {"users": ["a", "b"], "title": "G"},
        "group admin unknown": {"users": ["a", "b"], "title": "G", "admin": "nobody"},
        "group admin not a string": {"users": ["a", "b"], "title": "G", "admin": 1},
        "group title not a string": {"users": ["a", "b"], "title": 5, "admin": "c"},
        "group title too long": {"users": ["a", "b"], "title": "t" * 201, "admin": "c"},
        "group too large": {"users": ["a", "b", "c", "d"], "title": "G", "admin": "a"},
        "group too large with its admin": {"users": ["a", "b", "c"], "title": "G", "admin": "z"},
    }
    before = state()
    failures = []
    for case, payload in cases.items():
        response = call("POST", CONVERSATIONS, json=payload)
        if response.status_code != 400 or "code" not in body(response):
            failures.append(f"{case}: {response.status_code} {response.text[:120]}")
    assert failures == []
    assert state() == before


@pytest.mark.django_db
def test_the_schema_documents_the_server_api_and_its_key(server):
    response = Api().get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["components"]["securitySchemes"]["apiKeyAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Api-Key <PARLEY_API_KEY>`: the host's backend only, never a browser or an app.",
    }
    operations = {
        (path, method): operation
        for path, item in schema["paths"].items()
        if path.startswith("/api/server/")
        for method, operation in item.items()
    }
    assert set(operations) == {
        ("/api/server/users/{external_id}/", "get"),
        ("/api/server/users/{external_id}/", "put"),
        ("/api/server/users/{external_id}/", "delete"),
        ("/api/server/conversations/", "post"),
        ("/api/server/webhooks/", "get"),
        ("/api/server/webhooks/", "post"),
        ("/api/server/webhooks/{webhook_id}/", "get"),
        ("/api/server/webhooks/{webhook_id}/", "patch"),
        ("/api/server/webhooks/{webhook_id}/", "delete"),
        ("/api/server/webhooks/{webhook_id}/deliveries/", "get"),
        ("/api/server/webhooks/{webhook_id}/deliveries/{delivery_id}/replay/", "post"),
    }
    for operation in operations.values():
        assert operation["security"] == [{"apiKeyAuth": []}]
        assert {"401", "404"} <= set(operation["responses"])
    # Chat routes take either kind of bearer token, never the key.
    assert schema["paths"]["/api/chat/conversations/"]["get"]["security"] == [{"hostJwtAuth": []}, {"jwtAuth": []}]


@pytest.mark.django_db
def test_the_schema_leaves_the_server_api_out_while_it_is_off(keys, settings):
    keys.enable(settings, api_key="")
    schema = json.loads(Api().get("/api/schema/?format=json").content)
    assert not [path for path in schema["paths"] if path.startswith("/api/server/")]
    assert "/api/chat/conversations/" in schema["paths"]
