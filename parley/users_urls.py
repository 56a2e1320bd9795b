"""Blocking: `path("api/users/", include("parley.users_urls"))` in the host's URLconf.

GET    blocked/          the users the caller blocked
POST   <id>/block/       block a user
DELETE <id>/block/       unblock them
"""

from django.urls import path

from parley.api.safety import BlockedListView, BlockView

urlpatterns = [
    path("blocked/", BlockedListView.as_view(), name="users-blocked"),
    # `str`: an integer or a UUID key; parley.services.validation cleans it.
    path("<str:user_id>/block/", BlockView.as_view(), name="user-block"),
]
