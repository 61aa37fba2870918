from django.apps import AppConfig
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _


def _officer_with_urls(request: HttpRequest) -> bool:
    """Shown to officers with an office, once the project includes the registry URLs."""
    if not request.user.is_authenticated or getattr(request, "office", None) is None:
        return False
    try:
        reverse("registry:search")
    except NoReverseMatch:
        return False
    return True


class RegistryConfig(AppConfig):
    """Population registry: residents, families, documents, imports and coverage."""

    name = "sipadu.registry"
    label = "registry"
    verbose_name = _("Registri penduduk")

    def ready(self) -> None:
        from sipadu.core import nav

        from . import demo, tasks  # noqa: F401 - registers the demo step and the jobs

        for url_name, label, order in (
            ("registry:search", _("Penduduk"), 30),
            ("registry:coverage", _("Cakupan dokumen"), 31),
            ("registry:import", _("Impor penduduk"), 32),
        ):
            nav.register(nav.NavItem(url_name, label, order=order, visible=_officer_with_urls))
