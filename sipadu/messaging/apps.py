from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "sipadu.messaging"
    label = "messaging"
