"""What a socket does to the database: one synchronous function per step.

The consumer calls each in a single thread hop (parley.realtime.dbcalls). Reads go
through parley.selectors, membership through parley.access, writes through
parley.services exactly as REST's do.

    handshake   socket_open (check), socket_catch_up (count, presence, catch up: after subscribing)
    upkeep      socket_fill_gap, socket_last_seqs, socket_still_authorized, socket_close,
                presence_gone_offline
    commands    WRITES: message.send / .edit / .delete / .read, reaction.add / .remove -> the message JSON
    legacy      legacy_names (parley.legacy's usernames, batched)
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model

from parley import access, events, legacy, metrics, selectors
from parley.auth import Authenticated, authenticate_token, session_user, still_valid
from parley.common.errors import AppError, NotFound, ResyncRequired
from parley.conf import parley_settings
from parley.models import Message
from parley.realtime import presence
from parley.representations import message_json
from parley.services import messages as message_services
from parley.services import reactions as reaction_services
from parley.services import reads as read_services
from parley.services.validation import clean_id
from parley.users import User, display_name, wire_id

CATCH_UP_PAGE = 500


@dataclass
class SocketGrant:
    auth: Authenticated
    subscribe: list[int]  # conversation groups this socket listens to
    presence_in: list[int]  # the small ones, where presence is announced (PRESENCE_MAX_MEMBERS)
    name: str  # the display name, read here: a host's DISPLAY_NAME may query the database

    @property
    def user(self) -> User:
        return self.auth.user

    @property
    def user_wire_id(self) -> Any:
        """The user's id as frames carry it (a number, or a UUID's text)."""
        return wire_id(self.auth.user.pk)


class TooManySockets(AppError):
    status = 429
    code = "too_many_sockets"
    default_detail = "Too many open sockets for this user."


def socket_open(*, token: str | None, session: Any = None, conversation_id: int | None) -> SocketGrant:
    """Everything a handshake needs before subscribing, in one thread hop: check the
    token (or the session's user) and, for a conversation socket, membership
    (4401/4403/4404). The socket is counted (4429 over the limit) by the second hop,
    in the same round trip to the cache as its presence (socket_catch_up)."""
    auth = authenticate_token(token) if token else session_user(session)
    if conversation_id is not None:
        access.membership_access(user=auth.user, conversation_id=conversation_id)
    rows = selectors.memberships_with_size(user_id=auth.user.pk)
    presence_in = [cid for cid, size in rows if size <= parley_settings.PRESENCE_MAX_MEMBERS]
    subscribe = [conversation_id] if conversation_id is not None else [cid for cid, _ in rows]
    return SocketGrant(auth, subscribe, presence_in, display_name(auth.user))


def socket_close(*, user_id: Any) -> bool:
    """Give the socket's count back; True to announce the user offline now (their last
    socket, and no grace period: parley.realtime.presence)."""
    if presence.socket_closed(user_id) == 0:
        return presence.last_socket_closed(user_id)
    return False


def presence_gone_offline() -> list[tuple[Any, list[int]]]:
    """Users whose offline grace ran out, each with the conversations to tell
    (parley.realtime.upkeep announces them)."""
    to_pk = get_user_model()._meta.pk.to_python  # type: ignore[union-attr]
    users = [to_pk(user) for user in presence.gone_offline()]
    rooms = selectors.small_conversations_of(user_ids=users, max_members=parley_settings.PRESENCE_MAX_MEMBERS)
    return [(user_id, rooms[user_id]) for user_id in users]


def socket_reauthenticate(*, token: str, user_id: Any) -> Authenticated:
    """A fresh token for an open socket: it must be the same user's."""
    auth = authenticate_token(token)
    if auth.user.pk != user_id:
        raise NotFound("The token belongs to another user.", code="wrong_user")
    return auth


@dataclass
class CatchUp:
    cursors: dict[int, int] = field(default_factory=dict)
    frames: list[events.DurableFrame] = field(default_factory=list)
    left: list[int] = field(default_factory=list)  # conversations the user is no longer in
    joined: dict[int, int] = field(default_factory=dict)  # not asked for, member now: last seq
    resync: dict[int, int] = field(default_factory=dict)  # `since` older than the oldest kept event: oldest seq
    announce: bool = False  # this socket tells co-members the user is online
    online: list[Any] | None = None  # co-members online now; None: unknown (the cache is down)


def _frames_after(
    *, user_id: Any, conversation_id: int, after: int, still_member: bool, strict: bool = False
) -> list[events.DurableFrame]:
    """Every durable frame after `after`; for a former member, up to their removal.
    `strict`: ResyncRequired if the events right after `after` were pruned."""
    frames: list[events.DurableFrame] = []
    me = wire_id(user_id)
    while True:
        page = selectors.events_after(conversation_id=conversation_id, since=after, limit=CATCH_UP_PAGE, strict=strict)
        strict = False  # pages after the first continue from an event that exists
        for frame in page.frames:
            frames.append(frame)
            if not still_member and frame["type"] == "member.removed" and frame["user"] == me:
                return frames
        if not page.has_more or not page.frames:
            break
        after = page.frames[-1]["seq"]
    return frames if still_member else []


def socket_catch_up(
    *, user_id: Any, conversation_ids: list[int], since: dict[int, int], all_conversations: bool, presence_in: list[int]
) -> CatchUp:
    """Cursors for every subscribed conversation, and the frames a reconnecting client
    missed: everything after its `since`, in order. Read after subscribing, so that
    nothing published in between is lost (delivery drops what it already sent). Counts
    the socket first: TooManySockets (4429) if the user has too many open, uncounted."""
    result = CatchUp()
    asked = set(conversation_ids)
    others = selectors.co_members(user_id=user_id, conversation_ids=sorted(set(presence_in) & asked))
    opened = presence.socket_opened(user_id, others, limit=parley_settings.WS_MAX_SOCKETS_PER_USER)
    if not opened.allowed:
        raise TooManySockets()
    result.announce, result.online = opened.announce, None if opened.online is None else sorted(opened.online)
    try:
        _read_catch_up(
            result, user_id=user_id, conversation_ids=conversation_ids, all_conversations=all_conversations, since=since
        )
    except BaseException:  # counted (and maybe claimed) above: give both back; end() will not
        if opened.announce:
            presence.release_announcement(user_id)
        presence.socket_closed(user_id)
        raise
    return result


def _read_catch_up(
    result: CatchUp, *, user_id: Any, conversation_ids: list[int], all_conversations: bool, since: dict[int, int]
) -> None:
    asked = set(conversation_ids)
    last = selectors.member_conversation_seqs(
        user_id=user_id, conversation_ids=None if all_conversations else conversation_ids
    )
    result.joined = {cid: seq for cid, seq in last.items() if cid not in asked}
    for cid in conversation_ids:
        if cid not in last:
            result.left.append(cid)
            continue
        start = since.get(cid)
        if start is None or start >= last[cid]:
            result.cursors[cid] = last[cid]
            continue
        # The cursor starts at `since`; delivering the frames moves it forward.
        try:
            frames = _frames_after(user_id=user_id, conversation_id=cid, after=start, still_member=True, strict=True)
        except ResyncRequired as gone:  # pruned (parley.retention): the client reloads, then goes on live
            result.resync[cid] = gone.oldest_seq
            result.cursors[cid] = last[cid]
            continue
        result.frames.extend(frames)
        result.cursors[cid] = start
    if result.frames:
        metrics.catchup_replays.inc()
        metrics.catchup_events.inc(len(result.frames))


def socket_online_co_members(*, user_id: Any, conversation_ids: list[int]) -> list[Any]:
    return sorted(presence.online_users(selectors.co_members(user_id=user_id, conversation_ids=conversation_ids)))


def socket_fill_gap(*, user_id: Any, conversation_id: int, after: int) -> tuple[list[events.DurableFrame], bool]:
    """Frames after `after`, read when a live `seq` jumped: `(frames, still_member)`."""
    metrics.gap_fills.inc()
    still_member = access.user_is_member(user_id=user_id, conversation_id=conversation_id)
    frames = _frames_after(user_id=user_id, conversation_id=conversation_id, after=after, still_member=still_member)
    return frames, still_member


def socket_last_seqs(*, conversation_ids: list[int]) -> dict[int, int]:
    return selectors.conversation_last_seqs(conversation_ids=conversation_ids)


def socket_still_authorized(grant: SocketGrant) -> bool:
    """For a socket that cannot hear revocations: is its token's session still good?"""
    return still_valid(grant.auth)


# --- Commands ----------------------------------------------------------------------------------


def _message_in(*, user: User, conversation_id: int, message_id: Any, deleted_is_error: bool = False) -> Message:
    message = access.message_get_for_member(
        user=user, message_id=clean_id(message_id, field="message_id"), deleted_is_error=deleted_is_error
    )
    if message.conversation_id != conversation_id:
        raise NotFound("That message is not in this conversation.", code="wrong_conversation")
    return message


def command_send(
    *, user: User, conversation_id: int, content: Any, client_id: Any, reply_to: Any = None, mentions: Any = None
) -> dict[str, Any]:
    # Membership is checked by message_send, in the statement that locks the conversation.
    message, _ = message_services.message_send(
        sender=user,
        conversation_id=conversation_id,
        content=content,
        client_id=client_id,
        reply_to=reply_to,
        mentions=mentions,
    )
    return message_json(message)


def command_edit(*, user: User, conversation_id: int, message_id: Any, content: Any) -> dict[str, Any]:
    message = _message_in(user=user, conversation_id=conversation_id, message_id=message_id)
    return message_json(message_services.message_edit(user=user, message_id=message.pk, content=content))


def command_delete(*, user: User, conversation_id: int, message_id: Any) -> dict[str, Any]:
    message = _message_in(user=user, conversation_id=conversation_id, message_id=message_id)
    return message_json(message_services.message_delete(user=user, message_id=message.pk))


def command_read(*, user: User, conversation_id: int, message_id: Any) -> dict[str, Any]:
    message = _message_in(user=user, conversation_id=conversation_id, message_id=message_id)
    read, _ = read_services.read_pointer_move(user=user, message_id=message.pk)
    return message_json(read)


def command_reaction_add(*, user: User, conversation_id: int, message_id: Any, emoji: Any) -> dict[str, Any]:
    message = _message_in(user=user, conversation_id=conversation_id, message_id=message_id, deleted_is_error=True)
    reacted, _ = reaction_services.reaction_add(user=user, message_id=message.pk, emoji=emoji)
    return message_json(reacted, viewer_id=user.pk)


def command_reaction_remove(*, user: User, conversation_id: int, message_id: Any, emoji: Any) -> dict[str, Any]:
    message = _message_in(user=user, conversation_id=conversation_id, message_id=message_id, deleted_is_error=True)
    return message_json(
        reaction_services.reaction_remove(user=user, message_id=message.pk, emoji=emoji), viewer_id=user.pk
    )


@dataclass(frozen=True)
class Write:
    run: Callable[..., dict[str, Any]]
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()


# The commands that change something; each answers `ack` with the message.
WRITES = {
    "message.send": Write(command_send, optional=("content", "client_id", "reply_to", "mentions")),
    "message.edit": Write(command_edit, required=("message_id", "content")),
    "message.delete": Write(command_delete, required=("message_id",)),
    "message.read": Write(command_read, required=("message_id",)),
    "reaction.add": Write(command_reaction_add, required=("message_id", "emoji")),
    "reaction.remove": Write(command_reaction_remove, required=("message_id", "emoji")),
}


# --- Legacy protocol (parley.legacy) -----------------------------------------------------------


def legacy_names(
    *, user_ids: Collection[Any], message_ids: Collection[int], conversation_id: int | None
) -> legacy.Lookup:
    """What translating frames to the legacy protocol needs, in at most three queries:
    the senders of `message_ids`, and the names of `user_ids`, of those senders and
    (when a socket opens) of every member of `conversation_id`. Users are keyed by their
    wire id, as frames name them; a name is PARLEY["DISPLAY_NAME"], as `sender_name`
    is, so a host whose USERNAME_FIELD is an email never shows it to other members."""
    senders = selectors.message_senders(message_ids=message_ids) if message_ids else {}
    wanted = {*user_ids, *(sender for sender in senders.values() if sender is not None)}
    names = selectors.display_names_by_wire_id(user_ids=wanted, members_of=conversation_id)
    return legacy.Lookup(usernames=names, senders=senders)
