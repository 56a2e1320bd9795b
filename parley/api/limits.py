"""`GET /api/limits/`: the server's limits, so clients can explain them before a 4xx."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from parley.common.openapi import ErrorDocumentingSchema


class LimitsOut(serializers.Serializer):
    max_content_length = serializers.IntegerField(help_text="Characters per message.")
    max_attachment_bytes = serializers.IntegerField()
    max_page_size = serializers.IntegerField()
    max_group_members = serializers.IntegerField()
    max_title_length = serializers.IntegerField()
    ws_max_frame_bytes = serializers.IntegerField()
    typing_interval_seconds = serializers.FloatField()


class LimitsView(APIView):
    schema = ErrorDocumentingSchema()
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(responses={200: LimitsOut}, tags=["server"])
    def get(self, request: Request) -> Response:
        return Response(
            {
                "max_content_length": settings.CHAT_MAX_CONTENT_LENGTH,
                "max_attachment_bytes": settings.CHAT_MAX_ATTACHMENT_BYTES,
                "max_page_size": settings.CHAT_MAX_PAGE_SIZE,
                "max_group_members": settings.CHAT_MAX_GROUP_MEMBERS,
                "max_title_length": settings.CHAT_MAX_TITLE_LENGTH,
                "ws_max_frame_bytes": settings.CHAT_WS_MAX_FRAME_BYTES,
                "typing_interval_seconds": settings.CHAT_TYPING_INTERVAL_SECONDS,
            }
        )
