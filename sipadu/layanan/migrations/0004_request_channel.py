"""Where a request was made (web portal or WhatsApp).

Until now a WhatsApp request was told apart only by its ``layanan.whatsapp.submit`` audit
event; existing requests take their channel from those events.
"""

import uuid

from django.db import migrations, models

SUBMIT_EVENT = "layanan.whatsapp.submit"  # sipadu.layanan.whatsapp.SUBMIT_EVENT


def channel_from_audit(apps, schema_editor):
    request_model = apps.get_model("layanan", "DocumentRequest")
    event_model = apps.get_model("audit", "AuditEvent")
    ids = []
    for text in event_model.objects.filter(action=SUBMIT_EVENT).values_list("object_id", flat=True):
        try:
            ids.append(uuid.UUID(text))
        except ValueError:
            continue
    for start in range(0, len(ids), 500):
        request_model.objects.filter(pk__in=ids[start : start + 500]).update(channel="whatsapp")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_audit_log"),
        ("layanan", "0003_issued_status_change"),
    ]

    operations = [
        migrations.AddField(
            model_name="documentrequest",
            name="channel",
            field=models.CharField(
                choices=[("web", "Portal web"), ("whatsapp", "WhatsApp")],
                default="web",
                max_length=10,
                verbose_name="kanal pengajuan",
            ),
        ),
        migrations.RunPython(channel_from_audit, migrations.RunPython.noop),
    ]
