"""`/api/server/`: the host's backend manages its users and opens conversations for them.

Thin views over parley.services.identities and parley.services.external, guarded by
the API key (parley.api.server_auth). Without PARLEY["API_KEY"] every route answers
404 `server_api_disabled` and the OpenAPI schema leaves the routes out
(`hide_when_disabled`, a drf-spectacular preprocessing hook), so an unconfigured server
exposes nothing and its schema promises nothing it would not serve.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from parley.api.base import ParleyView
from parley.api.server_auth import ApiKeyAuthentication, HasApiKey
from parley.common.errors import NotFound
from parley.common.parsers import JSONParser
from parley.conf import parley_settings
from parley.identities import clean_external_id, identity_get, identity_json
from parley.representations import iso
from parley.services import external, identities
from parley.users import wire_id

DISABLED = "The server API is off: set PARLEY_API_KEY (PARLEY['API_KEY']) to enable it."


class ServerUserIn(serializers.Serializer):
    username = serializers.CharField(required=False, max_length=150, help_text="Kept when omitted.")
    display_name = serializers.CharField(required=False, allow_blank=True, max_length=255)
    is_active = serializers.BooleanField(required=False, help_text="false: deactivate (their sockets close).")


class ServerUserOut(serializers.Serializer):
    id = serializers.JSONField(help_text="Parley's user id: what `start/`'s `user2` and `participants` take.")
    external_id = serializers.CharField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    is_active = serializers.BooleanField()


class ServerConversationIn(serializers.Serializer):
    users = serializers.ListField(child=serializers.CharField(max_length=255), help_text="External ids.")
    title = serializers.CharField(required=False, allow_blank=True, max_length=200, help_text="Makes a group.")
    admin = serializers.CharField(required=False, max_length=255, help_text="A group's admin (external id).")


class ServerConversationOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["direct", "group"])
    title = serializers.CharField()
    participants = serializers.ListField(child=serializers.JSONField(), help_text="Parley user ids.")
    users = serializers.ListField(child=serializers.CharField(), help_text="External ids, the admin first.")
    admin = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()


EXTERNAL_ID = OpenApiParameter(
    "external_id",
    {"type": "string", "minLength": 1, "maxLength": 255},
    OpenApiParameter.PATH,
    description="The host's user id (1..255 printable characters, URL-encoded; may hold '/').",
)
BAD_ID = OpenApiResponse(description="The external id is malformed (`invalid_external_id`)")
NOT_FOUND = OpenApiResponse(
    description="No such user (`unknown_user`), or the server API is off (`server_api_disabled`)"
)
OFF = OpenApiResponse(description="The server API is off (`server_api_disabled`)")


class ServerApiView(ParleyView):
    """Base of the server API: the API key only, JSON bodies only."""

    permission_classes = [HasApiKey]
    parser_classes = [JSONParser]

    def get_authenticators(self) -> list[Any]:
        return [ApiKeyAuthentication()]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if not parley_settings.API_KEY:
            raise NotFound(DISABLED, code="server_api_disabled")
        super().initial(request, *args, **kwargs)


class ServerUserView(ServerApiView):
    @extend_schema(
        parameters=[EXTERNAL_ID], responses={200: ServerUserOut, 400: BAD_ID, 404: NOT_FOUND}, tags=["server"]
    )
    def get(self, request: Request, external_id: str) -> Response:
        """The user the host calls `external_id`."""
        return Response(identity_json(identity_get(external_id=clean_external_id(external_id))))

    @extend_schema(
        parameters=[EXTERNAL_ID],
        request=ServerUserIn,
        responses={200: ServerUserOut, 201: ServerUserOut, 404: OFF},
        tags=["server"],
    )
    def put(self, request: Request, external_id: str) -> Response:
        """Create (201) or update (200) the user the host calls `external_id`. Omitted
        fields keep their value; `is_active: false` deactivates and closes their sockets."""
        identity, created = identities.identity_upsert(external_id=external_id, data=request.data)
        return Response(identity_json(identity), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(parameters=[EXTERNAL_ID], responses={204: None, 400: BAD_ID, 404: NOT_FOUND}, tags=["server"])
    def delete(self, request: Request, external_id: str) -> Response:
        """Erase the user: they leave their groups, their messages stay as "deleted user"."""
        identities.identity_erase(external_id=external_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ServerConversationsView(ServerApiView):
    @extend_schema(
        request=ServerConversationIn,
        responses={200: ServerConversationOut, 201: ServerConversationOut, 404: OFF},
        tags=["server"],
    )
    def post(self, request: Request) -> Response:
        """`{"users": [a, b]}`: the direct conversation of two users (201 created, 200 when
        it existed). `{"users": [...], "title": ..., "admin": x}`: a new group (201)."""
        opened = external.conversation_open(data=request.data)
        conversation = opened.conversation
        body = {
            "id": conversation.pk,
            "kind": conversation.kind,
            "title": conversation.title,
            "participants": [wire_id(pk) for pk in sorted(conversation.memberships.values_list("user_id", flat=True))],
            "users": opened.external_ids,
            "admin": opened.admin,
            "created_at": iso(conversation.created_at),
        }
        return Response(body, status=status.HTTP_201_CREATED if opened.created else status.HTTP_200_OK)


def hide_when_disabled(endpoints: list[tuple[str, str, str, Any]], **kwargs: Any) -> list[tuple[str, str, str, Any]]:
    """SPECTACULAR_SETTINGS["PREPROCESSING_HOOKS"]: the server API is in the schema only
    while it is on."""
    if parley_settings.API_KEY:
        return endpoints
    return [e for e in endpoints if not issubclass(getattr(e[3], "cls", object), ServerApiView)]
