"""The REST authorization matrix: every operation x every actor x every kind of object.

Actors and objects are described in tests/security_world.py. The expected status of
each cell comes from an oracle that states docs/api.md's rules once (`expected`), not
from a table of numbers, so a new operation needs one line and its rule.

Objects: conversations G (group; alice admin, bob member), D (direct, alice and bob),
F (foreign: carol and frank), X (a group alice deleted), a nonexistent id; messages
mA (alice's, with a file), mB (bob's), mE (erin's, written before her removal),
mDel (soft-deleted), mD (alice's, in D), mF (carol's, in F), a nonexistent id.

Each cell runs in a savepoint that is rolled back, so every cell starts from the same
world. Every response body, header and log line of a cell is scanned for the canary
of every message the actor must not see. Figures: cells, deviations, canary leaks.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction

from parley.models import Message
from server.accounts.models import User
from server.accounts.tokens import token_pair_for_user
from tests.conftest import PASSWORD, Api
from tests.figures import record
from tests.notifystands import Browser, vapid_settings
from tests.security_world import ACTORS, USER_ACTORS, LogLines, World, build_world

C, M, S = "/api/chat/conversations/", "/api/chat/messages/", "/api/server/"
CONVERSATION_OBJECTS = ("G", "D", "F", "X", "missing")
MESSAGE_OBJECTS = ("mA", "mB", "mE", "mDel", "mD", "mF", "missing")

Body = Callable[[World, User | None, int], Any]


@dataclass(frozen=True)
class Op:
    name: str
    method: str
    path: str  # {id} is the object's id
    kind: str  # "none", "conversation" or "message"
    body: Body | None = None
    headers: dict[str, str] | None = None


def _other_member(w: World, user: User | None, conversation_id: int) -> dict[str, int]:
    from parley.models import Membership

    others = Membership.objects.filter(conversation_id=conversation_id).exclude(user=user)
    target = others.values_list("user_id", flat=True).first()
    return {"user": target or w.users["bob"].pk}


OPS = [
    # No object: account routes and collections.
    Op(
        "register",
        "POST",
        "/api/auth/register/",
        "none",
        lambda w, u, _: {"username": f"n{uuid.uuid4().hex[:8]}", "password": PASSWORD},
    ),
    Op(
        "login",
        "POST",
        "/api/auth/login/",
        "none",
        lambda w, u, _: {"username": w.users["alice"].username, "password": PASSWORD},
    ),
    Op(
        "login-alias",
        "POST",
        "/api/auth/login",
        "none",
        lambda w, u, _: {"username": w.users["alice"].username, "password": PASSWORD},
    ),
    Op(
        "refresh",
        "POST",
        "/api/auth/refresh/",
        "none",
        lambda w, u, _: {"refresh": token_pair_for_user(w.users["alice"])["refresh"]},
    ),
    Op(
        "refresh-token",
        "POST",
        "/api/auth/refresh-token",
        "none",
        lambda w, u, _: {"refresh": token_pair_for_user(w.users["alice"])["refresh"]},
    ),
    Op(
        "logout",
        "POST",
        "/api/auth/logout/",
        "none",
        lambda w, u, _: {"refresh": token_pair_for_user(w.users["alice"])["refresh"]},
    ),
    Op("me", "GET", "/api/auth/me/", "none"),
    Op(
        "password",
        "POST",
        "/api/auth/password/",
        "none",
        lambda w, u, _: {"old_password": PASSWORD, "new_password": "another-long-passphrase"},
    ),
    Op("users", "GET", "/api/users/?search=", "none"),
    # Safety (SPEC 11): blocks of gus (no block exists in the world), the account's end.
    Op("block", "POST", "/api/users/{gus}/block/", "none"),
    Op("unblock", "DELETE", "/api/users/{gus}/block/", "none"),
    Op("blocked", "GET", "/api/users/blocked/", "none"),
    Op("me-export", "GET", "/api/auth/me/export/", "none", headers={"X-Password": PASSWORD}),
    Op("me-delete", "DELETE", "/api/auth/me/", "none", lambda w, u, _: {"password": PASSWORD, "erase": True}),
    Op("limits", "GET", "/api/limits/", "none"),
    Op("conv-list", "GET", C, "none"),
    Op("conv-list-search", "GET", C + "?search=CANARY", "none"),
    Op("conv-create", "POST", C, "none", lambda w, u, _: {"participants": [w.users["gus"].pk], "title": "new"}),
    Op(
        "conv-start",
        "POST",
        C + "start/",
        "none",
        lambda w, u, _: {"user2": (w.users["bob"] if u == w.users["alice"] else w.users["alice"]).pk},
    ),
    Op("msg-list", "GET", M, "none"),
    Op("search", "GET", "/api/chat/search/?q=CANARY", "none"),
    # Conversations.
    Op("conv-get", "GET", C + "{id}/", "conversation"),
    Op("conv-put-title", "PUT", C + "{id}/", "conversation", lambda w, u, _: {"title": "Renamed"}),
    Op("conv-patch-title", "PATCH", C + "{id}/", "conversation", lambda w, u, _: {"title": "Renamed"}),
    Op("conv-delete", "DELETE", C + "{id}/", "conversation"),
    Op("conv-messages", "GET", C + "{id}/messages/", "conversation"),
    Op("conv-messages-keyset", "GET", C + "{id}/messages/?before=999999999", "conversation"),
    Op("conv-events", "GET", C + "{id}/events/", "conversation"),
    Op("conv-send", "POST", C + "{id}/send_message/", "conversation", lambda w, u, _: {"content": "hello"}),
    Op(
        "conv-add",
        "POST",
        C + "{id}/add_participants/",
        "conversation",
        lambda w, u, _: {"participants": [w.users["gus"].pk]},
    ),
    Op("conv-remove-other", "POST", C + "{id}/remove_participant/", "conversation", _other_member),
    Op(
        "conv-remove-self",
        "POST",
        C + "{id}/remove_participant/",
        "conversation",
        lambda w, u, _: {"user": (u or w.users["alice"]).pk},
    ),
    Op("conv-leave", "POST", C + "{id}/leave/", "conversation"),
    Op("msg-list-filtered", "GET", M + "?conversation={id}", "conversation"),
    Op("search-conversation", "GET", "/api/chat/search/?q=CANARY&conversation={id}", "conversation"),
    # Messages.
    Op("msg-get", "GET", M + "{id}/", "message"),
    Op("msg-read", "POST", M + "{id}/mark_read/", "message"),
    Op("msg-edit", "POST", M + "{id}/edit_message/", "message", lambda w, u, _: {"content": "edited"}),
    Op("msg-delete", "POST", M + "{id}/delete_message/", "message"),
    Op("msg-edit-alias", "PATCH", M + "{id}/edit/", "message", lambda w, u, _: {"content": "edited"}),
    Op("msg-delete-alias", "DELETE", M + "{id}/soft_delete/", "message"),
    Op("msg-attachment", "GET", M + "{id}/attachment/", "message"),
    # SPEC 10: reactions, threads, pins, edit history, mentions, the member's own state.
    Op("msg-react", "POST", M + "{id}/reactions/", "message", lambda w, u, _: {"emoji": "👍"}),
    Op("msg-unreact", "DELETE", M + "{id}/reactions/?emoji=👍", "message"),
    Op("msg-thread", "GET", M + "{id}/thread/", "message"),
    Op("msg-pin", "POST", M + "{id}/pin/", "message"),
    Op("msg-unpin", "POST", M + "{id}/unpin/", "message"),
    Op("msg-history", "GET", M + "{id}/history/", "message"),
    Op("mentions", "GET", "/api/chat/mentions/", "none"),
    Op("conv-me", "PATCH", C + "{id}/me/", "conversation", lambda w, u, _: {"archived": True, "pinned": True}),
    Op("conv-pins", "GET", C + "{id}/pins/", "conversation"),
    Op("msg-report", "POST", M + "{id}/report/", "message", lambda w, u, _: {"reason": "abuse"}),
    # The server API: the API key only (tests/test_server_api.py); no actor here holds it.
    Op("server-user-get", "GET", S + "users/host-alice/", "none"),
    Op("server-user-put", "PUT", S + "users/host-alice/", "none", lambda w, u, _: {"username": "hijack"}),
    Op("server-user-delete", "DELETE", S + "users/host-alice/", "none"),
    Op(
        "server-conversations",
        "POST",
        S + "conversations/",
        "none",
        lambda w, u, _: {"users": ["host-alice", "host-bob"]},
    ),
    # Webhooks (server API, the key only) and a member's own push subscriptions (SPEC 12).
    Op("server-webhooks-list", "GET", S + "webhooks/", "none"),
    Op(
        "server-webhooks-create",
        "POST",
        S + "webhooks/",
        "none",
        lambda w, u, _: {"url": "http://127.0.0.1:9/hook", "events": ["*"]},
    ),
    Op("server-webhook-get", "GET", S + "webhooks/1/", "none"),
    Op("server-webhook-patch", "PATCH", S + "webhooks/1/", "none", lambda w, u, _: {"enabled": False}),
    Op("server-webhook-delete", "DELETE", S + "webhooks/1/", "none"),
    Op("server-webhook-deliveries", "GET", S + "webhooks/1/deliveries/", "none"),
    Op("server-webhook-replay", "POST", S + "webhooks/1/deliveries/1/replay/", "none"),
    Op("push-key", "GET", "/api/push/key/", "none"),
    Op(
        "push-subscribe",
        "POST",
        "/api/push/subscriptions/",
        "none",
        lambda w, u, _: Browser().subscription("http://127.0.0.1:9/push/matrix"),
    ),
    Op(
        "push-unsubscribe",
        "DELETE",
        "/api/push/subscriptions/",
        "none",
        lambda w, u, _: {"endpoint": "http://127.0.0.1:9/push/owner"},
    ),
]

PUBLIC = {
    "register": 201,
    "login": 200,
    "login-alias": 200,
    "refresh": 200,
    "refresh-token": 200,
    "logout": 204,
    "limits": 200,
    "push-key": 200,
}
CREATED = {
    "conv-create": 201,
    "conv-send": 201,
    "block": 201,
    "unblock": 404,
    "push-subscribe": 201,
    "push-unsubscribe": 204,
}
# A member acting on a deleted message of their conversation is told it is deleted.
DELETED_IS_ERROR = ("msg-react", "msg-unreact", "msg-pin", "msg-unpin")


def expected(w: World, op: Op, actor: str, obj: str) -> int:
    """docs/api.md's rules for one cell."""
    if op.name in PUBLIC:
        return PUBLIC[op.name]  # these take no token: whatever the header says is ignored
    if op.name.startswith("server-"):
        return 401  # a user's token (good or bad) or none: never the API key
    user = w.actor_user(actor)
    if actor not in USER_ACTORS or user is None:
        return 401
    if op.kind == "none":
        if op.name == "conv-start":
            return 200 if actor in ("owner", "other") else 201
        return CREATED.get(op.name, 200)
    if op.kind == "message":
        anyhow = Message.objects.filter(pk=w.messages[obj]).select_related("conversation").first()
        if anyhow is not None and anyhow.is_deleted and op.name in DELETED_IS_ERROR:
            return 400 if w.member(user, anyhow.conversation_id) else 404
        message = Message.objects.filter(pk=w.messages[obj], is_deleted=False).first()
        if message is None or not w.member(user, message.conversation_id):
            return 404
        if op.name == "msg-react":
            return 201
        if op.name == "msg-unreact":
            return 404  # reaction_not_found: nobody in the world has reacted
        if op.name in ("msg-pin", "msg-unpin"):
            from parley.models import Membership

            role = Membership.objects.get(conversation_id=message.conversation_id, user=user).role
            return 403 if anyhow.conversation.kind == "group" and role != "admin" else 200
        if op.name in ("msg-edit", "msg-delete", "msg-edit-alias", "msg-delete-alias"):
            return 200 if message.sender_id == user.pk else 403
        if op.name == "msg-attachment":
            return 200 if message.attachment else 404
        if op.name == "msg-report":
            return 400 if message.sender_id == user.pk else 201  # one's own message: `own_message`
        return 200
    # Conversations.
    if op.name == "msg-list-filtered":
        return 200  # a filter, not an access: foreign ids give an empty page
    cid = w.conversations[obj]
    if obj in ("X", "missing"):
        return 404
    if op.name == "search-conversation":
        return 200 if w.member(user, cid) else 404  # never says whether a foreign one exists
    if not w.member(user, cid):
        return 403
    is_group = obj == "G"
    is_admin = is_group and actor == "owner"
    rules = {
        "conv-put-title": 200 if is_group else 400,
        "conv-patch-title": 200 if is_group else 400,
        "conv-delete": 204,
        "conv-send": 201,
        "conv-add": 200 if is_group else 400,
        "conv-remove-other": (200 if is_admin else 403) if is_group else 400,
        "conv-remove-self": 204 if is_group else 400,
        "conv-leave": 204 if is_group else 400,
    }
    return rules.get(op.name, 200)


def cells() -> list[tuple[Op, str, str]]:
    result = []
    for op in OPS:
        objects = {"none": ("-",), "conversation": CONVERSATION_OBJECTS, "message": MESSAGE_OBJECTS}[op.kind]
        result += [(op, actor, obj) for actor in ACTORS for obj in objects]
    return result


@pytest.fixture
def world(make_user, settings) -> World:
    # Rate limits are tested on their own (test_limits.py). The server API is on, so that
    # its refusals are the key's (401), not the off state's (404).
    settings.PARLEY = {**settings.PARLEY, "RATE_LIMITS_ENABLED": False, "API_KEY": "m" * 40, **vapid_settings()}
    world = build_world(make_user)
    from parley.services.push import subscription_save

    # The owner's browser: another user's unsubscribe answers 204 and leaves it (test_notify_push.py).
    subscription_save(user=world.users["alice"], data=Browser().subscription("http://127.0.0.1:9/push/owner"))
    from parley.services.identities import identity_upsert

    for name in ("alice", "bob"):
        identity_upsert(external_id=f"host-{name}", data={"username": f"host-{name}"})
    return world


def test_rest_authorization_matrix(world: World) -> None:
    # Clients first: importing the ASGI app configures logging, which resets the root's handlers.
    clients = {actor: Api(world.tokens[actor]) for actor in ACTORS}
    logs = LogLines()
    root = logging.getLogger()
    root.addHandler(logs)
    previous_level = root.level
    root.setLevel(logging.INFO)
    deviations: list[str] = []
    leaks: list[str] = []
    sightings = 0
    all_cells = cells()
    try:
        for op, actor, obj in all_cells:
            user = world.actor_user(actor)
            object_id = {"conversation": world.conversations, "message": world.messages}.get(op.kind, {}).get(obj, 0)
            url = op.path.format(id=object_id, gus=world.users["gus"].pk)
            first_line = len(logs.lines)
            with transaction.atomic():
                want = expected(world, op, actor, obj)
                payload = op.body(world, user, object_id) if op.body else None
                extra: dict[str, Any] = {"json": payload} if payload is not None else {}
                if op.headers:
                    extra["headers"] = op.headers
                response = clients[actor].request(op.method, url, **extra)
                transaction.set_rollback(True)
            seen = response.text + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
            seen += "\n" + "\n".join(logs.lines[first_line:])
            if response.status_code != want:
                deviations.append(f"{op.name} {actor} {obj}: {response.status_code} != {want} {response.text[:120]}")
            elif response.status_code >= 400 and "detail" not in response.text and "code" not in response.text:
                deviations.append(f"{op.name} {actor} {obj}: error without a JSON reason: {response.text[:120]}")
            leaked = world.leaks(seen, actor)
            if op.name == "me-export" and user is not None:
                # The export holds the caller's own messages, also of groups they left.
                own = set(Message.objects.filter(sender=user, is_deleted=False).values_list("content", flat=True))
                leaked = [c for c in leaked if not any(c in text for text in own)]
            leaks += [f"{op.name} {actor} {obj}: {c[:24]}" for c in leaked]
            sightings += world.sightings(response.text) if actor in ("owner", "other") else 0
    finally:
        root.removeHandler(logs)
        root.setLevel(previous_level)

    record(
        "authorization_rest",
        cells=len(all_cells),
        operations=len(OPS),
        actors=len(ACTORS),
        deviations=len(deviations),
        canary_leaks=len(leaks),
        canaries=len(world.canaries),
        canary_sightings_by_members=sightings,
        log_lines_scanned=len(logs.lines),
    )
    assert deviations == [], "\n".join(deviations[:40])
    assert leaks == [], "\n".join(leaks[:40])
    # The scanner can see: members read the canaries in plenty of cells.
    assert sightings > 100


def api_routes() -> set[tuple[str, str]]:
    """(URL name, method) of every route under /api/ except the schema and its viewers."""
    from django.urls import URLPattern, URLResolver, get_resolver

    routes: set[tuple[str, str]] = set()

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
                continue
            assert isinstance(pattern, URLPattern)
            path = prefix + str(pattern.pattern)
            if not path.lstrip("^").startswith("api/") or pattern.name in ("schema", "api-docs", "api-redoc"):
                continue
            callback = pattern.callback
            actions = getattr(callback, "actions", None)
            if actions is not None:
                methods = set(actions) - {"head"}
            else:
                view = callback.view_class  # type: ignore[attr-defined]
                methods = {m for m in view.http_method_names if m not in ("options", "head") and hasattr(view, m)}
            routes.update((str(pattern.name), m.upper()) for m in methods)

    walk(get_resolver().url_patterns, "")
    return routes


ROUTE_OF = {
    "register": "auth-register",
    "login": "auth-login",
    "refresh": "auth-refresh",
    "refresh-token": "auth-refresh-token",
    "logout": "auth-logout",
    "me": "auth-me",
    "password": "auth-password",
    "users": "user-search",
    "block": "user-block",
    "unblock": "user-block",
    "blocked": "users-blocked",
    "me-export": "auth-me-export",
    "me-delete": "auth-me",
    "msg-report": "message-report",
    "limits": "limits",
    "conv-list": "conversation-list",
    "conv-create": "conversation-list",
    "conv-start": "conversation-start",
    "msg-list": "message-list",
    "search": "search",
    "conv-get": "conversation-detail",
    "conv-put-title": "conversation-detail",
    "conv-patch-title": "conversation-detail",
    "conv-delete": "conversation-detail",
    "conv-messages": "conversation-messages",
    "conv-events": "conversation-events",
    "conv-send": "conversation-send-message",
    "conv-add": "conversation-add-participants",
    "conv-remove-other": "conversation-remove-participant",
    "conv-leave": "conversation-leave",
    "msg-get": "message-detail",
    "msg-read": "message-mark-read",
    "msg-edit": "message-edit-message",
    "msg-delete": "message-delete-message",
    "msg-edit-alias": "message-edit",
    "msg-delete-alias": "message-soft-delete",
    "msg-attachment": "message-attachment",
    "msg-react": "message-reactions",
    "msg-unreact": "message-reactions",
    "msg-thread": "message-thread",
    "msg-pin": "message-pin",
    "msg-unpin": "message-unpin",
    "msg-history": "message-history",
    "mentions": "mentions",
    "conv-me": "conversation-me",
    "conv-pins": "conversation-pins",
    "server-user-get": "server-user",
    "server-user-put": "server-user",
    "server-user-delete": "server-user",
    "server-conversations": "server-conversations",
    "server-webhooks-list": "server-webhooks",
    "server-webhooks-create": "server-webhooks",
    "server-webhook-get": "server-webhook",
    "server-webhook-patch": "server-webhook",
    "server-webhook-delete": "server-webhook",
    "server-webhook-deliveries": "server-webhook-deliveries",
    "server-webhook-replay": "server-webhook-replay",
    "push-key": "push-key",
    "push-subscribe": "push-subscriptions",
    "push-unsubscribe": "push-subscriptions",
}


def test_the_matrix_covers_every_rest_route() -> None:
    """A new route under /api/ fails here until the matrix has an operation (and a rule) for it."""
    by_name = {op.name: op for op in OPS}
    covered = {(route, by_name[name].method) for name, route in ROUTE_OF.items()}
    assert covered == api_routes()
