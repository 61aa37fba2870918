from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "sipadu.core"
    label = "core"
    verbose_name = _("Kantor dan pengguna")

    def ready(self) -> None:
        from . import checks, demo_data  # noqa: F401 - register the system checks, demo step
