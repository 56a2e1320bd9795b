"""Clients of the original backend (SPEC section 9): `POST /api/auth/refresh-token` is an
alias of refresh, and login takes an email in place of the username, without telling
anyone which addresses have accounts."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, Api, body


def login(username: str, password: str = PASSWORD):
    return Api().post("/api/auth/login/", json={"username": username, "password": password})


def username_of(response) -> str:
    assert response.status_code == 200, response.text
    return body(Api(body(response)["access"]).get("/api/auth/me/"))["username"]


# --- refresh-token ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/auth/refresh-token", "/api/auth/refresh-token/"])
def test_refresh_token_is_refresh(alice, path):
    tokens = body(login("alice"))

    rotated = Api().post(path, json={"refresh": tokens["refresh"]})

    assert rotated.status_code == 200, rotated.text
    fresh = body(rotated)
    assert set(fresh) == {"access", "refresh"} and fresh["refresh"] != tokens["refresh"]
    assert body(Api(fresh["access"]).get("/api/auth/me/"))["username"] == "alice"
    # The same rotation: the used token is spent on both paths.
    for spent in ("/api/auth/refresh-token/", "/api/auth/refresh/"):
        again = Api().post(spent, json={"refresh": tokens["refresh"]})
        assert again.status_code == 401 and "detail" in body(again)


@pytest.mark.parametrize("payload", [{}, {"refresh": ""}, {"refresh": "garbage"}, {"refresh": ["a"]}])
def test_refresh_token_refuses_bad_input_in_json(db, payload):
    response = Api().post("/api/auth/refresh-token", json=payload)
    assert response.status_code in (400, 401)
    assert body(response)


# --- Login with an email ------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["alice@example.com", "Alice@Example.COM"])
def test_login_with_the_email_in_place_of_the_username(make_user, typed):
    make_user("alice", email="alice@example.com")
    assert username_of(login(typed)) == "alice"


def test_a_username_wins_over_another_accounts_email(make_user):
    make_user("bob@example.com", password="bobs-own-long-passphrase")
    make_user("alice", email="bob@example.com")
    assert username_of(login("bob@example.com", "bobs-own-long-passphrase")) == "bob@example.com"
    assert login("bob@example.com", PASSWORD).status_code == 401  # alice's password is not tried


def test_a_deactivated_account_does_not_make_an_email_ambiguous(make_user):
    make_user("old", email="me@example.com", is_active=False)
    make_user("new", email="me@example.com")
    assert username_of(login("me@example.com")) == "new"


def test_an_email_of_several_accounts_or_none_fails_like_a_wrong_password(make_user):
    make_user("alice", email="shared@example.com")
    make_user("alice2", email="SHARED@example.com")
    make_user("carol", email="carol@example.com")
    wrong_password = login("carol@example.com", "not-carols-password")
    assert wrong_password.status_code == 401
    for typed in ("shared@example.com", "nobody@example.com"):
        response = login(typed)
        assert response.status_code == 401
        assert body(response) == body(wrong_password)
    assert login("alice").status_code == 200  # the accounts themselves are fine
