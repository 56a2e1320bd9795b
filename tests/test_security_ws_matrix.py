"""The WebSocket authorization matrix: every handshake and every command x every actor.

Same actors, objects and canaries as the REST matrix (tests/security_world.py), over
the real ASGI app:

- handshakes: a conversation socket on G, D, F, X (deleted) and a nonexistent id, and
  the user socket, each with `since=0` so the catch-up replays everything it may;
- commands on the user socket, naming each conversation, about each kind of message:
  the actor's own (fresh), another member's (fresh), one of another of the actor's
  conversations, one of a conversation the actor is not in, a soft-deleted one, a
  nonexistent id; the seed's aliases too; sends and typing;
- commands before authentication, then an auth frame with each bad token.

Expected replies follow docs/websocket.md (`expected_reply`). Every frame any socket
received during the run is scanned for canaries its user must not see; the fresh
messages carry canaries as well, so live delivery to a non-member would show.
"""

from __future__ import annotations

import itertools
import json
import logging
from typing import Any

import pytest
from channels.db import database_sync_to_async

from parley.conf import parley_settings
from parley.models import Membership, Message
from parley.services.conversations import conversation_start_direct
from parley.services.messages import message_send
from server.accounts.models import User
from tests.figures import record
from tests.security_world import ACTORS, TOKEN_ACTORS, USER_ACTORS, LogLines, World, build_world, canary
from tests.ws import Socket

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async
CONVERSATIONS = ("G", "D", "F", "X", "missing")
MESSAGE_KINDS = ("own", "others", "other_conversation", "foreign", "deleted", "missing")
MESSAGE_COMMANDS = {
    "message.edit": "edit",
    "message.delete": "delete",
    "message.read": "read",
    "edit": "edit",  # the seed's aliases
    "delete": "delete",
    "read": "read",
    "reaction.add": "react",
    "reaction.remove": "unreact",
}
_refs = itertools.count(1)


def expected_handshake(w: World, actor: str, conversation: str | None) -> str:
    if actor in TOKEN_ACTORS:
        return "4401"
    if conversation is None:
        return "ready"
    if conversation in ("X", "missing"):
        return "4404"
    return "ready" if w.member(w.actor_user(actor), w.conversations[conversation]) else "4403"


class Scene:
    """Per-actor extras: a second conversation of their own, and fresh messages."""

    def __init__(self, w: World) -> None:
        self.w = w
        gus = w.users["gus"]
        self.extra: dict[str, int] = {}
        for actor in ("stranger", "removed"):
            user = w.actor_user(actor)
            assert user is not None
            conversation, _ = conversation_start_direct(user=user, other_user_id=gus.pk)
            self.extra[actor] = self.say(gus, conversation.pk)

    def say(self, sender: User, conversation_id: int) -> int:
        text = canary("fresh")
        message, _ = message_send(sender=sender, conversation_id=conversation_id, content=text)
        readers = set(
            Membership.objects.filter(conversation_id=conversation_id, user__is_active=True).values_list(
                "user_id", flat=True
            )
        )
        self.w.canaries[text] = readers
        return message.pk

    def target(self, actor: str, conversation: str, kind: str) -> int:
        """The message id a cell's command names."""
        w, user = self.w, self.w.actor_user(actor)
        assert user is not None
        cid = w.conversations[conversation]
        member = conversation not in ("X", "missing") and w.member(user, cid)
        if kind == "own":
            return self.say(user, cid) if member else w.messages["mA"]
        if kind == "others":
            if not member:
                return w.messages["mB"]
            other = Membership.objects.filter(conversation_id=cid, user__is_active=True).exclude(user=user).first()
            assert other is not None
            return self.say(other.user, cid)
        if kind == "other_conversation":
            if actor in self.extra:
                return self.extra[actor]
            return w.messages["mD"] if conversation != "D" else w.messages["mB"]
        if kind == "foreign":
            return w.messages["mF"] if actor in ("owner", "other") else w.messages["mA"]
        if kind == "deleted":
            return w.messages["mDel"]
        return w.messages["missing"]


def expected_reply(w: World, actor: str, conversation: str, command: str, message_id: int | None) -> str:
    user = w.actor_user(actor)
    cid = w.conversations[conversation]
    if conversation in ("X", "missing") or not w.member(user, cid):
        return "not_participant"
    if message_id is None:
        return "ack"  # send, typing
    kind = MESSAGE_COMMANDS[command]
    anyhow = Message.objects.filter(pk=message_id).first()
    if kind in ("react", "unreact") and anyhow is not None and anyhow.is_deleted:
        return "message_deleted" if w.member(user, anyhow.conversation_id) else "not_found"
    message = Message.objects.filter(pk=message_id, is_deleted=False).first()
    if message is None or not w.member(user, message.conversation_id):
        return "not_found"
    if message.conversation_id != cid:
        return "wrong_conversation"
    if kind in ("edit", "delete") and message.sender_id != getattr(user, "pk", None):
        return "not_sender"
    if kind == "unreact":
        return "reaction_not_found"  # nobody reacted to the message it names
    return "ack"


def message_state(message_id: int) -> tuple[Any, ...] | None:
    return Message.objects.filter(pk=message_id).values_list("content", "is_deleted", "edited_at").first()


async def reply_to(sock: Socket, ref: int) -> dict[str, Any]:
    while True:
        frame = await sock.receive(timeout=5)
        sock.frames.append(frame)  # type: ignore[attr-defined]
        if frame["type"] == "__closed__":
            return frame
        if frame.get("ref") == ref and frame["type"] in ("ack", "error", "pong"):
            return frame


def outcome(frame: dict[str, Any]) -> str:
    if frame["type"] == "__closed__":
        return str(frame["code"])
    return "ack" if frame["type"] == "ack" else frame.get("code", frame["type"])


async def collect_handshake(sock: Socket) -> str:
    sock.frames = []  # type: ignore[attr-defined]
    assert await sock.connect()
    while True:
        frame = await sock.receive(timeout=5)
        sock.frames.append(frame)  # type: ignore[attr-defined]
        if frame["type"] == "ready":
            sock.frames += await sock.drain(0.05)  # type: ignore[attr-defined]
            return "ready"
        if frame["type"] == "__closed__":
            return str(frame["code"])


async def test_websocket_authorization_matrix(make_user, settings) -> None:
    settings.PARLEY = {**settings.PARLEY, "RATE_LIMITS_ENABLED": False}
    settings.PARLEY = {**settings.PARLEY, "RATE_LIMITS": {**parley_settings.RATE_LIMITS, "ws_command": "100000/1"}}
    settings.PARLEY = {
        **settings.PARLEY,
        "WS_AUTH_TIMEOUT_SECONDS": 0.3,
    }  # the anonymous handshake closes at the auth deadline
    w: World = await db(build_world)(make_user)
    scene: Scene = await db(Scene)(w)
    Socket.for_user(None)  # imports the ASGI app, which configures logging, before the handler is added
    logs = LogLines()
    logging.getLogger().addHandler(logs)
    deviations: list[str] = []
    frames_of: dict[str, list[dict[str, Any]]] = {actor: [] for actor in ACTORS}
    cells = 0
    since_all = {w.conversations[c]: 0 for c in ("G", "D", "F", "X")}

    # Handshakes.
    for actor in ACTORS:
        for conversation in (*CONVERSATIONS, None):
            cid = w.conversations[conversation] if conversation else None
            sock = Socket.for_user(w.tokens[actor], cid, since=0 if cid else since_all)
            got = await collect_handshake(sock)
            want = await db(expected_handshake)(w, actor, conversation)
            cells += 1
            if got != want:
                deviations.append(f"handshake {actor} {conversation or 'user'}: {got} != {want}")
            frames_of[actor] += sock.frames  # type: ignore[attr-defined]
            await sock.close()

    # Commands on each valid user's user socket.
    sockets: dict[str, Socket] = {}
    for actor in USER_ACTORS:
        sockets[actor] = Socket.for_user(w.tokens[actor])
        assert await collect_handshake(sockets[actor]) == "ready"
    for actor in USER_ACTORS:
        sock = sockets[actor]
        for conversation in CONVERSATIONS:
            cid = w.conversations[conversation]
            plain: list[tuple[str, dict[str, Any]]] = [
                ("message.send", {"type": "message.send", "content": "hi", "conversation": cid}),
                ("send-legacy", {"content": "hi", "conversation": cid}),
                ("typing", {"type": "typing", "is_typing": True, "conversation": cid}),
            ]
            for command, frame in plain:
                ref = next(_refs)
                await sock.send({**frame, "ref": ref})
                got = outcome(await reply_to(sock, ref))
                want = await db(expected_reply)(w, actor, conversation, "message.send", None)
                cells += 1
                if got != want:
                    deviations.append(f"{command} {actor} {conversation}: {got} != {want}")
            for command, kind in itertools.product(MESSAGE_COMMANDS, MESSAGE_KINDS):
                target = await db(scene.target)(actor, conversation, kind)
                want = await db(expected_reply)(w, actor, conversation, command, target)
                before = await db(message_state)(target)
                ref = next(_refs)
                frame = {"type": command, "conversation": cid, "message_id": target, "ref": ref}
                if MESSAGE_COMMANDS[command] == "edit":
                    frame["content"] = "edited"
                if MESSAGE_COMMANDS[command] in ("react", "unreact"):
                    frame["emoji"] = "👀"
                await sock.send(frame)
                got = outcome(await reply_to(sock, ref))
                cells += 1
                if got != want:
                    deviations.append(f"{command} {actor} {conversation} {kind}: {got} != {want}")
                if want != "ack" and await db(message_state)(target) != before:
                    deviations.append(f"{command} {actor} {conversation} {kind}: a refused command changed the row")

    # Conversation sockets: a command naming another conversation is refused.
    for actor in ("owner", "other"):
        sock = Socket.for_user(w.tokens[actor], w.conversations["G"])
        assert await collect_handshake(sock) == "ready"
        ref = next(_refs)
        await sock.send({"type": "message.send", "content": "x", "conversation": w.conversations["D"], "ref": ref})
        got = outcome(await reply_to(sock, ref))
        cells += 1
        if got != "wrong_conversation":
            deviations.append(f"conversation socket {actor} names D: {got}")
        frames_of[actor] += sock.frames  # type: ignore[attr-defined]
        await sock.close()

    # Before authentication: a command instead of the auth frame is refused and closes
    # the socket (4401); then an auth frame with each bad token.
    settings.PARLEY = {**settings.PARLEY, "WS_AUTH_TIMEOUT_SECONDS": 30}
    for command in ("message.send", "typing", "ping", *MESSAGE_COMMANDS):
        sock = Socket.for_user(None)
        sock.frames = []  # type: ignore[attr-defined]
        assert await sock.connect()
        ref = next(_refs)
        await sock.send({"type": command, "conversation": w.conversations["G"], "message_id": 1, "ref": ref})
        got = outcome(await reply_to(sock, ref))
        closed = await sock.closed_with(timeout=5)
        cells += 1
        if (got, closed) != ("not_authenticated", 4401):
            deviations.append(f"{command} before auth: {got}, closed with {closed}")
        frames_of["anonymous"] += sock.frames  # type: ignore[attr-defined]
    for actor in TOKEN_ACTORS:
        if w.tokens[actor] is None:
            continue
        sock = Socket.for_user(None)
        sock.frames = []  # type: ignore[attr-defined]
        assert await sock.connect()
        await sock.send({"type": "auth", "token": w.tokens[actor]})
        closed = await sock.closed_with(timeout=5)
        cells += 1
        if closed != 4401:
            deviations.append(f"auth frame {actor}: closed with {closed}")
        frames_of[actor] += sock.frames  # type: ignore[attr-defined]
        await sock.close()

    for actor, sock in sockets.items():
        frames_of[actor] += sock.frames  # type: ignore[attr-defined]
        frames_of[actor] += await sock.drain(0.1)
        await sock.close()

    logging.getLogger().removeHandler(logs)
    leaks = [f"log line: {c[:30]}" for line in logs.lines for c in w.canaries if c in line]
    frame_count = 0
    for actor, frames in frames_of.items():
        frame_count += len(frames)
        for frame in frames:
            leaks += [f"{actor}: {frame.get('type')} {c[:30]}" for c in w.leaks(json.dumps(frame), actor)]
    sightings = sum(w.sightings(json.dumps(f)) for a in ("owner", "other") for f in frames_of[a])
    record(
        "authorization_ws",
        cells=cells,
        deviations=len(deviations),
        canary_leaks=len(leaks),
        frames_scanned=frame_count,
        log_lines_scanned=len(logs.lines),
        canaries=len(w.canaries),
        canary_sightings_by_members=sightings,
    )
    assert deviations == [], "\n".join(deviations[:40])
    assert leaks == [], "\n".join(leaks[:40])
    assert sightings > 50
