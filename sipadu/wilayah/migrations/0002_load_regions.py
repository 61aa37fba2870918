"""Load the shipped Kepmendagri 2025 region codes (idempotent)."""

from django.db import migrations


def load(apps, schema_editor):
    from sipadu.wilayah.loader import load_regions

    load_regions(
        region_model=apps.get_model("wilayah", "Region"),
        population_model=apps.get_model("wilayah", "RegionPopulation"),
    )


class Migration(migrations.Migration):
    dependencies = [("wilayah", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop, elidable=False)]
