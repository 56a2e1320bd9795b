"""The admin renders every chat model without a 500 and writes no chat row itself:
conversations, memberships, messages and events change only through the services
(the report queue's actions, tests/test_moderation.py)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from parley.models import Conversation, Event, Membership, Message, Report
from tests.helpers import group, msg_url, send, start

pytestmark = pytest.mark.django_db(transaction=True)

CHAT_MODELS = (Conversation, Message, Event)


@pytest.fixture
def superuser(make_user):
    return make_user("root", is_staff=True, is_superuser=True)


@pytest.fixture
def world(alice, bob, carol, api):
    team = group(api(alice), [bob, carol])
    message = send(api(bob), team["id"], "hello admin")
    send(api(alice), start(api(alice), bob)["id"], "direct")
    api(alice).post(msg_url(message["id"], "report"), json={"reason": "test"})
    return {"conversation": team["id"], "message": message["id"]}


def counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (Conversation, Membership, Message, Event, Report))


def test_every_parley_page_renders(superuser, world):
    client = Client()
    client.force_login(superuser)
    assert client.get("/admin/").status_code == 200
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label != "parley":
            continue
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        assert client.get(reverse(f"admin:{info}_changelist")).status_code == 200, model
        assert client.get(reverse(f"admin:{info}_changelist") + "?q=hello").status_code == 200, model
        obj = model.objects.first()
        assert obj is not None, model
        assert client.get(reverse(f"admin:{info}_change", args=[obj.pk])).status_code == 200, model
        add = client.get(reverse(f"admin:{info}_add"))
        assert add.status_code == (200 if model_admin.has_add_permission(_request(superuser)) else 403), model


def _request(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_no_admin_path_writes_a_chat_row(superuser, world):
    """Add, change, delete and bulk delete are refused for every chat model, its
    inlines included; nothing changes."""
    client = Client()
    client.force_login(superuser)
    request = _request(superuser)
    before = counts()
    for model in CHAT_MODELS:
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
        for inline in model_admin.get_inline_instances(request):
            assert not (inline.has_add_permission(request, None) or inline.has_change_permission(request))
            assert not inline.has_delete_permission(request)
        assert "delete_selected" not in model_admin.get_actions(request)
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        obj = model.objects.first()
        assert client.post(reverse(f"admin:{info}_add"), {"content": "x", "seq": 1}).status_code == 403
        assert client.post(reverse(f"admin:{info}_change", args=[obj.pk]), {"content": "edited"}).status_code == 403
        assert client.post(reverse(f"admin:{info}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
        bulk = client.post(
            reverse(f"admin:{info}_changelist"), {"action": "delete_selected", "_selected_action": [obj.pk]}
        )
        assert bulk.status_code in (200, 302)
    # Reports: no add, no change; their actions are the services.
    assert not admin.site._registry[Report].has_add_permission(request)
    assert not admin.site._registry[Report].has_change_permission(request)
    assert counts() == before
    assert Message.objects.get(pk=world["message"]).content == "hello admin"


def test_deleting_a_user_in_the_admin_leaves_no_orphans(superuser, world, alice, bob, carol):
    client = Client()
    client.force_login(superuser)
    url = reverse(f"admin:{alice._meta.app_label}_{alice._meta.model_name}_delete", args=[alice.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not type(alice).objects.filter(pk=alice.pk).exists()
    # alice left the group through the service; her messages stay as "deleted user".
    assert Event.objects.filter(conversation_id=world["conversation"], type="member.removed").count() == 1
    assert Membership.objects.filter(conversation_id=world["conversation"]).count() == 2
    assert Message.objects.filter(sender__isnull=True).count() == 1
    # No conversation without members, no report without its reporter.
    assert not Conversation.objects.exclude(pk__in=Membership.objects.values("conversation_id")).exists()
    assert not Report.objects.filter(reporter_id=alice.pk).exists()
    # bob deleted too: the direct conversation of the pair has nobody left and goes.
    assert (
        client.post(
            reverse(f"admin:{bob._meta.app_label}_{bob._meta.model_name}_delete", args=[bob.pk]), {"post": "yes"}
        ).status_code
        == 302
    )
    assert Conversation.objects.filter(kind="direct").count() == 0
    assert not Conversation.objects.exclude(pk__in=Membership.objects.values("conversation_id")).exists()
