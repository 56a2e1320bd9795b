"""The lean JSON builders (chat.representations) match the documented DRF serializers,
so the OpenAPI schema describes what clients really receive."""

from __future__ import annotations

from parley.api.serializers import ConversationOut, MessageOut
from parley.models import Message
from parley.representations import message_json, message_rows_json, message_values
from tests.conftest import body
from tests.helpers import conv_url, msg_url


def test_message_json_matches_the_serializer(alice, bob, api, direct):
    plain = body(api(alice).post(conv_url(direct["id"], "send_message"), json={"content": "plain", "client_id": "k"}))
    with_file = body(
        api(alice).post(
            conv_url(direct["id"], "send_message"),
            data={"content": "file"},
            files={"attachment": ("a.png", b"\x89PNG\r\n\x1a\nxx", "image/png")},
        )
    )
    api(bob).post(msg_url(with_file["id"], "mark_read"))
    api(alice).post(msg_url(plain["id"], "edit_message"), json={"content": "edited"})

    for message in Message.objects.select_related("sender"):
        documented = dict(MessageOut(message).data)
        [from_row] = message_rows_json(message_values(Message.objects.filter(pk=message.pk)))
        assert message_json(message) == documented
        assert from_row == documented


def test_conversation_json_has_exactly_the_documented_fields(alice, bob, api, direct):
    api(alice).post(conv_url(direct["id"], "send_message"), json={"content": "x"})
    data = body(api(alice).get(conv_url(direct["id"])))

    # `sender_blocked` is documented as present only when true (the caller blocked the sender).
    always = set(MessageOut().fields) - {"sender_blocked"}
    assert set(data) == set(ConversationOut().fields)
    assert set(data["messages"][0]) == always
    assert set(data["last_message"]) == always
    assert api(bob).post(f"/api/users/{alice.pk}/block/").status_code == 201
    blocked = body(api(bob).get(conv_url(direct["id"])))
    assert set(blocked["messages"][0]) == set(MessageOut().fields)
    assert blocked["messages"][0]["sender_blocked"] is True
