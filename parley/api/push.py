"""`/api/push/`: a member's Web Push subscriptions, one per browser (SPEC 12).

    GET    key/             whether push is on, and the VAPID public key (applicationServerKey)
    POST   subscriptions/   store `PushSubscription.toJSON()` for the caller
    DELETE subscriptions/   forget one (`{"endpoint": ...}` or `?endpoint=`)

Mounted by the host: `path("api/push/", include("parley.push_urls"))`.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from parley.api.base import ParleyView, current_user
from parley.common.parsers import JSONParser
from parley.notify import webpush
from parley.representations import iso
from parley.services import push

DISABLED = OpenApiResponse(description="Web Push is off on this server (`push_disabled`)")


class KeyOut(serializers.Serializer):
    enabled = serializers.BooleanField(help_text="false: this server has no VAPID keys and pushes nothing.")
    public_key = serializers.CharField(
        allow_null=True, help_text="VAPID public key, base64url: `applicationServerKey`; null when off."
    )


class SubscriptionKeys(serializers.Serializer):
    p256dh = serializers.CharField(help_text="The browser's P-256 public key, base64url (65 bytes).")
    auth = serializers.CharField(help_text="The auth secret, base64url (16 bytes).")


class SubscriptionIn(serializers.Serializer):
    endpoint = serializers.URLField(max_length=2000, help_text="The push service's URL for this browser.")
    keys = SubscriptionKeys()
    expirationTime = serializers.IntegerField(required=False, allow_null=True, help_text="Ignored.")


class SubscriptionOut(serializers.Serializer):
    id = serializers.IntegerField()
    endpoint = serializers.CharField()
    created_at = serializers.DateTimeField()


class EndpointIn(serializers.Serializer):
    endpoint = serializers.CharField()


class PushKeyView(ParleyView):
    permission_classes = [AllowAny]

    def get_authenticators(self) -> list[Any]:
        return []

    @extend_schema(responses={200: KeyOut}, tags=["push"])
    def get(self, request: Request) -> Response:
        """Whether this server pushes, and the VAPID public key to subscribe with."""
        if not webpush.configured():
            return Response({"enabled": False, "public_key": None})
        return Response({"enabled": True, "public_key": webpush.public_key()})


class PushSubscriptionsView(ParleyView):
    parser_classes = [JSONParser]

    @extend_schema(
        request=SubscriptionIn,
        responses={
            200: SubscriptionOut,
            201: SubscriptionOut,
            400: OpenApiResponse(description="`invalid_subscription`, `invalid_url`, `unsafe_url`"),
            404: DISABLED,
        },
        tags=["push"],
    )
    def post(self, request: Request) -> Response:
        """Subscribe this browser (201; 200 when the endpoint was known). While no socket of
        the caller is open, new messages are pushed to it per their notification level and mutes."""
        subscription, created = push.subscription_save(user=current_user(request), data=request.data)
        body = {"id": subscription.pk, "endpoint": subscription.endpoint, "created_at": iso(subscription.created_at)}
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        request=EndpointIn,
        parameters=[OpenApiParameter("endpoint", str, required=False, description="Instead of the body.")],
        responses={204: None, 400: OpenApiResponse(description="No endpoint given (`invalid_subscription`)")},
        tags=["push"],
    )
    def delete(self, request: Request) -> Response:
        """Unsubscribe one of the caller's browsers (204 also when it was not subscribed)."""
        data = request.data if isinstance(request.data, dict) else {}
        endpoint = data.get("endpoint") or request.query_params.get("endpoint")
        push.subscription_delete(user=current_user(request), endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)
