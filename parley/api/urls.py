from django.urls import path
from rest_framework.routers import SimpleRouter

from parley.api.conversations import ConversationViewSet
from parley.api.message_features import MentionsView
from parley.api.messages import MessageViewSet

router = SimpleRouter()
router.register("conversations", ConversationViewSet, basename="conversation")
router.register("messages", MessageViewSet, basename="message")

urlpatterns = [path("mentions/", MentionsView.as_view(), name="mentions"), *router.urls]
