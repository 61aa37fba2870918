"""Every write to the registry: one transaction, a change-log entry, an audit event and the
incremental coverage update."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from sipadu.audit.services import record_event
from sipadu.jobs import enqueue_on_commit
from sipadu.wilayah.models import Region

from . import coverage
from .models import (
    RECORD_FIELDS,
    ImportRun,
    Keluarga,
    MaritalStatus,
    Penduduk,
    PendudukChange,
    Sex,
)
from .names import fold_name
from .nik import decode_kk, decode_nik
from .search import remember_names


class RegistryError(ValueError):
    """A write refused for a reason the officer can fix (message in the UI language)."""


# Fields an officer may set through create/update (documents included).
EDITABLE_FIELDS = frozenset(RECORD_FIELDS)

DOCUMENT_FIELDS = {
    "akta_kelahiran": "akta_kelahiran_no",
    "ktp_el_rekam": "ktp_el_recorded",
    "ktp_el_cetak": "ktp_el_printed",
    "kia": "kia",
    "akta_kematian": "akta_kematian_no",
    "akta_perkawinan": "akta_perkawinan_no",
    "akta_perceraian": "akta_perceraian_no",
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _desa(code: str) -> Region:
    region = Region.objects.filter(code=code, level=Region.Level.DESA).first()
    if region is None:
        raise RegistryError(_("Kode desa/kelurahan %(code)s tidak dikenal.") % {"code": code})
    return region


def _validate(p: Penduduk) -> None:
    """Check a resident's NIK against sex and birth date, and the desa code."""
    check = decode_nik(p.nik, sex=p.sex, birth_date=p.birth_date)
    if not check.valid:
        raise RegistryError(" ".join(check.errors))
    p.nik = check.number
    if p.sex not in Sex.values:
        raise RegistryError(_("Jenis kelamin tidak dikenal."))
    if p.marital_status not in MaritalStatus.values:
        raise RegistryError(_("Status perkawinan tidak dikenal."))
    if not p.full_name.strip():
        raise RegistryError(_("Nama lengkap wajib diisi."))
    if not p.is_alive and p.death_date and p.death_date < p.birth_date:
        raise RegistryError(_("Tanggal kematian sebelum tanggal lahir."))
    _desa(p.desa_id)
    p.name_folded = fold_name(p.full_name)
    # The caller saves in this transaction: approximate search must know the name's words.
    remember_names([p.name_folded])


@transaction.atomic
def create_keluarga(
    actor: Any,
    *,
    no_kk: str,
    desa_code: str,
    rt: str = "",
    rw: str = "",
    street: str = "",
    office: Any = None,
    request: HttpRequest | None = None,
) -> Keluarga:
    """Register a family card (KK) at an address."""
    check = decode_kk(no_kk)
    if not check.valid:
        raise RegistryError(" ".join(check.errors))
    if Keluarga.objects.filter(no_kk=check.number).exists():
        raise RegistryError(_("Nomor KK sudah terdaftar."))
    keluarga = Keluarga.objects.create(
        no_kk=check.number, desa=_desa(desa_code), rt=rt, rw=rw, street=street
    )
    record_event(actor, "registry.keluarga.create", keluarga, office=office, request=request)
    return keluarga


@transaction.atomic
def create_penduduk(
    actor: Any, data: dict[str, Any], *, office: Any = None, request: HttpRequest | None = None
) -> Penduduk:
    """Register a resident; ``data`` holds model field names (``desa_id``, ``keluarga_id``…)."""
    unknown = set(data) - EDITABLE_FIELDS
    if unknown:
        raise RegistryError(_("Kolom tidak dikenal: %s") % ", ".join(sorted(unknown)))
    penduduk = Penduduk(**data)
    _validate(penduduk)
    if Penduduk.objects.filter(nik=penduduk.nik).exists():
        raise RegistryError(_("NIK sudah terdaftar."))
    ref = coverage.reference_date(lock=True)
    penduduk.save(force_insert=True)
    deltas = coverage.new_deltas()
    coverage.delta(deltas, None, coverage.state_of(penduduk), ref)
    coverage.apply_deltas(deltas)
    PendudukChange.objects.create(
        penduduk=penduduk,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action="create",
        changes={k: [None, _jsonable(v)] for k, v in sorted(data.items())},
    )
    record_event(actor, "registry.penduduk.create", penduduk, office=office, request=request)
    return penduduk


@transaction.atomic
def update_penduduk(
    actor: Any,
    penduduk: Penduduk,
    changes: dict[str, Any],
    *,
    action: str = "update",
    office: Any = None,
    request: HttpRequest | None = None,
) -> Penduduk:
    """Change fields of a resident, keeping the before/after of each in the change log."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise RegistryError(_("Kolom tidak dikenal: %s") % ", ".join(sorted(unknown)))
    ref = coverage.reference_date(lock=True)
    current = Penduduk.objects.select_for_update().get(pk=penduduk.pk)
    before = coverage.state_of(current)
    diff = {}
    for name, value in changes.items():
        old = getattr(current, name)
        if old != value:
            diff[name] = [_jsonable(old), _jsonable(value)]
            setattr(current, name, value)
    if not diff:
        return current
    _validate(current)
    if "nik" in diff and Penduduk.objects.filter(nik=current.nik).exclude(pk=current.pk).exists():
        raise RegistryError(_("NIK sudah terdaftar."))
    current.save()
    deltas = coverage.new_deltas()
    coverage.delta(deltas, before, coverage.state_of(current), ref)
    coverage.apply_deltas(deltas)
    PendudukChange.objects.create(
        penduduk=current,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        changes=diff,
    )
    # The audit event names the fields, never their values (they are personal data).
    record_event(
        actor,
        f"registry.penduduk.{action}",
        current,
        office=office,
        request=request,
        data={"fields": sorted(diff)},
    )
    return current


def record_death(
    actor: Any,
    penduduk: Penduduk,
    death_date: dt.date,
    *,
    akta_kematian_no: str = "",
    office: Any = None,
    request: HttpRequest | None = None,
) -> Penduduk:
    """Record that a resident died (and the akta kematian when already issued)."""
    if death_date > dt.date.today():
        raise RegistryError(_("Tanggal kematian tidak boleh di masa depan."))
    changes: dict[str, Any] = {"is_alive": False, "death_date": death_date}
    if akta_kematian_no:
        changes["akta_kematian_no"] = akta_kematian_no
    return update_penduduk(actor, penduduk, changes, action="death", office=office, request=request)


def issue_document(
    actor: Any,
    penduduk: Penduduk,
    kind: str,
    *,
    number: str = "",
    date: dt.date | None = None,
    office: Any = None,
    request: HttpRequest | None = None,
) -> Penduduk:
    """Record that a document was issued to a resident (``kind`` in DOCUMENT_FIELDS)."""
    field = DOCUMENT_FIELDS.get(kind)
    if field is None:
        raise RegistryError(_("Jenis dokumen tidak dikenal: %s") % kind)
    changes: dict[str, Any]
    if field.endswith("_no"):
        if not number.strip():
            raise RegistryError(_("Nomor dokumen wajib diisi."))
        changes = {field: number.strip()}
        if kind == "akta_kelahiran":
            changes["akta_kelahiran_date"] = date or dt.date.today()
        if kind == "akta_kematian" and penduduk.is_alive:
            raise RegistryError(_("Akta kematian hanya untuk penduduk yang sudah meninggal."))
    else:
        changes = {field: True}
    return update_penduduk(
        actor, penduduk, changes, action=f"document.{kind}", office=office, request=request
    )


@transaction.atomic
def set_kepala(
    actor: Any,
    keluarga: Keluarga,
    penduduk: Penduduk,
    *,
    office: Any = None,
    request: HttpRequest | None = None,
) -> Keluarga:
    """Make a member of the family its head."""
    if penduduk.keluarga_id != keluarga.no_kk:
        raise RegistryError(_("Kepala keluarga harus anggota keluarga tersebut."))
    keluarga.kepala = penduduk
    keluarga.save(update_fields=["kepala", "updated_at"])
    record_event(actor, "registry.keluarga.set_kepala", keluarga, office=office, request=request)
    return keluarga


@transaction.atomic
def start_import(
    actor: Any,
    upload: Any,
    *,
    office: Any = None,
    partial: bool = False,
    request: HttpRequest | None = None,
) -> ImportRun:
    """Keep an uploaded export and queue its import (the file stays until it is handled)."""
    from .tasks import run_import_job

    name = getattr(upload, "name", "") or "upload"
    if not name.lower().endswith((".csv", ".txt", ".xlsx")):
        raise RegistryError(_("Berkas harus CSV atau XLSX."))
    run = ImportRun(
        office=office,
        partial=partial,
        filename=name[-255:],
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    run.upload.save(
        f"{run.pk}{'.xlsx' if name.lower().endswith('.xlsx') else '.csv'}", upload, save=False
    )
    run.save(force_insert=True)
    record_event(
        actor,
        "registry.import.start",
        run,
        office=office,
        request=request,
        data={"partial": partial},
    )
    enqueue_on_commit(run_import_job, str(run.pk))
    return run
