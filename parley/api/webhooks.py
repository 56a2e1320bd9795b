"""`/api/server/webhooks/`: the host's backend manages its outgoing webhooks (SPEC 12).

Thin views over parley.services.webhooks and parley.selectors.notifications, behind the
server API's key (parley.api.server.ServerApiView). The secret is returned once, by the
create; Parley keeps it to sign every delivery.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from parley.api.server import OFF, ServerApiView
from parley.models import Event, WebhookDelivery
from parley.selectors import notifications as reads
from parley.services import webhooks

EVENT_CHOICES = ["*", *Event.Type.values]


class WebhookIn(serializers.Serializer):
    url = serializers.URLField(max_length=2000, help_text="http(s); a public address in production.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_CHOICES), min_length=1, help_text='Event types, or ["*"].'
    )


class WebhookPatch(serializers.Serializer):
    url = serializers.URLField(required=False, max_length=2000)
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_CHOICES), required=False, min_length=1)
    enabled = serializers.BooleanField(required=False, help_text="true re-enables a webhook the worker disabled.")


class WebhookOut(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    enabled = serializers.BooleanField()
    disabled_reason = serializers.CharField(help_text="Why the worker disabled it; empty while enabled.")
    created_at = serializers.DateTimeField()


class WebhookCreated(WebhookOut):
    secret = serializers.CharField(help_text="`whsec_...`: verifies the `webhook-signature` header.")


class AttemptOut(serializers.Serializer):
    at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()
    duration_ms = serializers.IntegerField()


class DeliveryOut(serializers.Serializer):
    id = serializers.IntegerField()
    webhook_id = serializers.CharField(help_text="The `webhook-id` header: the same on every attempt and replay.")
    event_type = serializers.CharField()
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.values)
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    log = AttemptOut(many=True)
    payload = serializers.JSONField(help_text="The body: the socket's frame of the event.")


WEBHOOK_ID = OpenApiParameter("webhook_id", int, OpenApiParameter.PATH)
DELIVERY_ID = OpenApiParameter("delivery_id", int, OpenApiParameter.PATH)
BAD = OpenApiResponse(description="`invalid_url`, `unsafe_url`, `unresolvable_url` or `invalid_events`")
MISSING = OpenApiResponse(description="`unknown_webhook`, `unknown_delivery`, or the server API is off")


class WebhooksView(ServerApiView):
    @extend_schema(responses={200: WebhookOut(many=True), 404: OFF}, tags=["server"])
    def get(self, request: Request) -> Response:
        """Every webhook (without secrets)."""
        return Response(reads.webhook_list())

    @extend_schema(request=WebhookIn, responses={201: WebhookCreated, 400: BAD, 404: OFF}, tags=["server"])
    def post(self, request: Request) -> Response:
        """A new webhook: the events of these types are POSTed to `url`, signed with `secret`."""
        webhook = webhooks.webhook_create(data=request.data)
        return Response(reads.webhook_json(webhook, with_secret=True), status=status.HTTP_201_CREATED)


class WebhookView(ServerApiView):
    @extend_schema(parameters=[WEBHOOK_ID], responses={200: WebhookOut, 404: MISSING}, tags=["server"])
    def get(self, request: Request, webhook_id: int) -> Response:
        return Response(reads.webhook_json(reads.webhook_get(webhook_id=webhook_id)))

    @extend_schema(
        parameters=[WEBHOOK_ID],
        request=WebhookPatch,
        responses={200: WebhookOut, 400: BAD, 404: MISSING},
        tags=["server"],
    )
    def patch(self, request: Request, webhook_id: int) -> Response:
        """Change `url`, `events` or `enabled`; omitted fields keep their value."""
        return Response(reads.webhook_json(webhooks.webhook_update(webhook_id=webhook_id, data=request.data)))

    @extend_schema(parameters=[WEBHOOK_ID], responses={204: None, 404: MISSING}, tags=["server"])
    def delete(self, request: Request, webhook_id: int) -> Response:
        """Delete the webhook and its delivery log; nothing more is sent to it."""
        webhooks.webhook_delete(webhook_id=webhook_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveriesView(ServerApiView):
    @extend_schema(
        parameters=[
            WEBHOOK_ID,
            OpenApiParameter("status", str, enum=WebhookDelivery.Status.values, description="Only these."),
        ],
        responses={200: DeliveryOut(many=True), 404: MISSING},
        tags=["server"],
    )
    def get(self, request: Request, webhook_id: int) -> Response:
        """The delivery log: the latest 100 deliveries, newest first, with every attempt's status code."""
        wanted = request.query_params.get("status")
        if wanted and wanted not in WebhookDelivery.Status.values:
            from parley.common.errors import InvalidInput

            raise InvalidInput(f"One of {', '.join(WebhookDelivery.Status.values)}.", field="status")
        return Response(reads.delivery_log(webhook_id=webhook_id, status=wanted))


class ReplayView(ServerApiView):
    @extend_schema(
        parameters=[WEBHOOK_ID, DELIVERY_ID],
        request=None,
        responses={
            202: OpenApiResponse(description="Queued: `{id, status: pending}`"),
            404: MISSING,
            409: OpenApiResponse(description="The webhook is disabled (`webhook_disabled`)"),
        },
        tags=["server"],
    )
    def post(self, request: Request, webhook_id: int, delivery_id: int) -> Response:
        """Send the delivery again (same `webhook-id`, same body, a fresh signature)."""
        delivery = webhooks.delivery_replay(webhook_id=webhook_id, delivery_id=delivery_id)
        return Response({"id": delivery.pk, "status": delivery.status}, status=status.HTTP_202_ACCEPTED)
