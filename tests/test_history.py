"""SPEC section 2 beyond the seed: keyset history, the conversation list's order and
cursor, and the send rate limit."""

from __future__ import annotations

from typing import Any

from parley.conf import parley_settings
from parley.models import Message
from tests.conftest import body
from tests.helpers import CONVERSATIONS, bulk_messages, conv_url, msg_url, send, start


def follow(client, url: str | None) -> dict[str, Any]:
    assert url is not None
    response = client.get(url.removeprefix("http://testserver"))
    assert response.status_code == 200, response.text
    return body(response)


def contents(data: dict[str, Any]) -> list[str]:
    return [m["content"] for m in data["results"]]


def test_keyset_opens_at_the_newest_page_and_scrolls_back(alice, api, direct):
    bulk_messages(direct["id"], alice, 7)
    client = api(alice)

    newest = body(client.get(conv_url(direct["id"], "messages") + "?limit=3"))
    assert newest["count"] is None
    assert contents(newest) == ["m5", "m6", "m7"]
    assert newest["next"] is None

    older = follow(client, newest["previous"])
    assert contents(older) == ["m2", "m3", "m4"]
    oldest = follow(client, older["previous"])
    assert contents(oldest) == ["m1"]
    assert oldest["previous"] is None

    # And forward again from the oldest page.
    forward = follow(client, oldest["next"])
    assert contents(forward) == ["m2", "m3", "m4"]
    assert contents(follow(client, forward["next"])) == ["m5", "m6", "m7"]


def test_keyset_after_reads_forward_and_skips_deleted(alice, api, direct):
    first = send(api(alice), direct["id"], "a")
    gone = send(api(alice), direct["id"], "b")
    send(api(alice), direct["id"], "c")
    assert api(alice).post(msg_url(gone["id"], "delete_message")).status_code == 200

    data = body(api(alice).get(conv_url(direct["id"], "messages") + f"?after={first['id']}"))

    assert contents(data) == ["c"]
    assert data["next"] is None
    assert contents(body(api(alice).get(conv_url(direct["id"], "messages") + "?after=0&limit=1"))) == ["a"]


def test_conversation_list_is_ordered_by_latest_activity(alice, bob, carol, make_user, api):
    dave = make_user("dave")
    with_bob, with_carol, with_dave = start(api(alice), bob), start(api(alice), carol), start(api(alice), dave)
    assert [c["id"] for c in body(api(alice).get(CONVERSATIONS))] == [with_dave["id"], with_carol["id"], with_bob["id"]]

    send(api(bob), with_bob["id"], "bump")

    listed = body(api(alice).get(CONVERSATIONS))
    assert [c["id"] for c in listed] == [with_bob["id"], with_dave["id"], with_carol["id"]]
    assert listed[0]["last_message"]["content"] == "bump"
    assert listed[0]["unread_count"] == 1


def test_conversation_list_pages_with_a_link_header(alice, make_user, api):
    ids = [start(api(alice), make_user(f"peer{i}"))["id"] for i in range(5)]
    client = api(alice)

    first = client.get(CONVERSATIONS + "?limit=2")
    assert [c["id"] for c in body(first)] == ids[::-1][:2]
    seen = [c["id"] for c in body(first)]
    link = first.headers["Link"]
    while link:
        url = link.split(">")[0].lstrip("<")
        page = client.get(url.removeprefix("http://testserver"))
        seen += [c["id"] for c in body(page)]
        link = page.headers.get("Link")

    assert seen == ids[::-1]


def test_embedded_messages_are_capped_and_newest(alice, api, direct, settings):
    settings.PARLEY = {**settings.PARLEY, "EMBEDDED_MESSAGES": 3}
    bulk_messages(direct["id"], alice, 5)

    data = body(api(alice).get(conv_url(direct["id"])))
    assert [m["content"] for m in data["messages"]] == ["m3", "m4", "m5"]
    assert [m["content"] for m in body(api(alice).get(conv_url(direct["id"]) + "?embed=1"))["messages"]] == ["m5"]
    assert body(api(alice).get(CONVERSATIONS + "?embed=0"))[0]["messages"] == []


def test_sending_is_rate_limited_per_user(alice, bob, api, direct, settings):
    settings.PARLEY = {**settings.PARLEY, "RATE_LIMITS": {**parley_settings.RATE_LIMITS, "send": "3/60"}}
    for i in range(3):
        send(api(alice), direct["id"], f"ok{i}")

    limited = api(alice).post(conv_url(direct["id"], "send_message"), json={"content": "one too many"})

    assert limited.status_code == 429
    assert body(limited)["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
    assert not Message.objects.filter(content="one too many").exists()
    send(api(bob), direct["id"], "bob has his own budget")


def test_last_message_falls_back_when_the_latest_is_deleted(alice, bob, api, direct):
    first = send(api(alice), direct["id"], "first")
    second = send(api(bob), direct["id"], "second")

    assert api(bob).post(msg_url(second["id"], "delete_message")).status_code == 200
    assert body(api(alice).get(CONVERSATIONS))[0]["last_message"]["id"] == first["id"]

    assert api(alice).post(msg_url(first["id"], "delete_message")).status_code == 200
    listed = body(api(alice).get(CONVERSATIONS))[0]
    assert listed["last_message"] is None
    assert listed["messages"] == []
