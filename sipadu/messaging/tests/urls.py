"""The project's URLs plus the messaging webhooks, as the lead mounts them."""

from django.urls import include, path

from sipadu.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    *[p for p in project_urlpatterns if "webhooks" not in str(p.pattern)],
    path("webhooks/", include("sipadu.messaging.urls")),
]
