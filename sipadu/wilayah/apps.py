from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def ensure_regions(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """Reload the region codes when the table is empty (after ``flush``, e.g. in tests).

    The data migration loads them on ``migrate``; ``flush`` empties every table and then
    emits post_migrate, so reference data comes back without running migrations again.
    """
    from .loader import load_regions
    from .models import Region

    if not Region.objects.using(using).exists():
        load_regions()


class WilayahConfig(AppConfig):
    name = "sipadu.wilayah"
    label = "wilayah"
    verbose_name = _("Wilayah")

    def ready(self) -> None:
        post_migrate.connect(ensure_regions, sender=self, dispatch_uid="wilayah.ensure_regions")
