from django.urls import path

from server.web.views import index

urlpatterns = [path("", index, name="web-index")]
