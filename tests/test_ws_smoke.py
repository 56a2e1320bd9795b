import pytest
from channels.db import database_sync_to_async

from parley.services.conversations import conversation_start_direct
from parley.services.messages import message_send
from tests.ws import Socket, atoken_for

pytestmark = pytest.mark.django_db(transaction=True)


async def test_rest_send_reaches_socket(alice, bob):
    conversation, _ = await database_sync_to_async(conversation_start_direct)(user=alice, other_user_id=bob.pk)
    sock = Socket.for_user(await atoken_for(bob), conversation.pk)
    ready = await sock.open()
    assert ready["conversations"] == {str(conversation.pk): 0}
    await database_sync_to_async(message_send)(sender=alice, conversation_id=conversation.pk, content="hi")
    frame = await sock.receive_until("message.created")
    assert frame["message"]["content"] == "hi" and frame["seq"] == 1
    await sock.send({"type": "message.send", "content": "back", "ref": "r1"})
    ack = await sock.receive_until("ack")
    assert ack["ref"] == "r1" and ack["message"]["content"] == "back"
    await sock.close()
