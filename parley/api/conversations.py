"""`/api/chat/conversations/`: thin views over chat.services and chat.selectors."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from parley import access, selectors
from parley.api import serializers as s
from parley.api.base import ParleyView, current_user
from parley.api.conversation_features import ConversationFeatureActions
from parley.api.pagination import message_page_response
from parley.api.params import conversation_cursor, encode_conversation_cursor, query_bool, query_int
from parley.common.errors import InvalidInput, NotFound
from parley.conf import parley_settings
from parley.representations import message_json
from parley.selectors.blocks import blocked_ids, flag_blocked_senders
from parley.services import conversations as conversation_services
from parley.services import members as member_services
from parley.services import messages as message_services
from parley.services.validation import clean_client_id

from .serializers import body_value

ID = r"[0-9]{1,18}"


def int_param(name: str, description: str, *, minimum: int = 1) -> OpenApiParameter:
    """An integer query parameter as chat.api.params.query_int reads it: at least
    `minimum`, at most 2**63 - 1; values over a cap are lowered, not refused."""
    schema = {"type": "integer", "format": "int64", "minimum": minimum, "maximum": 2**63 - 1}
    return OpenApiParameter(name, schema, description=description)


PAGE_PARAMS = [
    int_param("page", "Page number (page mode), default 1. Not with the keyset parameters."),
    int_param("page_size", "Messages per page, default 50, capped at 500."),
    int_param("before", "Keyset: messages older than this id. Not with `after`."),
    int_param("after", "Keyset: messages newer than this id. Not with `before`.", minimum=0),
    int_param("limit", "Keyset page size, default 50, capped at 500."),
]
NO_NUL = {"type": "string", "pattern": "^[^\\u0000]*$"}
ERRORS = {
    400: OpenApiResponse(description="Invalid input"),
    403: OpenApiResponse(description="Not a participant"),
    404: OpenApiResponse(description="No such conversation"),
}


def embedded_count(request: Request) -> int:
    return (
        query_int(
            request,
            "embed",
            default=parley_settings.EMBEDDED_MESSAGES,
            minimum=0,
            cap=parley_settings.EMBEDDED_MESSAGES,
        )
        or 0
    )


def conversation_response(request: Request, conversation_id: int, *, code: int = status.HTTP_200_OK) -> Response:
    view = selectors.conversation_json_for_user(
        user_id=current_user(request).pk, conversation_id=conversation_id, embed=embedded_count(request)
    )
    if view is None:
        raise NotFound("Conversation not found.")
    flag_conversations(request, [view])
    return Response(view, status=code)


def flag_conversations(request: Request, views: list[dict[str, Any]]) -> None:
    """`sender_blocked: true` on the embedded messages of users the caller blocked."""
    blocked = blocked_ids(user_id=current_user(request).pk)
    for view in views:
        flag_blocked_senders([*view.get("messages", ()), view.get("last_message")], blocked=blocked)


def _mentions(request: Request) -> object:
    """`mentions` from JSON (a list) or a form (the field repeated)."""
    if hasattr(request.data, "getlist"):
        return request.data.getlist("mentions") or None
    return body_value(request.data, "mentions")


class ConversationViewSet(ConversationFeatureActions, ParleyView, viewsets.ViewSet):
    lookup_value_regex = ID

    def _member_conversation_id(self, request: Request, pk: str) -> int:
        return access.conversation_get_for_member(user=current_user(request), conversation_id=int(pk)).pk

    @extend_schema(
        parameters=[
            OpenApiParameter("search", NO_NUL, description="Part of a participant's username or a group title."),
            int_param("limit", "Conversations per page, default 50, capped at 200."),
            OpenApiParameter(
                "cursor",
                {"type": "string", "pattern": "^([0-9]{1,17}~[0-9]{1,18})?$"},
                description="From the `Link: rel=next` header of a previous page.",
            ),
            int_param("embed", "Latest messages embedded per conversation (default 50, capped at 50).", minimum=0),
            OpenApiParameter("archived", bool, description="true: only your archived conversations (else hidden)."),
        ],
        responses={200: s.ConversationOut(many=True)},
        tags=["conversations"],
    )
    def list(self, request: Request) -> Response:
        """The caller's conversations, latest activity first, the ones they pinned leading
        the first page; archived ones only with `?archived=true`. The body is a plain array
        (the seed's shape); when more exist, a `Link: <...>; rel="next"` header points on."""
        limit = query_int(request, "limit", default=parley_settings.CONVERSATIONS_PAGE_SIZE, cap=200) or 1
        search = request.query_params.get("search", "")[:150]
        if "\x00" in search:  # PostgreSQL refuses NUL in a text parameter
            raise InvalidInput("Null characters are not allowed.", field="search", code="invalid_characters")
        page = selectors.conversation_list_for_user(
            user_id=current_user(request).pk,
            search=search.strip(),
            limit=limit,
            cursor=conversation_cursor(request),
            embed=embedded_count(request),
            archived=query_bool(request, "archived"),
        )
        headers = {}
        if page.next_cursor is not None:
            url = replace_query_param(
                request.build_absolute_uri(), "cursor", encode_conversation_cursor(page.next_cursor)
            )
            headers["Link"] = f'<{url}>; rel="next"'
        flag_conversations(request, page.results)
        return Response(page.results, headers=headers)

    @extend_schema(
        request=s.GroupCreateIn, responses={201: s.ConversationOut, 400: ERRORS[400]}, tags=["conversations"]
    )
    def create(self, request: Request) -> Response:
        """Create a group: the caller (its admin) and `participants`, with a `title`."""
        participants = body_value(request.data, "participants")
        if participants is None:
            raise InvalidInput("This field is required.", field="participants", code="required")
        if not isinstance(participants, list):
            participants = [participants]
        conversation = conversation_services.conversation_create_group(
            creator=current_user(request), title=body_value(request.data, "title"), participant_ids=participants
        )
        return conversation_response(request, conversation.pk, code=status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.ConversationOut, **ERRORS}, tags=["conversations"])
    def retrieve(self, request: Request, pk: str) -> Response:
        return conversation_response(request, self._member_conversation_id(request, pk))

    @extend_schema(request=s.ConversationUpdateIn, responses={200: s.ConversationOut, **ERRORS}, tags=["conversations"])
    def update(self, request: Request, pk: str) -> Response:
        """Change the title of a group. Participants change only through the member
        actions: any other field in the body (participants, messages, ...) is ignored."""
        conversation_id = self._member_conversation_id(request, pk)
        title = body_value(request.data, "title")
        if title is not None:
            conversation_services.conversation_rename(
                user=current_user(request), conversation_id=conversation_id, title=title
            )
        return conversation_response(request, conversation_id)

    @extend_schema(request=s.ConversationUpdateIn, responses={200: s.ConversationOut, **ERRORS}, tags=["conversations"])
    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk)

    @extend_schema(responses={204: None, **ERRORS}, tags=["conversations"])
    def destroy(self, request: Request, pk: str) -> Response:
        """Direct: hide it for the caller until new activity. Group: the admin deletes
        it for everyone; a member leaves it."""
        conversation_services.conversation_delete(user=current_user(request), conversation_id=int(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=s.StartIn,
        responses={200: s.ConversationOut, 201: s.ConversationOut, 400: ERRORS[400]},
        tags=["conversations"],
    )
    @action(detail=False, methods=["post"])
    def start(self, request: Request) -> Response:
        """The direct conversation with `user2`: 201 when created, 200 when it existed."""
        other = body_value(request.data, "user2")
        if other is None:
            raise InvalidInput("This field is required.", field="user2", code="required")
        conversation, created = conversation_services.conversation_start_direct(
            user=current_user(request), other_user_id=other
        )
        return conversation_response(request, conversation.pk, code=201 if created else 200)

    @extend_schema(parameters=PAGE_PARAMS, responses={200: s.MessagePageOut, **ERRORS}, tags=["messages"])
    @action(detail=True, methods=["get"])
    def messages(self, request: Request, pk: str) -> Response:
        """The conversation's live messages, oldest first, in page or keyset mode."""
        conversation_id = self._member_conversation_id(request, pk)
        history = selectors.ConversationHistory(conversation_id, viewer_id=current_user(request).pk)
        return Response(message_page_response(request, history))

    @extend_schema(
        request={"multipart/form-data": s.SendMessageIn, "application/json": s.SendMessageIn},
        responses={
            201: s.MessageOut,
            **ERRORS,
            413: OpenApiResponse(description="Attachment too large"),
            429: OpenApiResponse(description="Rate limited"),
        },
        tags=["messages"],
    )
    @action(detail=True, methods=["post"])
    def send_message(self, request: Request, pk: str) -> Response:
        """Send `content` and/or an `attachment`. `sender` and `conversation` come from
        the token and the URL, never from the body. A retry with the same `client_id`
        returns the first message (header `Idempotent-Replayed: true`)."""
        conversation_id = int(pk)
        attachment = request.FILES.get("attachment")
        if attachment is not None:  # no file is stored for a stranger; text sends check under the lock
            access.conversation_get_for_member(user=current_user(request), conversation_id=conversation_id)
        if attachment is None and body_value(request.data, "attachment") not in (None, ""):
            raise InvalidInput("The attachment must be a file upload.", field="attachment", code="not_a_file")
        message, created = message_services.message_send(
            sender=current_user(request),
            conversation_id=conversation_id,
            content=body_value(request.data, "content"),
            attachment=attachment,
            client_id=clean_client_id(body_value(request.data, "client_id")),
            reply_to=body_value(request.data, "reply_to"),
            mentions=_mentions(request),
        )
        headers = {} if created else {"Idempotent-Replayed": "true"}
        json = message_json(message, viewer_id=current_user(request).pk)
        return Response(json, status=status.HTTP_201_CREATED, headers=headers)

    @extend_schema(request=s.AddParticipantsIn, responses={200: s.ConversationOut, **ERRORS}, tags=["members"])
    @action(detail=True, methods=["post"])
    def add_participants(self, request: Request, pk: str) -> Response:
        """Add users to a group (any member may)."""
        users = body_value(request.data, "participants")
        if users is None:
            raise InvalidInput("This field is required.", field="participants", code="required")
        if not isinstance(users, list):
            users = [users]
        member_services.members_add(actor=current_user(request), conversation_id=int(pk), user_ids=users)
        return conversation_response(request, int(pk))

    @extend_schema(
        request=s.RemoveParticipantIn, responses={200: s.ConversationOut, 204: None, **ERRORS}, tags=["members"]
    )
    @action(detail=True, methods=["post"])
    def remove_participant(self, request: Request, pk: str) -> Response:
        """Remove a member (admins), or yourself (anyone; then 204)."""
        user = body_value(request.data, "user")
        if user is None:
            raise InvalidInput("This field is required.", field="user", code="required")
        member_services.member_remove(actor=current_user(request), conversation_id=int(pk), user_id=user)
        if access.user_is_member(user_id=current_user(request).pk, conversation_id=int(pk)):
            return conversation_response(request, int(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={204: None, **ERRORS}, tags=["members"])
    @action(detail=True, methods=["post"])
    def leave(self, request: Request, pk: str) -> Response:
        member_services.member_leave(user=current_user(request), conversation_id=int(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[
            int_param("since", "Exclusive: events with a greater seq.", minimum=0),
            int_param("limit", "At most this many (default and cap 500)."),
        ],
        responses={
            200: s.EventsOut,
            410: OpenApiResponse(description="resync_required: events after `since` were pruned; reload"),
            **ERRORS,
        },
        tags=["events"],
    )
    @action(detail=True, methods=["get"])
    def events(self, request: Request, pk: str) -> Response:
        """Durable events after `since`, as WebSocket frames, for polling clients and
        for filling a gap in `seq`. A `since` older than the oldest kept event (see
        `prune_events`) gets 410 `resync_required` with `oldest_seq`: reload the
        conversation and its messages, then go on from its `last_seq`."""
        conversation = access.conversation_get_for_member(user=current_user(request), conversation_id=int(pk))
        since = query_int(request, "since", default=0, minimum=0) or 0
        cap = parley_settings.EVENTS_PAGE_SIZE
        limit = query_int(request, "limit", default=cap, cap=cap) or cap
        page = selectors.events_after(conversation_id=conversation.pk, since=since, limit=limit, strict=True)
        last_seq = max([conversation.last_seq, *(f["seq"] for f in page.frames)])
        return Response({"events": page.frames, "last_seq": last_seq, "has_more": page.has_more})
