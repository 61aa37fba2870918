"""Webhook endpoints of the messaging channels; mounted under ``webhooks/``."""

from django.urls import path

from sipadu.messaging.types.whatsapp.views import whatsapp_webhook

app_name = "messaging"

urlpatterns = [
    path("whatsapp/", whatsapp_webhook, name="whatsapp_webhook"),
]
