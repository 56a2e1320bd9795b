from parley.conf import parley_settings
from tests.conftest import body


def test_send_and_read_back(alice, bob, api, direct):
    sent = api(alice).post(f"/api/chat/conversations/{direct['id']}/send_message/", data={"content": "Hello!"})
    assert sent.status_code == 201, sent.text
    page = api(bob).get(f"/api/chat/conversations/{direct['id']}/messages/")
    assert page.status_code == 200
    assert [m["content"] for m in body(page)["results"]] == ["Hello!"]


def test_limits_are_public_and_match_the_settings(api, settings):
    settings.PARLEY = {**settings.PARLEY, "MAX_ATTACHMENT_BYTES": 1234}
    response = api(None).get("/api/limits/")
    assert response.status_code == 200
    limits = body(response)
    assert limits["max_attachment_bytes"] == 1234
    assert limits["max_content_length"] == parley_settings.MAX_CONTENT_LENGTH
