from django.urls import path
from rest_framework.routers import SimpleRouter

from parley.api.conversations import ConversationViewSet
from parley.api.messages import MessageViewSet
from parley.api.safety import ReportView

router = SimpleRouter()
router.register("conversations", ConversationViewSet, basename="conversation")
router.register("messages", MessageViewSet, basename="message")

urlpatterns = [
    path("messages/<int:pk>/report/", ReportView.as_view(), name="message-report"),
    *router.urls,
]
