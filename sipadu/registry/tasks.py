"""Background jobs of the registry: running an uploaded import, the monthly coverage roll."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sipadu.jobs import crontab, job, periodic

from . import coverage
from .importers import import_file, publish_progress, write_error_csv
from .models import ImportRun

log = logging.getLogger(__name__)


def run_import(
    run: ImportRun, *, progress: Callable[[int, float], None] | None = None
) -> ImportRun:
    """Import the file kept for ``run`` and record the outcome on it.

    The upload is deleted once the import is handled (done or rejected); it is kept when the
    job crashed, so that it can be run again.
    """
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.RUNNING)

    def report(rows: int, fraction: float) -> None:
        publish_progress(run.pk, rows, fraction)
        if progress:
            progress(rows, fraction)

    try:
        result = import_file(
            run.upload.path,
            run=run,
            partial=run.partial,
            office=run.office,
            actor=run.created_by,
            progress=report,
        )
    except Exception:
        log.exception("registry import %s crashed", run.pk)
        ImportRun.objects.filter(pk=run.pk).update(
            status=ImportRun.Status.FAILED,
            finished_at=timezone.now(),
            message=_("Impor gagal karena kesalahan sistem; berkas disimpan untuk dicoba lagi."),
        )
        run.refresh_from_db()
        return run
    run.rows_total = result.rows_total
    run.rows_created = result.created
    run.rows_updated = result.updated
    run.rows_rejected = result.rejected
    run.finished_at = timezone.now()
    messages = []
    if result.fatal:
        messages.append(result.fatal)
    elif result.committed:
        messages.append(
            _("%(c)d penduduk baru, %(u)d diperbarui, %(r)d baris ditolak.")
            % {"c": result.created, "u": result.updated, "r": result.rejected}
        )
    else:
        messages.append(
            _(
                "Tidak ada yang disimpan: %(r)d baris ditolak. Perbaiki baris tersebut "
                "atau impor dengan pilihan 'simpan baris yang benar saja'."
            )
            % {"r": result.rejected}
        )
    if result.ignored_columns:
        messages.append(_("Kolom diabaikan: %s.") % ", ".join(result.ignored_columns[:20]))
    run.message = " ".join(messages)
    run.status = ImportRun.Status.DONE if result.committed else ImportRun.Status.REJECTED
    if result.problems:
        buffer = io.StringIO()
        write_error_csv(result.problems, buffer)
        run.error_file.save(
            f"{run.pk}-errors.csv", ContentFile(buffer.getvalue().encode("utf-8-sig")), save=False
        )
    if run.upload:
        run.upload.delete(save=False)
    run.save()
    publish_progress(run.pk, result.rows_total, 1.0)
    return run


@job()
def run_import_job(run_id: str) -> None:
    """Huey job: run a queued import."""
    run = ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.PENDING).first()
    if run is not None:
        run_import(run)


@periodic(crontab(day="1", hour="0", minute="15"))
def roll_coverage_job() -> None:
    """On the first of each month: snapshot last month's coverage and restart the counters."""
    with transaction.atomic():
        coverage.roll_coverage()
