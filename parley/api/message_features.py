"""SPEC 10's routes on a message (`/api/chat/messages/{id}/...`) and the caller's mentions.

reactions/   POST {emoji} (201, or 200 if already there), DELETE ?emoji= or {emoji}
thread/      the replies, oldest first, paged like the history
pin/ unpin/  admins in a group, either side in a direct chat
history/     the versions edits replaced
/api/chat/mentions/   messages mentioning the caller, newest first (keyset)
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from parley import access, selectors
from parley.api import serializers as s
from parley.api.base import ParleyView, current_user
from parley.api.conversations import PAGE_PARAMS, int_param
from parley.api.pagination import message_page_response
from parley.api.params import query_int
from parley.api.serializers import body_value
from parley.conf import parley_settings
from parley.representations import message_json
from parley.services import pins as pin_services
from parley.services import reactions as reaction_services

ERRORS = {
    400: OpenApiResponse(description="invalid_emoji, message_deleted, ..."),
    403: OpenApiResponse(description="not_admin (pins in a group)"),
    404: OpenApiResponse(description="No such message, or not in your conversations; reaction_not_found"),
}
EMOJI_PARAM = OpenApiParameter("emoji", str, description="The emoji to take back (or in the JSON body).")


class MessageFeatureActions:
    """Mixed into parley.api.messages.MessageViewSet."""

    @extend_schema(methods=["POST"], request=s.ReactionIn, responses={200: s.MessageOut, 201: s.MessageOut, **ERRORS})
    @extend_schema(methods=["DELETE"], parameters=[EMOJI_PARAM], request=None, responses={200: s.MessageOut, **ERRORS})
    @extend_schema(tags=["reactions"])
    @action(detail=True, methods=["post", "delete"])
    def reactions(self, request: Request, pk: str) -> Response:
        """React with one emoji (POST) or take your reaction back (DELETE)."""
        user = current_user(request)
        if request.method == "DELETE":
            emoji = request.query_params.get("emoji")
            if emoji is None and request.data:
                emoji = body_value(request.data, "emoji")
            message = reaction_services.reaction_remove(user=user, message_id=int(pk), emoji=emoji)
            return Response(message_json(message, viewer_id=user.pk))
        message, created = reaction_services.reaction_add(
            user=user, message_id=int(pk), emoji=body_value(request.data, "emoji")
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(message_json(message, viewer_id=user.pk), status=code)

    @extend_schema(parameters=PAGE_PARAMS, responses={200: s.MessagePageOut, **ERRORS}, tags=["threads"])
    @action(detail=True, methods=["get"])
    def thread(self, request: Request, pk: str) -> Response:
        """The live replies to this message, oldest first, in page or keyset mode (as
        the history)."""
        user = current_user(request)
        parent = access.message_get_for_member(user=user, message_id=int(pk))
        replies = selectors.thread_replies(message_id=parent.pk)
        return Response(message_page_response(request, selectors.QuerySetMessages(replies, user.pk)))

    @extend_schema(request=None, responses={200: s.MessageOut, **ERRORS}, tags=["pins"])
    @action(detail=True, methods=["post"])
    def pin(self, request: Request, pk: str) -> Response:
        """Pin the message to its conversation (a no-op if pinned)."""
        user = current_user(request)
        message = pin_services.message_pin_set(user=user, message_id=int(pk), pinned=True)
        return Response(message_json(message, viewer_id=user.pk))

    @extend_schema(request=None, responses={200: s.MessageOut, **ERRORS}, tags=["pins"])
    @action(detail=True, methods=["post"])
    def unpin(self, request: Request, pk: str) -> Response:
        """Unpin the message (a no-op if not pinned)."""
        user = current_user(request)
        message = pin_services.message_pin_set(user=user, message_id=int(pk), pinned=False)
        return Response(message_json(message, viewer_id=user.pk))

    @extend_schema(responses={200: s.HistoryOut, **ERRORS}, tags=["messages"])
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str) -> Response:
        """The versions of this message that edits replaced, oldest first. Participants
        only; a deleted message has none left."""
        message = access.message_get_for_member(user=current_user(request), message_id=int(pk))
        return Response({"results": selectors.edit_history_json(message_id=message.pk)})


class MentionsView(ParleyView):
    @extend_schema(
        parameters=[
            int_param("before", "Keyset: mentions older than this message id."),
            int_param("limit", "Page size, default 50, capped at 500."),
        ],
        responses={200: s.MessagePageOut},
        tags=["mentions"],
    )
    def get(self, request: Request) -> Response:
        """Live messages that mention you, newest first, each with its `conversation`;
        `next` pages on to older ones."""
        user = current_user(request)
        before = query_int(request, "before")
        limit = query_int(
            request, "limit", default=parley_settings.DEFAULT_PAGE_SIZE, cap=parley_settings.MAX_PAGE_SIZE
        )
        results, has_more = selectors.mentions_page(user_id=user.pk, before=before, limit=limit or 1)
        following = None
        if has_more and results:
            following = replace_query_param(request.build_absolute_uri(), "before", results[-1]["id"])
        return Response({"count": None, "next": following, "previous": None, "results": results})
