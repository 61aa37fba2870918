"""The name vocabulary for approximate search; two indexes the import no longer pays for.

- ``NameWord``: every distinct word of the residents' folded names with its phonetic key,
  filled here from the residents already stored.
- ``Penduduk.name_key`` and ``Penduduk.source_import`` lose their indexes (approximate search
  reads NameWord and ``name_folded`` instead; nothing looks residents up by import). The
  indexes are dropped by name rather than through AlterField, which on SQLite would copy the
  whole residents table.
"""

from django.db import migrations, models

from sipadu.registry.names import phonetic_key

_DROPPED = (
    # (index name Django gave it, column) — the same names on SQLite and PostgreSQL.
    ("registry_penduduk_name_key_7a10c2ea", "name_key"),
    ("registry_penduduk_source_import_id_85f332b3", "source_import_id"),
)


def fill_words(apps, schema_editor):
    """The words of every stored name, read in chunks (memory stays small)."""
    penduduk = apps.get_model("registry", "Penduduk")
    name_word = apps.get_model("registry", "NameWord")
    connection = schema_editor.connection
    table = connection.ops.quote_name(name_word._meta.db_table)
    seen: set[str] = set()
    pending: list[tuple[str, str]] = []
    names = penduduk.objects.values_list("name_folded", flat=True).order_by()
    for folded in names.iterator(chunk_size=20_000):
        for word in folded.split():
            if word not in seen:
                seen.add(word)
                pending.append((word, phonetic_key(word)))
    with connection.cursor() as cursor:
        for start in range(0, len(pending), 5000):
            cursor.executemany(
                f"INSERT INTO {table} (word, {connection.ops.quote_name('key')}) "  # noqa: S608
                "VALUES (%s, %s) ON CONFLICT (word) DO NOTHING",
                pending[start : start + 5000],
            )


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="NameWord",
            fields=[
                ("word", models.CharField(max_length=150, primary_key=True, serialize=False)),
                ("key", models.CharField(db_index=True, max_length=150)),
            ],
            options={
                "verbose_name": "kata nama",
                "verbose_name_plural": "kata nama",
            },
        ),
        migrations.RunPython(fill_words, migrations.RunPython.noop),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="penduduk",
                    name="name_key",
                    field=models.CharField(editable=False, max_length=150),
                ),
                migrations.AlterField(
                    model_name="penduduk",
                    name="source_import",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=models.deletion.SET_NULL,
                        related_name="+",
                        to="registry.importrun",
                        verbose_name="impor asal",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    [f"DROP INDEX IF EXISTS {name}" for name, _column in _DROPPED]
                    + ["DROP INDEX IF EXISTS registry_penduduk_name_key_7a10c2ea_like"],
                    [
                        f"CREATE INDEX {name} ON registry_penduduk ({column})"
                        for name, column in _DROPPED
                    ],
                ),
            ],
        ),
    ]
