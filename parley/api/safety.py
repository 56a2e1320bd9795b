"""Blocks and reports (SPEC 11): thin views over parley.services.blocks and .reports.

Routes: `parley.users_urls` (`/api/users/{id}/block/`, `/api/users/blocked/`) and
`POST /api/chat/messages/{id}/report/` (parley.api.urls).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from parley.api.base import ParleyView, current_user
from parley.api.serializers import body_value
from parley.selectors.blocks import blocks_of
from parley.services import blocks as block_services
from parley.services import reports as report_services
from parley.users import wire_id


class BlockedUserOut(serializers.Serializer):
    id = serializers.IntegerField(help_text="A number, or a string for UUID user keys.")
    username = serializers.CharField()
    blocked_at = serializers.DateTimeField()


class BlockOut(serializers.Serializer):
    id = serializers.IntegerField(help_text="The blocked user's id.")
    blocked = serializers.BooleanField()
    blocked_at = serializers.DateTimeField()


class ReportIn(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, help_text="Why the message is reported (1..1000 characters).")


class ReportOut(serializers.Serializer):
    id = serializers.IntegerField()
    message = serializers.IntegerField()
    reason = serializers.CharField()
    status = serializers.ChoiceField(choices=["open", "actioned", "dismissed"])
    created_at = serializers.DateTimeField()


class BlockView(ParleyView):
    @extend_schema(
        request=None,
        responses={
            201: BlockOut,
            400: OpenApiResponse(description="Yourself (`self_block`) or already blocked (`already_blocked`)"),
            404: OpenApiResponse(description="No such user"),
        },
        tags=["users"],
    )
    def post(self, request: Request, user_id: str) -> Response:
        """Block a user: no direct conversation with them starts or carries a message,
        neither of you adds the other to a group, and their messages in your shared
        groups come with `sender_blocked: true`."""
        block = block_services.block_create(blocker=current_user(request), user_id=user_id)
        return Response(
            {"id": wire_id(block.blocked_id), "blocked": True, "blocked_at": block.created_at},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=None,
        responses={
            204: None,
            400: OpenApiResponse(description="Not a user id (`invalid_id`)"),
            404: OpenApiResponse(description="Not blocked (`not_blocked`)"),
        },
        tags=["users"],
    )
    def delete(self, request: Request, user_id: str) -> Response:
        """Unblock a user."""
        block_services.block_delete(blocker=current_user(request), user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BlockedListView(ParleyView):
    @extend_schema(responses={200: BlockedUserOut(many=True)}, tags=["users"])
    def get(self, request: Request) -> Response:
        """The users you blocked, latest first."""
        return Response(blocks_of(user_id=current_user(request).pk))


class ReportView(ParleyView):
    @extend_schema(
        request=ReportIn,
        responses={
            201: ReportOut,
            200: ReportOut,
            400: OpenApiResponse(description="No reason, too long, or your own message (`own_message`)"),
            404: OpenApiResponse(description="No such message, deleted, or not in your conversations"),
        },
        tags=["messages"],
    )
    def post(self, request: Request, pk: str) -> Response:
        """Report a message of one of your conversations to the moderators. Reporting
        the same message again answers 200 with your first report."""
        report, created = report_services.report_create(
            reporter=current_user(request), message_id=int(pk), reason=body_value(request.data, "reason")
        )
        data = {
            "id": report.pk,
            "message": report.message_id,
            "reason": report.reason,
            "status": report.status,
            "created_at": report.created_at,
        }
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


__all__ = ["BlockView", "BlockedListView", "ReportView"]
