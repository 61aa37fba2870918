"""Layanan fixtures: loaded SOPs and catalogue, the Balangan staff, a resident, files."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.writer import PdfFileWriter

from sipadu.core.models import Office, User
from sipadu.layanan import actions
from sipadu.layanan.catalogue import sync_catalogue
from sipadu.layanan.models import DocumentRequest, DocumentType
from sipadu.layanan.uploads import clean_upload
from sipadu.registry import actions as registry
from sipadu.registry.models import Penduduk
from sipadu.registry.nik import encode_kk, encode_nik
from sipadu.sop.definitions_sync import sync_definitions
from sipadu.sop.tests.runtime_support import office_staff
from sipadu.wilayah.models import Region

_serial = itertools.count(101)


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Every test starts with empty rate-limit counters (they live in the cache)."""
    cache.clear()


@pytest.fixture(scope="session", autouse=True)
def _demo_signing_keys() -> None:
    """The demo CA and the Kepala Dinas keys in the test data directory, so that step 6
    (``tte``) can sign; tests of the signing failures point ``DATA_DIR`` elsewhere."""
    from sipadu.signing.ca import init_demo_ca

    init_demo_ca(offices=["balangan", "bima"])


@pytest.fixture
def setup(db: Any, office: Office) -> dict[str, Any]:
    """Definitions and catalogue loaded, one persona per role in Balangan (staff[role])."""
    report = sync_definitions()
    assert not report.errors, report.errors
    sync_catalogue()
    return {"office": office, **office_staff(office)}


@pytest.fixture
def staff(setup: dict[str, Any]) -> dict[str, User]:
    """The Balangan personas by role code."""
    return {k: v for k, v in setup.items() if k != "office"}


def png_bytes(size: tuple[int, int] = (60, 40), color: str = "navy") -> bytes:
    """A small PNG."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def png_upload(name: str = "kk.png", **kwargs: Any) -> SimpleUploadedFile:
    """A PNG as a browser would upload it."""
    return SimpleUploadedFile(name, png_bytes(**kwargs), content_type="image/png")


def js_pdf() -> bytes:
    """A PDF that runs JavaScript when opened."""
    writer = PdfFileWriter()
    writer.root["/OpenAction"] = generic.DictionaryObject(
        {
            generic.NameObject("/S"): generic.NameObject("/JavaScript"),
            generic.NameObject("/JS"): generic.TextStringObject("app.alert('hai')"),
        }
    )
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def plain_pdf() -> bytes:
    """A harmless one-page PDF."""
    writer = PdfFileWriter()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def desa(db: Any) -> str:
    """The first desa of Kabupaten Balangan."""
    code = (
        Region.objects.filter(code__startswith="63.11.", level=4)
        .order_by("code")
        .values_list("code", flat=True)
        .first()
    )
    assert code
    return str(code)


@pytest.fixture
def make_resident(db: Any, desa: str) -> Callable[..., Penduduk]:
    """A resident of Balangan on a KK, through the registry actions."""

    def make(
        *,
        full_name: str = "Nur Aisyah",
        sex: str = "P",
        birth_date: dt.date = dt.date(2024, 3, 9),
        **extra: Any,
    ) -> Penduduk:
        kecamatan = desa.replace(".", "")[:6]
        serial = next(_serial)
        keluarga = registry.create_keluarga(
            None, no_kk=encode_kk(kecamatan, dt.date(2020, 1, 2), serial), desa_code=desa
        )
        data = {
            "nik": encode_nik(kecamatan, birth_date, sex, serial),
            "full_name": full_name,
            "sex": sex,
            "birth_date": birth_date,
            "desa_id": desa,
            "keluarga_id": keluarga.no_kk,
            "father_name": "Ahmad Fauzi",
            "mother_name": "Siti Rahmah",
            "birth_place": "Paringin",
            **extra,
        }
        return registry.create_penduduk(None, data)

    return make


def claim_for(p: Penduduk, doc: str = "akta-kelahiran", **changes: str) -> dict[str, str]:
    """Applicant data for ``doc`` that agrees with the registry (``changes`` override)."""
    base = {
        "nik": p.nik,
        "full_name": p.full_name,
        "sex": p.sex,
        "birth_place": p.birth_place,
        "birth_date": p.birth_date.isoformat(),
        "no_kk": p.keluarga_id or "",
        "father_name": p.father_name,
        "mother_name": p.mother_name,
        "applicant_name": "Ahmad Fauzi",
        "ktp_reason": "baru",
        "kk_reason": "perubahan",
    }
    fields = {c.rstrip("?") for c in DocumentType.objects.get(code=doc).fields}
    base.update(changes)
    return {k: v for k, v in base.items() if k in fields}


@pytest.fixture
def submit(setup: dict[str, Any]) -> Callable[..., DocumentRequest]:
    """Submit a request through the action, with a PNG for every required requirement."""

    def run(
        data: dict[str, str], doc: str = "akta-kelahiran", *, whatsapp: str = "", files: bool = True
    ) -> DocumentRequest:
        document_type = DocumentType.objects.get(code=doc)
        uploads = []
        if files:
            for r in document_type.requirements.filter(required=True, upload=True):
                uploads.append(actions.Upload(r, clean_upload(png_upload(f"{r.code}.png"))))
        req, pin = actions.submit_request(
            setup["office"], document_type, data, uploads, whatsapp=whatsapp
        )
        req.test_pin = pin
        return req

    return run


def verified(user: User) -> User:
    """Mark ``user`` as having passed the second factor (as django-otp's middleware does)."""
    user.is_verified = lambda: True
    return user
