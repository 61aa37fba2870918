from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SigningConfig(AppConfig):
    """PDF rendering, PAdES electronic signatures (TTE) and their verification."""

    name = "sipadu.signing"
    label = "signing"
    verbose_name = _("Tanda tangan elektronik")

    def ready(self) -> None:
        from . import demo  # noqa: F401 - registers the demo step
