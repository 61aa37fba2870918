from django.apps import AppConfig


class LayananConfig(AppConfig):
    name = "sipadu.layanan"
    label = "layanan"
