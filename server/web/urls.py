from django.urls import path

from server.web.views import index, service_worker

urlpatterns = [
    path("", index, name="web-index"),
    path("sw.js", service_worker, name="web-service-worker"),
]
