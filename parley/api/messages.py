"""`/api/chat/messages/`: messages across the caller's conversations."""

from __future__ import annotations

from django.core.handlers.asgi import ASGIRequest
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from parley import access, selectors
from parley.api import serializers as s
from parley.api.base import ParleyView, current_user
from parley.api.conversations import ID, PAGE_PARAMS, int_param
from parley.api.message_features import MessageFeatureActions
from parley.api.pagination import message_page_response
from parley.api.params import query_int
from parley.api.serializers import body_value
from parley.attachments import attachment_response
from parley.common.errors import InvalidInput, NotFound
from parley.representations import message_json
from parley.selectors.blocks import blocked_ids, flag_blocked_senders
from parley.services import messages as message_services
from parley.services import reads as read_services

ERRORS = {
    403: OpenApiResponse(description="Not the sender"),
    404: OpenApiResponse(description="No such message, deleted, or not in your conversations"),
}


class MessageViewSet(MessageFeatureActions, ParleyView, viewsets.ViewSet):
    lookup_value_regex = ID

    @extend_schema(
        parameters=[*PAGE_PARAMS, int_param("conversation", "Only this conversation.")],
        responses={200: s.MessagePageOut},
        tags=["messages"],
    )
    def list(self, request: Request) -> Response:
        """Live messages of every conversation the caller is in, oldest first."""
        conversation_id = query_int(request, "conversation")
        messages = selectors.messages_visible_to(user_id=current_user(request).pk, conversation_id=conversation_id)
        return Response(message_page_response(request, selectors.QuerySetMessages(messages, current_user(request).pk)))

    @extend_schema(responses={200: s.MessageOut, **ERRORS}, tags=["messages"])
    def retrieve(self, request: Request, pk: str) -> Response:
        user = current_user(request)
        data = message_json(access.message_get_for_member(user=user, message_id=int(pk)))
        flag_blocked_senders([data], blocked=blocked_ids(user_id=user.pk))
        return Response(data)

    @extend_schema(request=None, responses={200: s.MessageOut, **ERRORS}, tags=["messages"])
    @action(detail=True, methods=["post"])
    def mark_read(self, request: Request, pk: str) -> Response:
        """Move the caller's read pointer to this message: it and every earlier message
        of the conversation are read. Never moves backwards."""
        message, _ = read_services.read_pointer_move(user=current_user(request), message_id=int(pk))
        return Response(message_json(message))

    @extend_schema(
        request=s.EditMessageIn,
        responses={200: s.MessageOut, 400: OpenApiResponse(description="Invalid content"), **ERRORS},
        tags=["messages"],
    )
    @action(detail=True, methods=["post"])
    def edit_message(self, request: Request, pk: str) -> Response:
        """Replace the content of your own message."""
        content = body_value(request.data, "content")
        if content is None:
            raise InvalidInput("This field is required.", field="content", code="required")
        message = message_services.message_edit(user=current_user(request), message_id=int(pk), content=content)
        return Response(message_json(message))

    @extend_schema(request=None, responses={200: s.MessageOut, **ERRORS}, tags=["messages"])
    @action(detail=True, methods=["post"])
    def delete_message(self, request: Request, pk: str) -> Response:
        """Soft-delete your own message: its content and file are erased and it leaves
        every listing. The response shows the deleted message once."""
        message = message_services.message_delete(user=current_user(request), message_id=int(pk))
        return Response(message_json(message))

    @extend_schema(request=s.EditMessageIn, responses={200: s.MessageOut, **ERRORS}, tags=["compatibility"])
    @action(detail=True, methods=["patch"], url_path="edit")
    def edit(self, request: Request, pk: str) -> Response:
        """Alias of `edit_message` kept for clients of the seed's original code."""
        return MessageViewSet.edit_message(self, request, pk)  # type: ignore[call-arg,arg-type]

    @extend_schema(request=None, responses={200: s.MessageOut, **ERRORS}, tags=["compatibility"])
    @action(detail=True, methods=["delete"], url_path="soft_delete")
    def soft_delete(self, request: Request, pk: str) -> Response:
        """Alias of `delete_message` kept for clients of the seed's original code."""
        return MessageViewSet.delete_message(self, request, pk)  # type: ignore[call-arg,arg-type]

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiResponse(description="The file"), **ERRORS},
        tags=["messages"],
    )
    @action(detail=True, methods=["get"])
    def attachment(self, request: Request, pk: str) -> Response:
        """Download the attachment: participants of the conversation only."""
        message = access.message_get_for_member(user=current_user(request), message_id=int(pk))
        if not message.attachment:
            raise NotFound("This message has no attachment.")
        return attachment_response(  # type: ignore[return-value]
            path=message.attachment.name or "",
            name=message.attachment_name,
            content_type=message.attachment_type,
            asynchronous=isinstance(request._request, ASGIRequest),
        )
