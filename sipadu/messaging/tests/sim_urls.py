"""Test URLs: the project's, the webhooks, and the WhatsApp simulator where the lead mounts it."""

from django.urls import include, path

from sipadu.messaging.tests.urls import urlpatterns as messaging_urlpatterns

urlpatterns = [
    *[p for p in messaging_urlpatterns if "simulator-wa" not in str(p.pattern)],
    path("simulator-wa/", include("sipadu.messaging.simulator_urls")),
]
