"""Seed the national holidays and cuti bersama from the list shipped with the engine."""

from django.db import migrations


def seed(apps, schema_editor):
    # The engine's reader is pure Python and stable; the model is the historical one.
    from sipadu.sop.engine.holidays import load_holidays

    Holiday = apps.get_model("sop", "Holiday")
    known = set(Holiday.objects.filter(office__isnull=True).values_list("date", flat=True))
    by_date = {}
    for h in load_holidays():
        if h.date in known:
            continue
        if h.date in by_date:
            # Two feasts on one day: one closed day named after both.
            by_date[h.date].name = f"{by_date[h.date].name} / {h.name}"[:200]
            continue
        by_date[h.date] = Holiday(
            date=h.date, name=h.name[:200], kind=str(h.kind), provisional=h.provisional
        )
    Holiday.objects.bulk_create(by_date.values())


class Migration(migrations.Migration):
    dependencies = [("sop", "0001_runtime")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
