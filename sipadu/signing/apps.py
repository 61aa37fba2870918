from django.apps import AppConfig


class SigningConfig(AppConfig):
    name = "sipadu.signing"
    label = "signing"
