from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LayananConfig(AppConfig):
    name = "sipadu.layanan"
    label = "layanan"
    verbose_name = _("Layanan dokumen")

    def ready(self) -> None:
        """Register the Dik Jamila step handlers, the case panel, the demo step, and the
        "issued here" look-up of signature verification."""
        from sipadu.core.nav import NavItem, register
        from sipadu.layanan import (  # noqa: F401  (registrations)
            bulk,
            demo,
            handlers,
            issuing,
            revocation,
            whatsapp,
            work_views,
        )
        from sipadu.layanan.documents import issued_lookup

        whatsapp.register()  # the "ajukan" and "status" flows of the WhatsApp conversation

        # The portal is public: its menu entry shows to everyone, signed in or not.
        register(NavItem("layanan:catalogue", _("Layanan dokumen"), 60, lambda request: True))

        try:
            from sipadu.signing.verify import set_issued_lookup
        except ImportError:  # signing not installed in this deployment
            return
        set_issued_lookup(issued_lookup)
