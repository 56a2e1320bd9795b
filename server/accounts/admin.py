from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from server.accounts.models import RevokedSession, User

admin.site.register(User, UserAdmin)


@admin.register(RevokedSession)
class RevokedSessionAdmin(admin.ModelAdmin):
    list_display = ("sid", "user", "revoked_at")
    raw_id_fields = ("user",)
