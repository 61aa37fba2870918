"""Rendering and TTE signing of issued documents: the signer installed into ``documents``.

At SOP step 6 (``tte``) :func:`sipadu.layanan.documents.issue` calls :func:`sign_issued`
(registered with :func:`~sipadu.layanan.documents.set_pdf_signer` when this module is
imported from ``LayananConfig.ready``). It renders the document's template
(``layanan/documents/<type code>.html``, WeasyPrint, A4, DejaVu fonts, no remote assets) from
:func:`~sipadu.layanan.documents.document_data` and signs it PAdES with the issuing office's
Kepala Dinas key through the configured signing provider (B-B; B-T when ``SIPADU_TSA_URL`` is
set). Any failure raises :class:`~sipadu.signing.error_codes.SigningError`, whose message the
step handler shows to the officer while the step rolls back.

The documents themselves are Indonesian legal documents: their text is Indonesian whatever
language the officer's screen is in (the templates are rendered under ``id``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

from sipadu.core.models import Membership, Office
from sipadu.layanan import documents
from sipadu.layanan import fields as field_catalogue
from sipadu.layanan.models import IssuedDocument
from sipadu.signing import config as signing_config
from sipadu.signing.ca import signer_key_id
from sipadu.signing.error_codes import SigningError, SigningErrorCode
from sipadu.signing.pdf import html_to_pdf, qr_png_data_uri, stylesheet
from sipadu.signing.providers import SignerRef, get_provider, provider_class

log = logging.getLogger(__name__)

#: The role whose holder signs (TTE) and whose key signs the office's documents.
KEPALA_DINAS = "kepala-dinas"

#: Document types with a PDF layout (cards, KTP-el and KIA, are printed on blanks instead).
TEMPLATES = {
    "kk": "layanan/documents/kk.html",
    "akta-kelahiran": "layanan/documents/akta-kelahiran.html",
    "akta-kematian": "layanan/documents/akta-kematian.html",
    "akta-perkawinan": "layanan/documents/akta-perkawinan.html",
    "akta-perceraian": "layanan/documents/akta-perceraian.html",
    "pengakuan-anak": "layanan/documents/pengakuan-anak.html",
    "pengesahan-anak": "layanan/documents/pengesahan-anak.html",
}

#: The stylesheets of the layouts (``templates/layanan/documents/*.css``), parsed once per
#: process: the templates carry no ``<style>`` of their own. Every layout uses
#: ``document.css``; a type listed here adds its own sheet after it.
STYLE_DIR = Path(__file__).resolve().parent / "templates" / "layanan" / "documents"
EXTRA_STYLES = {"kk": "kk.css"}

#: Titles printed on the documents.
TITLES = {
    "kk": "KARTU KELUARGA",
    "akta-kelahiran": "KUTIPAN AKTA KELAHIRAN",
    "akta-kematian": "KUTIPAN AKTA KEMATIAN",
    "akta-perkawinan": "KUTIPAN AKTA PERKAWINAN",
    "akta-perceraian": "KUTIPAN AKTA PERCERAIAN",
    "pengakuan-anak": "KUTIPAN AKTA PENGAKUAN ANAK",
    "pengesahan-anak": "KUTIPAN AKTA PENGESAHAN ANAK",
}

#: The data table of each kutipan: (field code, label printed on the document).
TABLE_FIELDS: dict[str, list[tuple[str, str]]] = {
    "akta-kelahiran": [
        ("full_name", "Nama"),
        ("nik", "NIK"),
        ("sex", "Jenis kelamin"),
        ("no_kk", "Nomor KK"),
    ],
    "akta-kematian": [
        ("full_name", "Nama"),
        ("nik", "NIK"),
        ("no_kk", "Nomor KK"),
        ("death_cause", "Sebab kematian"),
    ],
    "akta-perkawinan": [
        ("full_name", "Nama"),
        ("nik", "NIK"),
        ("spouse_name", "dengan"),
        ("spouse_nik", "NIK"),
    ],
    "akta-perceraian": [
        ("full_name", "Nama"),
        ("nik", "NIK"),
        ("spouse_name", "dengan"),
        ("spouse_nik", "NIK"),
    ],
    "pengakuan-anak": [
        ("full_name", "Nama"),
        ("nik", "NIK"),
        ("birth_date", "Tanggal lahir"),
        ("no_kk", "Nomor KK"),
    ],
    "pengesahan-anak": [
        ("full_name", "Nama"),
        ("nik", "NIK"),
        ("birth_date", "Tanggal lahir"),
        ("no_kk", "Nomor KK"),
    ],
}

MONTHS = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip

_SEX = {"L": "LAKI-LAKI", "P": "PEREMPUAN"}
_NAME_FIELDS = {"full_name", "spouse_name", "father_name", "mother_name", "applicant_name"}
_RELATION_ORDER = {"Kepala keluarga": 0, "Suami": 1, "Istri": 2, "Anak": 3}


def indonesian_date(value: Any) -> str:
    """``2024-03-09`` (text or date) → ``09 Maret 2024``; "" when it is not a date."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value))
        except ValueError:
            return str(value or "")
    return f"{value.day:02d} {MONTHS[value.month - 1]} {value.year}"


def place_of(office: Office) -> str:
    """Where the office signs: its kabupaten/kota name without the prefix (``Balangan``)."""
    name = office.region.name if office.region_id else office.name
    for prefix in ("Kabupaten ", "Kota ", "Provinsi ", "KABUPATEN ", "KOTA ", "PROVINSI "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def government_of(office: Office) -> str:
    """The first letterhead line, e.g. ``PEMERINTAH KABUPATEN BALANGAN``."""
    return f"PEMERINTAH {office.region.name.upper()}" if office.region_id else ""


def signer_title(office: Office) -> str:
    """The signer's position as printed under the signature."""
    region = office.region.name if office.region_id else ""
    return f"Kepala Dinas Kependudukan dan Pencatatan Sipil {region}".strip()


def kepala_dinas_name(office: Office, user: Any = None) -> str:
    """The name printed under the signature: the signing user when he is the office's Kepala
    Dinas, otherwise the office's (first active) Kepala Dinas; "" when none is known."""
    holders = Membership.objects.filter(office=office, role__code=KEPALA_DINAS, active=True)
    if getattr(user, "pk", None) and holders.filter(user_id=user.pk).exists():
        return str(user.get_full_name() or user.get_username())
    first = holders.select_related("user").order_by("since", "id").first()
    if first is None:
        return ""
    return str(first.user.get_full_name() or first.user.get_username())


def _value(code: str, value: Any) -> str:
    """A drafted value as printed on the document (names upper-cased, dates spelled out)."""
    text = str(value or "").strip()
    if not text:
        return ""
    spec = field_catalogue.FIELDS.get(code)
    if spec is not None and spec.kind == "date":
        return indonesian_date(text)
    if code == "sex":
        return _SEX.get(text, text)
    if code in _NAME_FIELDS:
        return text.upper()
    return field_catalogue.display(code, text)


def _family(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The KK member table: head of family first, spouse, then children by birth date."""
    out = []
    for row in rows:
        member = dict(row)
        member["birth_date_text"] = indonesian_date(row.get("birth_date"))
        out.append(member)
    out.sort(
        key=lambda m: (
            _RELATION_ORDER.get(str(m.get("relationship", "")), 9),
            str(m.get("birth_date") or ""),
        )
    )
    return out


def _kk_header(
    issued: IssuedDocument | None, data: dict[str, Any], office: Office
) -> dict[str, str]:
    """Number, head of family and address lines of a KK (from the registry when linked;
    else the office's kabupaten/kota and province)."""
    draft = data.get("data") or {}
    header = {"no_kk": str(draft.get("no_kk") or "")}
    if office.region_id:
        header["kabupaten"] = office.region.name.upper()
        if office.region.parent_id:
            header["provinsi"] = office.region.parent.name.upper()
    person = issued.request.penduduk if issued is not None else None
    keluarga = getattr(person, "keluarga", None) if person is not None else None
    if keluarga is not None:
        header["no_kk"] = keluarga.no_kk
        header["street"] = keluarga.street
        header["rt"] = keluarga.rt
        header["rw"] = keluarga.rw
        if keluarga.kepala_id:
            header["kepala"] = keluarga.kepala.full_name
        region = keluarga.desa
        names = []
        while region is not None:
            names.append(region.name)
            region = region.parent
        # desa, kecamatan, kabupaten/kota, provinsi (from the bottom of the region tree up).
        for key, name in zip(("desa", "kecamatan", "kabupaten", "provinsi"), names, strict=False):
            header[key] = name.upper()
    if not header.get("kepala"):
        heads = [m for m in data.get("family") or [] if m.get("relationship") == "Kepala keluarga"]
        header["kepala"] = str(heads[0]["full_name"]) if heads else ""
    return header


def template_context(
    data: dict[str, Any],
    *,
    office: Office,
    signer_name: str = "",
    issued: IssuedDocument | None = None,
) -> dict[str, Any]:
    """The context of a document template, from :func:`documents.document_data`."""
    code = data["type_code"]
    draft = data.get("data") or {}
    shown = {k: _value(k, v) for k, v in draft.items()}
    for key in ("birth_date", "death_date", "marriage_date", "court_decision_date"):
        shown[f"{key}_text"] = indonesian_date(draft.get(key, "")) if draft.get(key) else ""
    shown["sex_child"] = {"L": "laki-laki", "P": "perempuan"}.get(str(draft.get("sex", "")), "")
    url = data.get("verification_url") or ""
    return {
        "type_code": code,
        "title": TITLES.get(code, str(data.get("type_name", "")).upper()),
        "number": data.get("number", ""),
        "issue_date_text": indonesian_date(data.get("issue_date")),
        "government": government_of(office),
        "office_address": office.address,
        "place": place_of(office),
        "signer_name": signer_name,
        "signer_title": signer_title(office),
        "verification_url": url,
        # One pixel per module: the stylesheet scales it up without smoothing.
        "qr": qr_png_data_uri(url, scale=1) if url else "",
        "d": shown,
        "rows": [(label, shown.get(field, "")) for field, label in TABLE_FIELDS.get(code, [])],
        "family": _family(data.get("family") or []),
        "kk": _kk_header(issued, data, office) if code == "kk" else {},
    }


def render_html(
    data: dict[str, Any],
    *,
    office: Office,
    signer_name: str = "",
    issued: IssuedDocument | None = None,
) -> str:
    """The HTML of a document (always Indonesian)."""
    code = data["type_code"]
    if code not in TEMPLATES:
        raise SigningError(SigningErrorCode.SIGNING_FAILED, f"no template for {code}")
    with translation.override("id"):  # documents are Indonesian whatever the officer's screen
        context = template_context(data, office=office, signer_name=signer_name, issued=issued)
        return render_to_string(TEMPLATES[code], context)


def stylesheets(code: str) -> list[Any]:
    """The parsed stylesheets of a layout, in the order they apply."""
    names = ["document.css"]
    if code in EXTRA_STYLES:
        names.append(EXTRA_STYLES[code])
    return [stylesheet(STYLE_DIR / name) for name in names]


def render_pdf(
    data: dict[str, Any],
    *,
    office: Office,
    signer_name: str = "",
    issued: IssuedDocument | None = None,
) -> bytes:
    """The unsigned PDF of a document."""
    html = render_html(data, office=office, signer_name=signer_name, issued=issued)
    try:
        return html_to_pdf(html, stylesheets=stylesheets(data["type_code"]), lean=True)
    except Exception as exc:  # a layout failure must reach the officer as a message
        log.exception("rendering %s failed", data.get("type_code"))
        raise SigningError(SigningErrorCode.SIGNING_FAILED, type(exc).__name__) from exc


@dataclass(frozen=True)
class SigningSession:
    """What the Kepala Dinas typed for one signing session (one request, single or bulk).

    Lives only in memory for the duration of the request: never stored, never logged (not in
    ``repr``), never in audit data.
    """

    passphrase: str = field(default="", repr=False)


_session: ContextVar[SigningSession | None] = ContextVar("sipadu_signing_session", default=None)


@contextmanager
def signing_session(passphrase: str = "") -> Iterator[SigningSession]:
    """Sign within this block with the passphrase the signer typed (remote provider).

    :func:`sign_issued`, called by the ``tte`` step handler deep inside the SOP completion,
    picks it up from here; nothing in between needs to carry it.
    """
    session = SigningSession(passphrase=passphrase)
    token = _session.set(session)
    try:
        yield session
    finally:
        _session.reset(token)


def needs_passphrase() -> bool:
    """True when the configured signing provider asks the signer's passphrase per session
    (the remote BSrE-style service); the local PKCS#12 provider does not."""
    try:
        return bool(provider_class(signing_config.provider_name()).asks_passphrase)
    except SigningError:
        return False


def signer_ref(office: Office) -> SignerRef:
    """The key the office's documents are signed with (its Kepala Dinas's).

    For the remote provider: the Kepala Dinas's NIK at the service
    (``SIPADU_SIGNING_REMOTE_NIK_<KEY_ID>``) and the passphrase of the current
    :func:`signing_session`.
    """
    key_id = signer_key_id(office.code)
    session = _session.get()
    return SignerRef(
        key_id=key_id,
        nik=signing_config.remote_nik(key_id),
        passphrase=session.passphrase if session is not None else "",
        display_name=signer_title(office),
    )


def sign_pdf(pdf: bytes, *, office: Office, data: dict[str, Any]) -> bytes:
    """Sign ``pdf`` (PAdES) with the office's Kepala Dinas key through the provider."""
    return get_provider().sign(
        pdf,
        signer=signer_ref(office),
        reason=f"{data.get('type_name', '')} No. {data.get('number', '')}".strip(),
        location=place_of(office),
    )


def sign_issued(issued: IssuedDocument, data: dict[str, Any], signer_user: Any) -> bytes:
    """The signer of :func:`documents.issue`: render the document, sign it, return the PDF."""
    office = issued.office
    pdf = render_pdf(
        data,
        office=office,
        signer_name=kepala_dinas_name(office, signer_user),
        issued=issued,
    )
    return sign_pdf(pdf, office=office, data=data)


documents.set_pdf_signer(sign_issued)
