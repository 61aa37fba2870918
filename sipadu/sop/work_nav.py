"""Menu entries of the work pages and the demo cases, registered from SopConfig.ready."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from sipadu.core import nav


def _officer(request: HttpRequest) -> bool:
    # Only people working for an office have an inbox; citizens and partners do not.
    if not (request.user.is_authenticated and getattr(request, "office", None)):
        return False
    try:
        # Until the project includes the work URLs the entries stay hidden, not broken.
        reverse("kerja:inbox")
    except NoReverseMatch:
        return False
    return True


def register() -> None:
    """Add Kotak Tugas, Mulai Perkara, Cari Perkara and Monitoring SOP to the main menu."""
    nav.register(nav.NavItem("kerja:inbox", _("Kotak Tugas"), order=10, visible=_officer))
    nav.register(nav.NavItem("kerja:start", _("Mulai Perkara"), order=11, visible=_officer))
    nav.register(nav.NavItem("kerja:search", _("Cari Perkara"), order=12, visible=_officer))
    nav.register(nav.NavItem("kerja:monitoring", _("Monitoring SOP"), order=40, visible=_officer))
    # Importing registers the demo step with sipadu.core.demo.
    from sipadu.sop import demo_cases  # noqa: F401
