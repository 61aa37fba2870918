"""Demo step "layanan Dik Jamila": portal requests in Kab. Balangan waiting at every step.

Residents come from the synthetic registry (demo step "registry"); files are generated
"scans" (a labelled picture). Every move goes through the actions, so timelines, audit,
notices and registry updates are real. The Kepala Dinas's second factor is taken as passed
for the demo signatures (the only shortcut, marked below). Idempotent: an office that already
has requests is left alone. Prints a few tracking numbers with their PINs so the status page
can be tried.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from sipadu.core import demo
from sipadu.core.models import Office, User
from sipadu.core.services import users_with_role
from sipadu.layanan import actions, documents
from sipadu.layanan.catalogue import sync_catalogue
from sipadu.layanan.models import DocumentRequest, DocumentType
from sipadu.layanan.uploads import clean_upload
from sipadu.registry.coverage import years_before
from sipadu.registry.models import Penduduk
from sipadu.registry.search import scoped
from sipadu.sop import actions as sop
from sipadu.sop.definitions_sync import sync_definitions
from sipadu.sop.error_codes import WorkflowError

OFFICE_CODE = "balangan"

#: (document type, the step the request is left at). "waiting" = files asked from the citizen.
PLAN: list[tuple[str, str]] = [
    ("akta-kelahiran", "kelengkapan"),
    ("kia", "waiting"),
    ("ktp-el", "kesesuaian-siak"),
    ("akta-kelahiran", "entri-siak"),
    ("kk", "periksa-draft"),
    ("kia", "verifikasi"),
    ("akta-kelahiran", "tte"),
    ("ktp-el", "cetak"),
    ("akta-kelahiran", "serah"),
    ("kia", "done"),
    ("akta-kelahiran", "done"),
    ("kk", "done"),
    ("kk", "kesesuaian-siak-mismatch"),
    # One issued document of every other layout, so each template can be seen signed.
    ("akta-kematian", "done"),
    ("akta-perkawinan", "done"),
    ("akta-perceraian", "done"),
    ("pengakuan-anak", "done"),
    ("pengesahan-anak", "done"),
]

ORDER = [
    "kelengkapan",
    "kesesuaian-siak",
    "entri-siak",
    "periksa-draft",
    "verifikasi",
    "tte",
    "cetak",
    "serah",
    "done",
]


def scan(label: str) -> SimpleUploadedFile:
    """A generated picture standing in for a phone photo of a document."""
    image = Image.new("RGB", (640, 420), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 630, 410), outline="navy", width=4)
    draw.text((30, 40), "CONTOH BERKAS (DEMO)", fill="navy")
    draw.text((30, 80), label[:70], fill="black")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return SimpleUploadedFile(f"{label[:20]}.png", out.getvalue(), content_type="image/png")


def age_window(today: dt.date, low: int, high: int) -> tuple[dt.date, dt.date]:
    """Birth dates of people aged ``low`` to ``high`` years on ``today``: born after the first
    date and on or before the second (29 February counts back to 28 February)."""
    return years_before(today, high + 1), years_before(today, low)


def pick_residents(
    office: Office, code: str, count: int, *, today: dt.date | None = None
) -> list[Penduduk]:
    """Residents suited to a document type (deterministic: by NIK)."""
    today = today or dt.date.today()
    people = scoped(office).filter(is_alive=True, keluarga__isnull=False)
    if code == "akta-kelahiran":
        start, end = age_window(today, 0, 4)
        chosen = people.filter(birth_date__gt=start, birth_date__lte=end, akta_kelahiran_no="")
    elif code == "kia":
        start, end = age_window(today, 5, 15)
        chosen = people.filter(birth_date__gt=start, birth_date__lte=end, kia=False)
    elif code in ("pengakuan-anak", "pengesahan-anak"):
        start, end = age_window(today, 0, 10)
        chosen = people.filter(birth_date__gt=start, birth_date__lte=end, relationship="anak")
    elif code == "akta-kematian":
        chosen = people.filter(birth_date__lte=years_before(today, 75))
    elif code in ("akta-perkawinan", "akta-perceraian"):
        chosen = people.filter(
            relationship="kepala",
            keluarga__members__relationship="istri",
            akta_perkawinan_no="",
        ).distinct()
    elif code == "ktp-el":
        chosen = people.filter(
            birth_date__lte=years_before(today, 17),
            ktp_el_recorded=True,
            ktp_el_printed=False,
        )
    else:
        chosen = people.filter(relationship="kepala")
    found = list(chosen.order_by("nik")[:count])
    if len(found) < count:
        found += list(
            people.exclude(pk__in=[p.pk for p in found]).order_by("nik")[: count - len(found)]
        )
    return found


def _event_data(person: Penduduk) -> dict[str, str]:
    """Plausible data of the event a document records (a death, a marriage, a court
    decision...) for fields the registry does not hold."""
    today = dt.date.today()
    members = Penduduk.objects.filter(keluarga_id=person.keluarga_id).exclude(pk=person.pk)
    spouse = members.filter(relationship__in=("istri", "suami")).order_by("nik").first()
    head = members.filter(relationship="kepala").first()
    return {
        "ktp_reason": "rusak",
        "kk_reason": "perubahan",
        "applicant_name": (head.full_name if head else person.father_name) or "Pelapor",
        "death_date": (today - dt.timedelta(days=3)).isoformat(),
        "death_place": "RSUD Balangan",
        "death_cause": "Sakit",
        "reporter_relation": "Anak",
        "spouse_nik": spouse.nik if spouse else "",
        "spouse_name": spouse.full_name if spouse else "",
        "marriage_date": (today - dt.timedelta(days=20)).isoformat(),
        "marriage_place": "Paringin",
        "religious_leader": "Pdt. Yohanes",
        "court_decision_no": "123/Pdt.G/2026/PA.Prn",
        "court_decision_date": (today - dt.timedelta(days=30)).isoformat(),
        "marriage_cert_no": "6311-KW-01022015-0003",
        "father_nik": head.nik if head else "",
    }


def claim_data(person: Penduduk, document_type: DocumentType, *, mismatch: bool) -> dict[str, str]:
    """Applicant data agreeing with the registry (or not, for the mismatch scenario)."""
    known = documents.registry_values(person)
    extra = _event_data(person)
    data: dict[str, str] = {}
    for entry in document_type.fields:
        code = entry.rstrip("?")
        value = known.get(code) or extra.get(code) or ""
        if value:
            data[code] = value
    if mismatch and "full_name" in data:
        data["full_name"] = data["full_name"] + " Saputra"
    return data


def _person(office: Office, role: str) -> User | None:
    people = sorted(users_with_role(office, role), key=lambda u: u.username)
    return people[0] if people else None


def _step(staff: dict[str, User | None], req: DocumentRequest, until: str) -> None:
    """Move the request's case forward, step by step, until it waits at ``until``."""
    assert req.case is not None
    if until == "waiting":
        task = req.case.live_tasks().get()
        operator = staff["operator-layanan"]
        sop.claim(operator, task)
        missing = req.document_type.requirements.filter(required=True).first()
        actions.request_missing(
            operator, req, [missing.code] if missing else [], "Foto berkas kurang jelas."
        )
        return
    target = "kesesuaian-siak" if until == "kesesuaian-siak-mismatch" else until
    for _i in range(12):
        req.case.refresh_from_db()
        live = req.case.live_tasks().first()
        if live is None or live.activity_id == target:
            return
        user = staff.get(live.role_code)
        if user is None:
            return
        sop.claim(user, live)
        activity = req.case.sop.activity(live.activity_id)
        if live.activity_id == "kelengkapan":
            actions.save_checklist(
                user,
                req,
                req.document_type.requirements.filter(required=True).values_list("code", flat=True),
            )
        if live.activity_id == "entri-siak":
            req.refresh_from_db()
            if "birth_place" in (req.draft or {}):
                actions.save_draft(user, req, {"birth_place": req.draft["birth_place"].title()})
        if live.activity_id == "tte":
            # Demo only: the Kepala Dinas's second factor is taken as passed.
            user.is_verified = lambda: True
        if live.activity_id == "serah":
            actions.record_handover(user, req, "softcopy")
        if activity.is_decision:
            sop.decide(user, live, True)
        else:
            sop.complete(user, live, output=activity.output)


@demo.register("layanan Dik Jamila", order=50)
def load(progress: Callable[[str], None]) -> list[str]:
    """Requests of several document types waiting at every step in Kab. Balangan."""
    sync_definitions()
    sync_catalogue()
    office = Office.objects.filter(code=OFFICE_CODE).first()
    if office is None:
        return []
    if DocumentRequest.objects.filter(office=office).exists():
        return []
    roles = [
        "operator-layanan",
        "operator-siak",
        "kasi-pelayanan",
        "kabid-pelayanan",
        "kepala-dinas",
    ]
    staff: dict[str, User | None] = {r: _person(office, r) for r in roles}
    if not all(staff.values()):
        return ["Layanan Dik Jamila: petugas demo Balangan belum ada (jalankan langkah kantor)."]
    lines = ["Permohonan demo Dik Jamila Me-WA (nomor / PIN / posisi):"]
    used: set[Any] = set()
    for code, until in PLAN:
        document_type = DocumentType.objects.get(code=code)
        candidates = [p for p in pick_residents(office, code, 20) if p.pk not in used]
        if not candidates:
            continue
        person = candidates[0]
        used.add(person.pk)
        uploads = [
            actions.Upload(r, clean_upload(scan(r.text)))
            for r in document_type.requirements.filter(required=True, upload=True)
        ]
        data = claim_data(person, document_type, mismatch=until.endswith("mismatch"))
        req, pin = actions.submit_request(office, document_type, data, uploads)
        try:
            _step(staff, req, until)
        except (WorkflowError, actions.LayananError) as refused:
            progress(f"{req.tracking_number}: berhenti ({refused})")
        req.refresh_from_db()
        status = req.get_status_display()
        lines.append(f"  {req.tracking_number} / {pin} — {document_type.name}: {status} ({until})")
        progress(f"{req.tracking_number} {code} → {until}")
    return lines
