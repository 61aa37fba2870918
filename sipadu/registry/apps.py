from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "sipadu.registry"
    label = "registry"
