"""parley.realtime.delivery on its own: no socket, no database, no channel layer.

`Log` is an in-memory Port: `history` plays the database (the durable frames of each
conversation, and who is still a member), and every effect is recorded in order, so a
test states exactly what the client receives.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from parley import events
from parley.realtime.delivery import Delivery

ME, OTHER = 7, 8


class Log:
    me = ME

    def __init__(self, history: dict[int, list[Mapping[str, Any]]] | None = None) -> None:
        self.history = history or {}
        self.members: dict[int, bool] = {}
        self.sent: list[tuple[Any, ...]] = []  # what the client saw, and the other effects

    async def emit(self, frame: Mapping[str, Any]) -> None:
        self.sent.append(("frame", frame["conversation"], frame["seq"]))

    async def emit_text(self, text: str) -> None:
        frame = json.loads(text)
        self.sent.append(("text", frame["conversation"], frame.get("seq")))

    async def read_after(self, conversation_id: int, after: int) -> tuple[list[Mapping[str, Any]], bool]:
        self.sent.append(("read", conversation_id, after))
        frames = [f for f in self.history.get(conversation_id, []) if f["seq"] > after]
        return frames, self.members.get(conversation_id, True)

    async def learn(self, frames: list[Mapping[str, Any]]) -> None:
        pass

    async def subscribe(self, conversation_id: int) -> None:
        self.sent.append(("subscribe", conversation_id))

    async def left(self, conversation_id: int) -> None:
        self.sent.append(("left", conversation_id))


def created(cid: int, seq: int) -> events.MessageCreated:
    return events.message_created(conversation_id=cid, seq=seq, message={"id": seq, "content": f"m{seq}"})


def text(frame: Mapping[str, Any]) -> str:
    return json.dumps(frame)


async def live(delivery: Delivery, frame: Mapping[str, Any]) -> None:
    await delivery.live(frame["conversation"], frame["seq"], frame["type"], frame.get("user"), text(frame))


async def test_the_next_frame_is_sent_and_moves_the_cursor() -> None:
    port = Log()
    delivery = Delivery(port)
    await delivery.start({1: 4}, [])
    await live(delivery, created(1, 5))
    assert port.sent == [("text", 1, 5)] and delivery.cursors == {1: 5}


async def test_repeats_and_old_frames_are_dropped() -> None:
    port = Log()
    delivery = Delivery(port)
    await delivery.start({1: 5}, [])
    for seq in (5, 3, 5):
        await live(delivery, created(1, seq))
    assert port.sent == [] and delivery.cursors == {1: 5}


async def test_frames_of_conversations_not_followed_are_dropped() -> None:
    port = Log()
    delivery = Delivery(port)
    await live(delivery, created(9, 1))
    assert port.sent == [] and delivery.cursors == {}


async def test_a_gap_is_filled_from_the_database_before_the_newer_frame() -> None:
    port = Log({1: [created(1, seq) for seq in range(1, 7)]})
    delivery = Delivery(port)
    await delivery.start({1: 2}, [])
    await live(delivery, created(1, 6))  # 3, 4, 5 were lost by the layer
    # The fill read 6 as well (committed before it was published): not sent twice.
    assert port.sent == [("read", 1, 2), *(("frame", 1, seq) for seq in (3, 4, 5, 6))]
    await live(delivery, created(1, 7))
    assert port.sent[-1] == ("text", 1, 7) and delivery.cursors == {1: 7}


async def test_catch_up_starts_at_since_and_skips_what_it_already_sent() -> None:
    port = Log()
    delivery = Delivery(port)
    await delivery.start({1: 2}, [created(1, 3), created(1, 3), created(1, 4)])
    await live(delivery, created(1, 4))  # published while catching up: already sent
    assert port.sent == [("frame", 1, 3), ("frame", 1, 4)]


async def test_a_removal_naming_this_user_ends_the_conversation_and_nothing_after_it_is_sent() -> None:
    port = Log()
    delivery = Delivery(port)
    await delivery.start({1: 1, 2: 0}, [])
    await live(delivery, events.member_removed(conversation_id=1, seq=2, user_id=OTHER, by=ME))
    await live(delivery, events.member_removed(conversation_id=1, seq=3, user_id=ME, by=OTHER))
    await live(delivery, created(1, 4))
    assert port.sent == [("text", 1, 2), ("text", 1, 3), ("left", 1)]
    assert delivery.cursors == {2: 0}


async def test_a_fill_that_finds_the_user_gone_sends_up_to_the_removal_then_leaves() -> None:
    removal = events.member_removed(conversation_id=1, seq=3, user_id=ME, by=OTHER)
    port = Log({1: [created(1, 2), removal]})
    port.members[1] = False
    delivery = Delivery(port)
    await delivery.start({1: 1}, [])
    await live(delivery, created(1, 9))
    assert port.sent == [("read", 1, 1), ("frame", 1, 2), ("frame", 1, 3), ("left", 1)]
    assert delivery.cursors == {}


async def test_joining_subscribes_sends_the_frame_then_fills_what_came_before() -> None:
    port = Log({5: [created(5, 3), created(5, 4)]})
    delivery = Delivery(port)
    conversation = events.conversation_created(conversation={"id": 5, "last_seq": 3})
    frame_text = json.dumps({**conversation, "conversation": 5})
    assert await delivery.joined(5, 3, frame_text) is True
    assert await delivery.joined(5, 3, frame_text) is False  # heard twice: once is enough
    assert port.sent == [("subscribe", 5), ("text", 5, None), ("read", 5, 3), ("frame", 5, 4)]


async def test_resync_fills_only_the_conversations_that_moved() -> None:
    port = Log({1: [created(1, 2)], 2: [created(2, 1)]})
    delivery = Delivery(port)
    await delivery.start({1: 1, 2: 1, 3: 0}, [])
    await delivery.resync({1: 2, 2: 1, 4: 9})
    assert port.sent == [("read", 1, 1), ("frame", 1, 2)]


async def test_live_frames_wait_for_a_fill_in_progress() -> None:
    """The lock: a live frame arriving while a resync reads the database is handled after
    it, so the client never sees 4 before 3."""
    release = asyncio.Event()

    class Slow(Log):
        async def read_after(self, conversation_id: int, after: int) -> tuple[list[Mapping[str, Any]], bool]:
            await release.wait()
            return await super().read_after(conversation_id, after)

    port = Slow({1: [created(1, 2), created(1, 3)]})
    delivery = Delivery(port)
    await delivery.start({1: 1}, [])
    resync = asyncio.create_task(delivery.resync({1: 3}))
    await asyncio.sleep(0)
    arriving = asyncio.create_task(live(delivery, created(1, 4)))
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(resync, arriving)
    assert [entry[2] for entry in port.sent if entry[0] in ("frame", "text")] == [2, 3, 4]
