from django.urls import path
from rest_framework.routers import SimpleRouter

from parley.api.conversations import ConversationViewSet
from parley.api.message_features import MentionsView
from parley.api.messages import MessageViewSet
from parley.api.safety import ReportView
from parley.api.search import SearchView

router = SimpleRouter()
router.register("conversations", ConversationViewSet, basename="conversation")
router.register("messages", MessageViewSet, basename="message")

urlpatterns = [
    path("mentions/", MentionsView.as_view(), name="mentions"),
    path("search/", SearchView.as_view(), name="search"),
    path("messages/<int:pk>/report/", ReportView.as_view(), name="message-report"),
    *router.urls,
]
