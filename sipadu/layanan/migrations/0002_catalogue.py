"""Load the shipped document catalogue (nine documents with their requirement checklists)."""

from typing import Any

from django.db import migrations


def load(apps: Any, schema_editor: Any) -> None:
    from sipadu.layanan.catalogue import sync_catalogue

    sync_catalogue(apps.get_model("layanan", "DocumentType"), apps.get_model("layanan", "Requirement"))


class Migration(migrations.Migration):
    dependencies = [("layanan", "0001_documents")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
