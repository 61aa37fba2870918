from django.apps import AppConfig


class SopConfig(AppConfig):
    name = "sipadu.sop"
    label = "sop"
