"""SPEC 10's routes on a conversation: the member's own state (`me/`) and its pins."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from parley import access, selectors
from parley.api import serializers as s
from parley.api.base import current_user
from parley.common.errors import InvalidInput
from parley.services import member_state

ERRORS = {
    400: OpenApiResponse(description="Invalid input"),
    403: OpenApiResponse(description="Not a participant"),
    404: OpenApiResponse(description="No such conversation"),
}


class ConversationFeatureActions:
    """Mixed into parley.api.conversations.ConversationViewSet."""

    @extend_schema(request=s.MemberStateIn, responses={200: s.ConversationOut, **ERRORS}, tags=["conversations"])
    @action(detail=True, methods=["patch"], url_path="me")
    def me(self, request: Request, pk: str) -> Response:
        """Change your own view of the conversation: any of `notification_level`,
        `muted_until` (ISO time, null to unmute), `archived`, `pinned`. Other keys are
        ignored. Your other sockets get `conversation.updated`."""
        from parley.api.conversations import conversation_response  # the module mixes this class in

        if not isinstance(request.data, dict):
            raise InvalidInput("The request body must be a JSON object.", code="invalid_body")
        changes = {name: request.data[name] for name in member_state.FIELDS if name in request.data}
        member_state.member_state_update(user=current_user(request), conversation_id=int(pk), changes=changes)
        return conversation_response(request, int(pk))

    @extend_schema(responses={200: s.MessageListOut, **ERRORS}, tags=["pins"])
    @action(detail=True, methods=["get"])
    def pins(self, request: Request, pk: str) -> Response:
        """The conversation's pinned live messages, the latest pin first (at most 200)."""
        user = current_user(request)
        conversation = access.conversation_get_for_member(user=user, conversation_id=int(pk))
        return Response({"results": selectors.pins_json(conversation_id=conversation.pk, viewer_id=user.pk)})
