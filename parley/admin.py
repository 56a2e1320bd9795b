"""Django admin for conversations, memberships, messages and events.

Edits made here bypass chat.services (no events are published); the admin is for
inspection and moderation, and message deletion should go through the API.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model

from parley.models import Conversation, Event, Membership, Message

# The host's user model names its login field; "username" may not exist (e.g. email users).
_USERNAME = get_user_model().USERNAME_FIELD


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)
    readonly_fields = ("last_read_message_id", "last_read_at", "unread_count")


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "title", "last_seq", "created_at", "updated_at")
    list_filter = ("kind",)
    search_fields = ("title", f"participants__{_USERNAME}")
    readonly_fields = ("direct_key", "last_seq", "last_message", "created_at", "updated_at")
    inlines = [MembershipInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "conversation", "sender", "short_content", "timestamp", "is_deleted")
    list_filter = ("is_deleted",)
    search_fields = ("content", f"sender__{_USERNAME}")
    raw_id_fields = ("conversation", "sender")
    readonly_fields = ("seq", "client_id", "timestamp", "edited_at", "deleted_at", "attachment")
    list_select_related = ("sender", "conversation")

    @admin.display(description="content")
    def short_content(self, message: Message) -> str:
        return message.content[:80]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("id", "conversation", "seq", "type", "message_id", "actor_id", "created_at")
    list_filter = ("type",)
    raw_id_fields = ("conversation",)

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False  # the event log is append-only
