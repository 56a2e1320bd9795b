"""Account reads."""

from __future__ import annotations

from django.db.models import Case, IntegerField, QuerySet, Value, When

from accounts.models import User


def user_search(*, query: str, exclude_user_id: int | None = None, limit: int = 20) -> QuerySet[User]:
    """Active users whose username contains `query`, prefix matches first."""
    users = User.objects.filter(is_active=True).only("id", "username")
    if query:
        prefix_first = Case(
            When(username__istartswith=query, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
        users = users.filter(username__icontains=query).order_by(prefix_first, "username")
    else:
        users = users.order_by("username")
    if exclude_user_id is not None:
        users = users.exclude(pk=exclude_user_id)
    return users[:limit]
