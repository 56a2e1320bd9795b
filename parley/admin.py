"""Django admin: chat rows to inspect, reports to act on.

Conversations, memberships, messages and events are read-only here: a row written
behind the services' back would have no event, no `seq`, and open sockets would never
see it (an admin "Add message" once failed on the missing `seq`, an edit saved no
`edited_at`). Every change goes through the report queue's actions, which call
parley.services.reports, so that it is numbered, stored and published like any other.
tests/test_admin.py checks that no admin path writes a chat row otherwise.

Moderators are staff users with the `parley.moderate` permission ("Can moderate
reported messages"): they see the queue and run its actions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest

from parley.common.errors import AppError
from parley.models import Conversation, Event, Membership, Message, Report
from parley.services import reports as report_services

# The host's user model names its login field; "username" may not exist (e.g. email users).
_USERNAME = get_user_model().USERNAME_FIELD


class ReadOnly:
    """Viewing only: no add, change or delete from the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MembershipInline(ReadOnly, admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "joined_at", "last_read_message_id", "unread_count", "hidden")
    readonly_fields = fields


@admin.register(Conversation)
class ConversationAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("id", "kind", "title", "last_seq", "created_at", "updated_at")
    list_filter = ("kind",)
    search_fields = ("title", f"participants__{_USERNAME}")
    inlines = [MembershipInline]


@admin.register(Message)
class MessageAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("id", "conversation", "sender", "short_content", "timestamp", "is_deleted")
    list_filter = ("is_deleted",)
    search_fields = ("content", f"sender__{_USERNAME}")
    list_select_related = ("sender", "conversation")

    @admin.display(description="content")
    def short_content(self, message: Message) -> str:
        return message.content[:80]


@admin.register(Event)
class EventAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("id", "conversation", "seq", "type", "message_id", "actor_id", "created_at")
    list_filter = ("type",)


def _moderation(
    action: Callable[..., None], *, description: str, done: str
) -> Callable[[Any, HttpRequest, QuerySet[Report]], None]:
    def run(modeladmin: ReportAdmin, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        succeeded = 0
        for report in queryset.order_by("id"):
            try:
                action(moderator=request.user, report=report)
            except AppError as error:
                modeladmin.message_user(request, f"Report {report.pk}: {error.detail}", messages.ERROR)
            else:
                succeeded += 1
        if succeeded:
            modeladmin.message_user(request, f"{done}: {succeeded} report(s).", messages.SUCCESS)

    run.__name__ = action.__name__
    return admin.action(description=description, permissions=["moderate"])(run)


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """The moderators' queue: open reports first, each with its message."""

    list_display = ("id", "status", "created_at", "reporter", "reported_user", "reported_content", "reason")
    list_filter = ("status",)
    list_select_related = ("reporter", "reported_user", "message")
    ordering = ("status", "-created_at")
    search_fields = ("reason", "message__content")
    fields = (
        "status",
        "reason",
        "reported_content",
        "message",
        "conversation_id_reported",
        "reporter",
        "reported_user",
        "created_at",
        "resolution",
        "resolved_by",
        "resolved_at",
    )
    readonly_fields = fields
    actions = [
        _moderation(report_services.report_delete_message, description="Delete the reported message", done="Deleted"),
        _moderation(
            report_services.report_remove_member, description="Remove the sender from the group", done="Removed"
        ),
        _moderation(report_services.report_deactivate_user, description="Deactivate the sender", done="Deactivated"),
        _moderation(report_services.report_dismiss, description="Dismiss the report", done="Dismissed"),
    ]

    @admin.display(description="reported message")
    def reported_content(self, report: Report) -> str:
        if report.message is None:
            return "(message gone)"
        if report.message.is_deleted:
            return "(deleted)"
        return report.message.content[:200] or "(attachment only)"

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(report_services.MODERATE_PERMISSION))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_moderate_permission(request) or super().has_view_permission(request, obj)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_moderate_permission(request) or super().has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # reports come from participants (POST /api/chat/messages/{id}/report/)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # resolved by the actions only
