"""Accounts: registration, login sessions, token rotation and revocation, users search."""

from __future__ import annotations

import pytest

from server.accounts.models import User
from tests.conftest import PASSWORD, Api, body

NEW_PASSWORD = "a-different-long-passphrase"


def login(username: str, password: str = PASSWORD) -> dict[str, str]:
    response = Api().post("/api/auth/login/", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return body(response)


def refresh(token: str):
    return Api().post("/api/auth/refresh/", json={"refresh": token})


def me(access: str):
    return Api(access).get("/api/auth/me/")


# --- Register ---------------------------------------------------------------------------------------


def test_register_returns_201_with_id_and_username(db):
    response = Api().post(
        "/api/auth/register/", json={"username": "newcomer", "password": PASSWORD, "email": "n@example.com"}
    )

    assert response.status_code == 201
    data = body(response)
    user = User.objects.get(username="newcomer")
    assert data == {"id": user.pk, "username": "newcomer"}
    assert user.email == "n@example.com"
    assert user.is_active
    assert user.check_password(PASSWORD)
    assert user.password != PASSWORD
    assert set(login("newcomer")) == {"access", "refresh"}


def test_register_without_email(db):
    response = Api().post("/api/auth/register/", json={"username": "plain", "password": PASSWORD})
    assert response.status_code == 201
    assert User.objects.get(username="plain").email == ""


@pytest.mark.parametrize("name", ["alice", "ALICE", "Alice"])
def test_register_duplicate_username_is_400_case_insensitively(alice, name):
    response = Api().post("/api/auth/register/", json={"username": name, "password": PASSWORD})

    assert response.status_code == 400
    assert "username" in body(response)
    assert User.objects.count() == 1


@pytest.mark.parametrize("password", ["short", "password123", "12345678901234", "newcomer-1", ""])
def test_register_weak_password_is_400(db, password):
    response = Api().post("/api/auth/register/", json={"username": "newcomer", "password": password})

    assert response.status_code == 400
    assert "password" in body(response)
    assert not User.objects.exists()


def test_register_ignores_a_token(alice, api):
    response = api(alice).post("/api/auth/register/", json={"username": "second", "password": PASSWORD})
    assert response.status_code == 201


# --- Login ------------------------------------------------------------------------------------------


def test_login_returns_access_and_refresh(alice):
    tokens = login("alice")

    assert set(tokens) == {"access", "refresh"}
    assert body(me(tokens["access"]))["username"] == "alice"
    alice.refresh_from_db()
    assert alice.last_login is not None


@pytest.mark.parametrize(("username", "password"), [("alice", "wrong-password"), ("nobody", PASSWORD)])
def test_login_with_bad_credentials_is_401(alice, username, password):
    response = Api().post("/api/auth/login/", json={"username": username, "password": password})
    assert response.status_code == 401
    assert "detail" in body(response)


def test_inactive_user_cannot_log_in_and_their_tokens_stop_working(alice):
    tokens = login("alice")
    alice.is_active = False
    alice.save()

    assert me(tokens["access"]).status_code == 401
    assert refresh(tokens["refresh"]).status_code == 401
    assert Api().post("/api/auth/login/", json={"username": "alice", "password": PASSWORD}).status_code == 401


def test_login_is_rate_limited_per_client(alice):
    statuses = [
        Api().post("/api/auth/login/", json={"username": "alice", "password": "wrong"}).status_code for _ in range(11)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    limited = Api().post("/api/auth/login/", json={"username": "alice", "password": PASSWORD})
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert body(limited)["code"] == "rate_limited"


# --- Refresh rotation ---------------------------------------------------------------------------------


def test_refresh_rotates_and_the_old_refresh_is_rejected(alice):
    tokens = login("alice")

    rotated = refresh(tokens["refresh"])

    assert rotated.status_code == 200
    fresh = body(rotated)
    assert set(fresh) == {"access", "refresh"}
    assert fresh["refresh"] != tokens["refresh"]
    assert me(fresh["access"]).status_code == 200
    reused = refresh(tokens["refresh"])
    assert reused.status_code == 401
    assert "detail" in body(reused)
    assert refresh(fresh["refresh"]).status_code == 200


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_refresh_with_a_bad_token(db, token):
    response = refresh(token)
    assert response.status_code in (400, 401)
    body(response)


def test_an_access_token_is_not_a_refresh_token(alice):
    tokens = login("alice")
    assert refresh(tokens["access"]).status_code == 401
    assert Api(tokens["refresh"]).get("/api/auth/me/").status_code == 401


# --- Logout -------------------------------------------------------------------------------------------


def test_logout_blacklists_the_refresh_and_ends_the_sessions_access(alice):
    session = login("alice")
    other_session = login("alice")
    assert me(session["access"]).status_code == 200

    response = Api().post("/api/auth/logout/", json={"refresh": session["refresh"]})

    assert response.status_code == 204
    assert refresh(session["refresh"]).status_code == 401
    revoked = me(session["access"])
    assert revoked.status_code == 401
    assert body(revoked)["code"] in ("session_revoked", "authentication_failed")
    # Only that session ends.
    assert me(other_session["access"]).status_code == 200
    assert refresh(other_session["refresh"]).status_code == 200


def test_logout_also_ends_access_tokens_refreshed_from_that_session(alice):
    session = login("alice")
    rotated = body(refresh(session["refresh"]))

    assert Api().post("/api/auth/logout/", json={"refresh": rotated["refresh"]}).status_code == 204

    assert me(session["access"]).status_code == 401
    assert me(rotated["access"]).status_code == 401


def test_logout_with_a_bad_or_used_token(alice):
    session = login("alice")
    assert Api().post("/api/auth/logout/", json={"refresh": session["refresh"]}).status_code == 204
    again = Api().post("/api/auth/logout/", json={"refresh": session["refresh"]})
    assert again.status_code == 401
    assert Api().post("/api/auth/logout/", json={"refresh": "nonsense"}).status_code == 401
    assert Api().post("/api/auth/logout/", json={}).status_code == 400


# --- Password change ----------------------------------------------------------------------------------


def test_password_change_invalidates_every_old_token(alice):
    first = login("alice")
    second = login("alice")

    response = Api(first["access"]).post(
        "/api/auth/password/", json={"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 200
    new = body(response)
    assert set(new) == {"access", "refresh"}
    assert me(new["access"]).status_code == 200
    assert refresh(new["refresh"]).status_code == 200
    for old in (first, second):
        assert me(old["access"]).status_code == 401
        assert refresh(old["refresh"]).status_code == 401
    assert Api().post("/api/auth/login/", json={"username": "alice", "password": PASSWORD}).status_code == 401
    assert set(login("alice", NEW_PASSWORD)) == {"access", "refresh"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"old_password": "wrong", "new_password": NEW_PASSWORD}, "old_password"),
        ({"old_password": PASSWORD, "new_password": "short"}, "new_password"),
        ({"old_password": PASSWORD, "new_password": "alice"}, "new_password"),
        ({"old_password": PASSWORD}, "new_password"),
    ],
)
def test_password_change_refusals_keep_the_password(alice, api, payload, field):
    client = api(alice)
    response = client.post("/api/auth/password/", json=payload)

    assert response.status_code == 400
    assert field in body(response)
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert client.get("/api/auth/me/").status_code == 200


# --- Me and users search ------------------------------------------------------------------------------


def test_me(alice, api):
    data = body(api(alice).get("/api/auth/me/"))
    assert data["id"] == alice.pk
    assert data["username"] == "alice"
    assert set(data) == {"id", "username", "email", "date_joined"}


def test_users_search_returns_id_and_username_only(alice, api, make_user):
    alfred = make_user("alfred", email="secret@example.com")
    make_user("zed_alfa")
    make_user("bob")
    make_user("alfie_gone", is_active=False)

    data = body(api(alice).get("/api/users/?search=al"))

    assert data == [
        {"id": alfred.pk, "username": "alfred"},
        {"id": User.objects.get(username="zed_alfa").pk, "username": "zed_alfa"},
    ]
    assert "secret@example.com" not in api(alice).get("/api/users/?search=al").text


def test_users_search_without_query_lists_others_and_honours_limit(alice, api, make_user):
    for name in ("u3", "u1", "u2"):
        make_user(name)
    make_user("u0", is_active=False)

    everyone = body(api(alice).get("/api/users/"))
    assert [u["username"] for u in everyone] == ["u1", "u2", "u3"]
    assert [u["username"] for u in body(api(alice).get("/api/users/?limit=2"))] == ["u1", "u2"]
    assert body(api(alice).get("/api/users/?search=alice")) == []
