"""`GET /api/limits/`: the server's limits, so clients can explain them before a 4xx."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from parley.api.base import ParleyView
from parley.conf import parley_settings


class LimitsOut(serializers.Serializer):
    max_content_length = serializers.IntegerField(help_text="Characters per message.")
    max_attachment_bytes = serializers.IntegerField()
    max_page_size = serializers.IntegerField()
    max_group_members = serializers.IntegerField()
    max_title_length = serializers.IntegerField()
    ws_max_frame_bytes = serializers.IntegerField()
    typing_interval_seconds = serializers.FloatField()


class LimitsView(ParleyView):
    permission_classes = [AllowAny]

    def get_authenticators(self) -> list[Any]:
        return []

    @extend_schema(responses={200: LimitsOut}, tags=["server"])
    def get(self, request: Request) -> Response:
        return Response(
            {
                "max_content_length": parley_settings.MAX_CONTENT_LENGTH,
                "max_attachment_bytes": parley_settings.MAX_ATTACHMENT_BYTES,
                "max_page_size": parley_settings.MAX_PAGE_SIZE,
                "max_group_members": parley_settings.MAX_GROUP_MEMBERS,
                "max_title_length": parley_settings.MAX_TITLE_LENGTH,
                "ws_max_frame_bytes": parley_settings.WS_MAX_FRAME_BYTES,
                "typing_interval_seconds": parley_settings.TYPING_INTERVAL_SECONDS,
            }
        )
