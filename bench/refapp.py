"""The bare-Django reference: the project's settings, no middleware, two plain views.

Used as DJANGO_SETTINGS_MODULE *and* as ROOT_URLCONF, and never by the product:

    GET  /ref/hello/                   a JSON "ok" (the cost of Django itself)
    POST /ref/send/<conversation>/<user>/
                                       the writes of chat.services.messages.message_send,
                                       statement for statement, without DRF, JWT, the
                                       access check, the rate limit or the publish

S1 compares the product's send_message with the second under WSGI, the shape the issue
asks for ("a bare Django view doing the same inserts, no ASGI tax").
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.refapp")

from server.settings import *  # noqa: F403

ROOT_URLCONF = "bench.refapp"
MIDDLEWARE: list[str] = []


def hello(request):  # type: ignore[no-untyped-def]
    from django.http import JsonResponse

    return JsonResponse({"ok": True})


def send(request, conversation_id: int, user_id: int):  # type: ignore[no-untyped-def]
    from django.db import transaction
    from django.db.models import Case, F, Q, Value, When
    from django.http import HttpResponseNotAllowed, JsonResponse
    from django.utils import timezone

    from parley.models import Conversation, Event, Membership, Message

    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    now = timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        seq = conversation.last_seq + 1
        message = Message(
            conversation_id=conversation_id, sender_id=user_id, content="bench message", timestamp=now, seq=seq
        )
        with transaction.atomic():
            message.save(force_insert=True)
        Event.objects.bulk_create(
            [
                Event(
                    conversation_id=conversation_id,
                    seq=seq,
                    type="message.created",
                    message_id=message.pk,
                    actor_id=user_id,
                )
            ]
        )
        conversation.last_seq = seq
        conversation.updated_at = now
        conversation.last_message_id = message.pk
        conversation.save(update_fields=["last_message", "last_seq", "updated_at"])
        Membership.objects.filter(conversation_id=conversation_id).update(
            unread_count=Case(When(~Q(user_id=user_id), then=F("unread_count") + 1), default=F("unread_count")),
            hidden=Value(False),
        )
    return JsonResponse({"id": message.pk, "seq": seq}, status=201)


def _urlpatterns():  # type: ignore[no-untyped-def]
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    return [
        path("ref/hello/", hello),
        path("ref/send/<int:conversation_id>/<int:user_id>/", csrf_exempt(send)),
    ]


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    # Lazy, so that importing this module as settings does not import django.urls views.
    if name == "urlpatterns":
        return _urlpatterns()
    if name == "wsgi_application":
        from django.core.wsgi import get_wsgi_application

        return get_wsgi_application()
    if name == "asgi_application":
        from django.core.asgi import get_asgi_application

        return get_asgi_application()
    raise AttributeError(name)
