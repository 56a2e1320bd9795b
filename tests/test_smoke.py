from tests.conftest import body


def test_send_and_read_back(alice, bob, api, direct):
    sent = api(alice).post(f"/api/chat/conversations/{direct['id']}/send_message/", data={"content": "Hello!"})
    assert sent.status_code == 201, sent.text
    page = api(bob).get(f"/api/chat/conversations/{direct['id']}/messages/")
    assert page.status_code == 200
    assert [m["content"] for m in body(page)["results"]] == ["Hello!"]
