"""The authorization matrix: every REST route, every kind of caller, one expected status.

Callers of a direct conversation: `owner` (alice, sender of the message under test),
`other` (bob, the other participant), `stranger` (carol), `anonymous`. Callers of a
group: `admin` (alice), `member` (bob), `stranger`, `anonymous`. Account routes:
`user` and `anonymous`.

A stranger or anonymous caller must never see a byte of the conversation: its message,
title and attachment carry a canary string that no such response may contain, and
such a request must not change a row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from parley.api.urls import urlpatterns as chat_urlpatterns
from parley.models import Conversation, Event, Membership, Message
from parley.users_urls import urlpatterns as block_urlpatterns
from server.accounts.api.urls import auth_urlpatterns, users_urlpatterns
from server.accounts.models import User
from server.accounts.tokens import token_pair_for_user
from tests.conftest import PASSWORD, Api, body

CANARY = f"CANARY-{uuid.uuid4().hex}"


@dataclass
class World:
    alice: User
    bob: User
    carol: User
    dave: User
    eve: User
    direct: int
    message: int
    group: int
    group_message: int
    refresh: dict[str, str] = field(default_factory=dict)

    def user(self, actor: str) -> User | None:
        return {
            "owner": self.alice,
            "admin": self.alice,
            "user": self.alice,
            "other": self.bob,
            "member": self.bob,
            "stranger": self.carol,
            "anonymous": None,
        }[actor]


@pytest.fixture
def world(make_user, api) -> World:
    alice, bob, carol, dave, eve = (make_user(n) for n in ("alice", "bob", "carol", "dave", "eve"))
    a, b = api(alice), api(bob)
    direct = body(a.post("/api/chat/conversations/start/", json={"user2": bob.pk}))["id"]
    sent = a.post(
        f"/api/chat/conversations/{direct}/send_message/",
        data={"content": f"secret {CANARY}"},
        files={"attachment": (f"{CANARY}.png", b"\x89PNG\r\n\x1a\n" + CANARY.encode(), "image/png")},
    )
    assert sent.status_code == 201, sent.text
    group = body(a.post("/api/chat/conversations/", json={"participants": [bob.pk, dave.pk], "title": CANARY}))["id"]
    group_message = body(b.post(f"/api/chat/conversations/{group}/send_message/", json={"content": CANARY}))["id"]
    return World(alice, bob, carol, dave, eve, direct, body(sent)["id"], group, group_message)


@dataclass(frozen=True)
class Case:
    route: str  # URL name
    method: str
    path: str  # with {D}, {M}, {G}, {GM}
    expected: dict[str, int]
    body: Callable[[World, User | None], Any] | None = None
    headers: dict[str, str] | None = None

    def url(self, w: World) -> str:
        return self.path.format(D=w.direct, M=w.message, G=w.group, GM=w.group_message, E=w.eve.pk)


def direct_statuses(owner: int, other: int, stranger: int) -> dict[str, int]:
    return {"owner": owner, "other": other, "stranger": stranger, "anonymous": 401}


def group_statuses(admin: int, member: int, stranger: int) -> dict[str, int]:
    return {"admin": admin, "member": member, "stranger": stranger, "anonymous": 401}


def content(text: str = "hello") -> Callable[[World, User | None], Any]:
    return lambda w, u: {"content": text}


C, M = "/api/chat/conversations/", "/api/chat/messages/"
CASES = {
    # Conversations, seen through the direct conversation.
    "conv-list": Case("conversation-list", "GET", C, direct_statuses(200, 200, 200)),
    "conv-create": Case(
        "conversation-list", "POST", C, direct_statuses(201, 201, 201), lambda w, u: {"participants": [w.eve.pk]}
    ),
    "conv-get": Case("conversation-detail", "GET", C + "{D}/", direct_statuses(200, 200, 403)),
    "conv-put": Case(
        "conversation-detail",
        "PUT",
        C + "{D}/",
        direct_statuses(200, 200, 403),
        lambda w, u: {"participants": [w.carol.pk]},
    ),
    "conv-patch": Case(
        "conversation-detail",
        "PATCH",
        C + "{D}/",
        direct_statuses(200, 200, 403),
        lambda w, u: {"participants": [w.carol.pk]},
    ),
    "conv-delete": Case("conversation-detail", "DELETE", C + "{D}/", direct_statuses(204, 204, 403)),
    "conv-start": Case(
        "conversation-start",
        "POST",
        C + "start/",
        # The stranger starts a new conversation of their own with alice.
        direct_statuses(200, 200, 201),
        lambda w, u: {"user2": (w.bob if u == w.alice else w.alice).pk},
    ),
    "conv-messages": Case("conversation-messages", "GET", C + "{D}/messages/", direct_statuses(200, 200, 403)),
    "conv-messages-keyset": Case(
        "conversation-messages", "GET", C + "{D}/messages/?before=999999", direct_statuses(200, 200, 403)
    ),
    "conv-send": Case(
        "conversation-send-message", "POST", C + "{D}/send_message/", direct_statuses(201, 201, 403), content()
    ),
    "conv-add": Case(
        "conversation-add-participants",
        "POST",
        C + "{D}/add_participants/",
        direct_statuses(400, 400, 403),
        lambda w, u: {"participants": [w.eve.pk]},
    ),
    "conv-remove": Case(
        "conversation-remove-participant",
        "POST",
        C + "{D}/remove_participant/",
        direct_statuses(400, 400, 403),
        lambda w, u: {"user": w.bob.pk},
    ),
    "conv-leave": Case("conversation-leave", "POST", C + "{D}/leave/", direct_statuses(400, 400, 403)),
    "conv-events": Case("conversation-events", "GET", C + "{D}/events/", direct_statuses(200, 200, 403)),
    # Messages (alice's message in the direct conversation).
    "msg-list": Case("message-list", "GET", M, direct_statuses(200, 200, 200)),
    "msg-list-filtered": Case("message-list", "GET", M + "?conversation={D}", direct_statuses(200, 200, 200)),
    # Search: a stranger finds nothing, and asking for the conversation is a 404.
    "search": Case("search", "GET", "/api/chat/search/?q=CANARY", direct_statuses(200, 200, 200)),
    "search-conversation": Case(
        "search", "GET", "/api/chat/search/?q=CANARY&conversation={D}", direct_statuses(200, 200, 404)
    ),
    "msg-get": Case("message-detail", "GET", M + "{M}/", direct_statuses(200, 200, 404)),
    "msg-read": Case("message-mark-read", "POST", M + "{M}/mark_read/", direct_statuses(200, 200, 404)),
    "msg-edit": Case(
        "message-edit-message", "POST", M + "{M}/edit_message/", direct_statuses(200, 403, 404), content("edited")
    ),
    "msg-delete": Case("message-delete-message", "POST", M + "{M}/delete_message/", direct_statuses(200, 403, 404)),
    "msg-edit-alias": Case("message-edit", "PATCH", M + "{M}/edit/", direct_statuses(200, 403, 404), content("e")),
    "msg-delete-alias": Case("message-soft-delete", "DELETE", M + "{M}/soft_delete/", direct_statuses(200, 403, 404)),
    "msg-attachment": Case("message-attachment", "GET", M + "{M}/attachment/", direct_statuses(200, 200, 404)),
    # SPEC 10 on the direct conversation: either side may pin; nobody has reacted yet.
    "msg-react": Case(
        "message-reactions", "POST", M + "{M}/reactions/", direct_statuses(201, 201, 404), lambda w, u: {"emoji": "👍"}
    ),
    "msg-unreact": Case("message-reactions", "DELETE", M + "{M}/reactions/?emoji=👍", direct_statuses(404, 404, 404)),
    "msg-thread": Case("message-thread", "GET", M + "{M}/thread/", direct_statuses(200, 200, 404)),
    "msg-pin": Case("message-pin", "POST", M + "{M}/pin/", direct_statuses(200, 200, 404)),
    "msg-unpin": Case("message-unpin", "POST", M + "{M}/unpin/", direct_statuses(200, 200, 404)),
    "msg-history": Case("message-history", "GET", M + "{M}/history/", direct_statuses(200, 200, 404)),
    "mentions": Case("mentions", "GET", "/api/chat/mentions/", direct_statuses(200, 200, 200)),
    "conv-me": Case(
        "conversation-me", "PATCH", C + "{D}/me/", direct_statuses(200, 200, 403), lambda w, u: {"archived": True}
    ),
    "conv-pins": Case("conversation-pins", "GET", C + "{D}/pins/", direct_statuses(200, 200, 403)),
    # The group: admin alice, member bob (and dave).
    "group-get": Case("conversation-detail", "GET", C + "{G}/", group_statuses(200, 200, 403)),
    "group-rename": Case(
        "conversation-detail", "PUT", C + "{G}/", group_statuses(200, 200, 403), lambda w, u: {"title": "Renamed"}
    ),
    "group-rename-patch": Case(
        "conversation-detail", "PATCH", C + "{G}/", group_statuses(200, 200, 403), lambda w, u: {"title": "Renamed"}
    ),
    # The admin deletes the group for everyone; a member leaves it.
    "group-delete": Case("conversation-detail", "DELETE", C + "{G}/", group_statuses(204, 204, 403)),
    "group-messages": Case("conversation-messages", "GET", C + "{G}/messages/", group_statuses(200, 200, 403)),
    "group-send": Case(
        "conversation-send-message", "POST", C + "{G}/send_message/", group_statuses(201, 201, 403), content()
    ),
    "group-add": Case(
        "conversation-add-participants",
        "POST",
        C + "{G}/add_participants/",
        group_statuses(200, 200, 403),
        lambda w, u: {"participants": [w.eve.pk]},
    ),
    "group-remove-other": Case(
        "conversation-remove-participant",
        "POST",
        C + "{G}/remove_participant/",
        group_statuses(200, 403, 403),
        lambda w, u: {"user": w.dave.pk},
    ),
    "group-remove-self": Case(
        "conversation-remove-participant",
        "POST",
        C + "{G}/remove_participant/",
        group_statuses(204, 204, 403),
        lambda w, u: {"user": u.pk if u else w.bob.pk},
    ),
    "group-leave": Case("conversation-leave", "POST", C + "{G}/leave/", group_statuses(204, 204, 403)),
    "group-events": Case("conversation-events", "GET", C + "{G}/events/", group_statuses(200, 200, 403)),
    # bob's message in the group: being admin gives no right over others' messages.
    "group-msg-get": Case("message-detail", "GET", M + "{GM}/", group_statuses(200, 200, 404)),
    "group-msg-read": Case("message-mark-read", "POST", M + "{GM}/mark_read/", group_statuses(200, 200, 404)),
    "group-msg-edit": Case(
        "message-edit-message", "POST", M + "{GM}/edit_message/", group_statuses(403, 200, 404), content("x")
    ),
    "group-msg-delete": Case(
        "message-delete-message", "POST", M + "{GM}/delete_message/", group_statuses(403, 200, 404)
    ),
    # SPEC 10 in the group: only admins pin; any member reacts.
    "group-msg-pin": Case("message-pin", "POST", M + "{GM}/pin/", group_statuses(200, 403, 404)),
    "group-msg-unpin": Case("message-unpin", "POST", M + "{GM}/unpin/", group_statuses(200, 403, 404)),
    "group-msg-react": Case(
        "message-reactions", "POST", M + "{GM}/reactions/", group_statuses(201, 201, 404), lambda w, u: {"emoji": "🎉"}
    ),
    # Accounts.
    "register": Case(
        "auth-register",
        "POST",
        "/api/auth/register/",
        {"user": 201, "anonymous": 201},
        lambda w, u: {"username": f"new{uuid.uuid4().hex[:8]}", "password": PASSWORD},
    ),
    "login": Case(
        "auth-login",
        "POST",
        "/api/auth/login/",
        {"user": 200, "anonymous": 200},
        lambda w, u: {"username": "alice", "password": PASSWORD},
    ),
    "login-alias": Case(
        "auth-login",
        "POST",
        "/api/auth/login",
        {"user": 200, "anonymous": 200},
        lambda w, u: {"username": "alice", "password": PASSWORD},
    ),
    "refresh": Case(
        "auth-refresh",
        "POST",
        "/api/auth/refresh/",
        {"user": 200, "anonymous": 200},
        lambda w, u: {"refresh": token_pair_for_user(w.alice)["refresh"]},
    ),
    "refresh-token": Case(
        "auth-refresh-token",
        "POST",
        "/api/auth/refresh-token",
        {"user": 200, "anonymous": 200},
        lambda w, u: {"refresh": token_pair_for_user(w.alice)["refresh"]},
    ),
    "logout": Case(
        "auth-logout",
        "POST",
        "/api/auth/logout/",
        {"user": 204, "anonymous": 204},
        lambda w, u: {"refresh": token_pair_for_user(w.alice)["refresh"]},
    ),
    "me": Case("auth-me", "GET", "/api/auth/me/", {"user": 200, "anonymous": 401}),
    "password": Case(
        "auth-password",
        "POST",
        "/api/auth/password/",
        {"user": 200, "anonymous": 401},
        lambda w, u: {"old_password": PASSWORD, "new_password": "another-long-passphrase"},
    ),
    "users": Case("user-search", "GET", "/api/users/?search=a", {"user": 200, "anonymous": 401}),
    # Safety (SPEC 11).
    "block": Case("user-block", "POST", "/api/users/{E}/block/", {"user": 201, "anonymous": 401}),
    "unblock": Case("user-block", "DELETE", "/api/users/{E}/block/", {"user": 404, "anonymous": 401}),
    "blocked": Case("users-blocked", "GET", "/api/users/blocked/", {"user": 200, "anonymous": 401}),
    "msg-report": Case(
        "message-report", "POST", M + "{M}/report/", direct_statuses(400, 201, 404), lambda w, u: {"reason": "spam"}
    ),
    "group-msg-report": Case(
        "message-report", "POST", M + "{GM}/report/", group_statuses(201, 400, 404), lambda w, u: {"reason": "spam"}
    ),
    "me-export": Case(
        "auth-me-export",
        "GET",
        "/api/auth/me/export/",
        {"user": 200, "anonymous": 401},
        headers={"X-Password": PASSWORD},
    ),
    "me-delete": Case(
        "auth-me", "DELETE", "/api/auth/me/", {"user": 200, "anonymous": 401}, lambda w, u: {"password": PASSWORD}
    ),
}

CELLS = [(name, actor) for name, case in CASES.items() for actor in case.expected]


def row_counts() -> tuple[int, ...]:
    return (
        Conversation.objects.count(),
        Membership.objects.count(),
        Message.objects.filter(is_deleted=False).count(),
        Event.objects.count(),
        User.objects.count(),
    )


@pytest.mark.parametrize(("name", "actor"), CELLS, ids=[f"{n}-{a}" for n, a in CELLS])
def test_matrix(world, api, name, actor):
    case = CASES[name]
    user = world.user(actor)
    client = api(user)
    payload = case.body(world, user) if case.body else None
    before = row_counts()

    extra: dict[str, Any] = {"json": payload} if payload is not None else {}
    if case.headers:
        extra["headers"] = case.headers
    response = client.request(case.method, case.url(world), **extra)

    assert response.status_code == case.expected[actor], response.text[:300]
    if response.status_code >= 400:
        data = body(response)
        assert "detail" in data or any(isinstance(v, list) for v in data.values()), data
    if response.status_code in (401, 403, 404):
        assert row_counts() == before
    if actor in ("stranger", "anonymous"):
        assert CANARY not in response.text
        assert CANARY.encode() not in response.content


@pytest.mark.parametrize(
    "path",
    [
        "{C}",
        "{C}{D}/",
        "{C}{D}/messages/",
        "{C}{G}/",
        "{M}",
        "{M}{M_ID}/",
        "{M}{M_ID}/attachment/",
        "{C}{D}/events/",
        "/api/chat/search/?q=CANARY",
        "/api/chat/search/?q=CANARY&conversation={D}",
    ],
)
def test_participants_do_see_the_canary(world, api, path):
    """The stranger checks above mean something: the same reads show it to a member."""
    url = path.format(C=C, M=M, D=world.direct, G=world.group, M_ID=world.message)
    response = api(world.bob).get(url)
    assert response.status_code == 200
    assert CANARY.encode() in response.content


def test_a_stranger_listing_sees_none_of_the_conversations(world, api):
    assert body(api(world.carol).get(C)) == []
    assert body(api(world.carol).get(M))["results"] == []


def test_an_invalid_token_is_401_everywhere(world):
    forged = Api("not-a-jwt")
    refresh_as_access = Api(str(RefreshToken.for_user(world.alice)))
    for client in (forged, refresh_as_access):
        for case in CASES.values():
            if case.expected.get("anonymous") != 401:
                continue
            response = client.request(case.method, case.url(world))
            assert response.status_code == 401, (case.path, response.text)
            assert CANARY not in response.text


def _route_methods() -> set[tuple[str, str]]:
    routes = set()
    for pattern in [*chat_urlpatterns, *auth_urlpatterns, *users_urlpatterns, *block_urlpatterns]:
        callback = pattern.callback
        actions = getattr(callback, "actions", None)
        if actions is not None:
            methods = set(actions) - {"head"}  # DRF adds HEAD beside GET
        else:
            view = callback.view_class
            methods = {m for m in view.http_method_names if m not in ("options", "head") and hasattr(view, m)}
        routes |= {(pattern.name, m.upper()) for m in methods}
    return routes


def test_the_matrix_covers_every_route_and_method():
    covered = {(case.route, case.method) for case in CASES.values()}
    assert covered == _route_methods()
