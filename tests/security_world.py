"""The world the authorization matrices run in: actors, objects and canaries.

Actors (who calls):

    owner        alice: admin of the group G, in the direct conversation D
    other        bob: member of G and D
    stranger     carol: in neither (her own direct conversation F with frank)
    removed      erin: was a member of G (and wrote in it), removed by alice
    deactivated  dan: a member of G whose account was deactivated (his token predates it)
    anonymous    no token
    expired      alice's access token, expired
    alg_none     alice's claims in a token with `"alg": "none"` and no signature
    tampered     carol's token with alice's user id written into its payload
    refresh      alice's refresh token used as an access token

Every message and the group title carry a canary string of their own; `readers`
says which users may ever see it (the current members of its conversation; nobody
for a deleted message).
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework_simplejwt.tokens import AccessToken

from parley.models import Conversation, Membership, Message
from parley.services.conversations import conversation_create_group, conversation_delete, conversation_start_direct
from parley.services.members import member_remove
from parley.services.messages import message_delete, message_send
from server.accounts.models import User
from server.accounts.tokens import token_pair_for_user

USER_ACTORS = ("owner", "other", "stranger", "removed")
TOKEN_ACTORS = ("deactivated", "anonymous", "expired", "alg_none", "tampered", "refresh")
ACTORS = USER_ACTORS + TOKEN_ACTORS
NONEXISTENT = 987_654_321


class LogLines(logging.Handler):
    """Every log line emitted while installed (on the root logger)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def canary(label: str) -> str:
    return f"CANARY-{label}-{uuid.uuid4().hex}"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


def _b64_decode(part: str) -> dict[str, object]:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@dataclass
class World:
    users: dict[str, User]  # alice, bob, carol, dan, erin, frank, gus
    conversations: dict[str, int]  # G, D, F, X (deleted), missing
    messages: dict[str, int]  # mA, mB, mE, mDel, mD, mF, missing
    tokens: dict[str, str | None]  # per actor
    canaries: dict[str, set[int]] = field(default_factory=dict)  # canary -> user ids who may see it

    def actor_user(self, actor: str) -> User | None:
        name = {"owner": "alice", "other": "bob", "stranger": "carol", "removed": "erin"}.get(actor)
        return self.users[name] if name else None

    def leaks(self, text: str, actor: str) -> list[str]:
        """Canaries in `text` that `actor` must not see."""
        user = self.actor_user(actor)
        return [c for c, readers in self.canaries.items() if c in text and (user is None or user.pk not in readers)]

    def sightings(self, text: str) -> int:
        return sum(1 for c in self.canaries if c in text)

    def member(self, user: User | None, conversation_id: int) -> bool:
        return user is not None and Membership.objects.filter(conversation_id=conversation_id, user=user).exists()


def bad_tokens(alice: User, carol: User) -> dict[str, str]:
    pair = token_pair_for_user(alice)
    expired = AccessToken(pair["access"])  # type: ignore[arg-type]
    expired.set_exp(lifetime=-timedelta(seconds=5))
    _, payload, _ = pair["access"].split(".")
    alg_none = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}."
    c_header, c_payload, c_signature = token_pair_for_user(carol)["access"].split(".")
    claims = _b64_decode(c_payload)
    claims["user_id"] = str(alice.pk)
    tampered = f"{c_header}.{_b64(claims)}.{c_signature}"
    return {"expired": str(expired), "alg_none": alg_none, "tampered": tampered, "refresh": pair["refresh"]}


def build_world(make_user: Any) -> World:
    names = ("alice", "bob", "carol", "dan", "erin", "frank", "gus")
    users = {name: make_user(f"{name}-{uuid.uuid4().hex[:6]}") for name in names}
    alice, bob, carol, dan, erin, frank = (users[n] for n in names[:6])
    world = World(users=users, conversations={}, messages={}, tokens={})

    title = canary("title")
    group = conversation_create_group(creator=alice, title=title, participant_ids=[bob.pk, dan.pk, erin.pk])
    direct, _ = conversation_start_direct(user=alice, other_user_id=bob.pk)
    foreign, _ = conversation_start_direct(user=carol, other_user_id=frank.pk)
    doomed = conversation_create_group(creator=alice, title=canary("deleted-title"), participant_ids=[bob.pk])

    origin: dict[str, int] = {}  # canary -> its conversation

    def say(label: str, sender: User, conversation: Conversation, *, file: bool = False) -> int:
        text = canary(label)
        attachment = None
        if file:
            name, data = canary(f"{label}-file"), canary(f"{label}-bytes")
            attachment = SimpleUploadedFile(f"{name}.txt", data.encode(), content_type="text/plain")
            origin[name] = origin[data] = conversation.pk
        message, _ = message_send(sender=sender, conversation_id=conversation.pk, content=text, attachment=attachment)
        origin[text] = conversation.pk
        return message.pk

    world.messages = {
        "mA": say("mA", alice, group, file=True),
        "mB": say("mB", bob, group),
        "mE": say("mE", erin, group),
        "mDel": say("mDel", alice, group),
        "mD": say("mD", alice, direct),
        "mF": say("mF", carol, foreign),
        "mX": say("mX", alice, doomed),
        "missing": NONEXISTENT,
    }
    origin[title] = group.pk
    origin[doomed.title] = doomed.pk
    member_remove(actor=alice, conversation_id=group.pk, user_id=erin.pk)
    message_delete(user=alice, message_id=world.messages["mDel"])
    conversation_delete(user=alice, conversation_id=doomed.pk)
    erased = {c for c in origin if c.startswith("CANARY-mDel-")} | {c for c, cid in origin.items() if cid == doomed.pk}
    world.conversations = {"G": group.pk, "D": direct.pk, "F": foreign.pk, "X": doomed.pk, "missing": NONEXISTENT}

    dan_token = token_pair_for_user(dan)["access"]
    dan.is_active = False
    dan.save()

    # Who may see each canary: the current members of its conversation; nobody for the
    # deleted message, the deleted group, or anything only a deactivated user could read.
    members: dict[int, set[int]] = {}
    for cid in (group.pk, direct.pk, foreign.pk):
        members[cid] = set(
            Membership.objects.filter(conversation_id=cid, user__is_active=True).values_list("user_id", flat=True)
        )
    world.canaries = {text: set() if text in erased else set(members[cid]) for text, cid in origin.items()}
    world.tokens = {
        "owner": token_pair_for_user(alice)["access"],
        "other": token_pair_for_user(bob)["access"],
        "stranger": token_pair_for_user(carol)["access"],
        "removed": token_pair_for_user(erin)["access"],
        "deactivated": dan_token,
        "anonymous": None,
        **bad_tokens(alice, carol),
    }
    assert Message.objects.filter(pk=world.messages["mDel"], is_deleted=True, content="").exists()
    return world
