"""Registry pages: search, resident detail, import with progress, coverage.

Searches are POSTed so that NIKs and names never appear in a URL; residents are addressed by
UUID; every page is scoped to the officer's office region (404 outside it).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from sipadu.audit.services import record_event
from sipadu.wilayah.models import Region
from sipadu.wilayah.services import normalise_code
from sipadu.wilayah.services import search as region_search

from . import coverage
from .actions import RegistryError, start_import
from .importers import progress_key
from .models import ImportRun, Penduduk
from .search import Query, scope_of, scoped, search

View = Callable[..., HttpResponse]


def officer_required(view: View) -> View:
    """Logged in and working for an office (the office defines what may be seen)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request, "office", None) is None:
            raise PermissionDenied(_("Akun Anda belum ditugaskan ke kantor mana pun."))
        return view(request, *args, **kwargs)

    return wrapped


class SearchForm(forms.Form):
    """NIK, KK number or name; birth date; desa (name or code)."""

    q = forms.CharField(
        label=gettext_lazy("NIK, nomor KK atau nama"), required=False, max_length=150
    )
    birth_date = forms.DateField(
        label=gettext_lazy("Tanggal lahir"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    desa = forms.CharField(label=gettext_lazy("Desa/kelurahan"), required=False, max_length=80)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("q", "").strip() or data.get("birth_date") or data.get("desa")):
            raise forms.ValidationError(_("Isi paling sedikit satu kolom pencarian."))
        return data


def _desa_codes(text: str, office: Any) -> tuple[str, ...]:
    """Desa codes for a typed code or name, within the office region."""
    scope = scope_of(office) or ""
    raw = text.strip()
    if raw.replace(".", "").isdigit():
        code = normalise_code(raw)
        return (code,) if code == scope or code.startswith(scope + ".") else ("-",)
    found = region_search(raw, within=scope, limit=20)
    return tuple(r.code for r in found if r.level >= Region.Level.KECAMATAN) or ("-",)


def _export(rows: list[Penduduk]) -> HttpResponse:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Penduduk"))
    sheet.append(
        [
            _("NIK"),
            _("Nomor KK"),
            _("Nama"),
            _("Jenis kelamin"),
            _("Tanggal lahir"),
            _("Desa/kelurahan"),
            _("Status"),
        ]
    )
    for p in rows:
        sheet.append(
            [
                p.nik,
                p.keluarga_id or "",
                p.full_name,
                p.get_sex_display(),
                p.birth_date,
                p.desa.name,
                _("Hidup") if p.is_alive else _("Meninggal"),
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename="penduduk.xlsx")


@officer_required
@require_http_methods(["GET", "POST"])
def search_view(request: HttpRequest) -> HttpResponse:
    """Search form; results are shown in the POST response (nothing personal in the URL)."""
    office = request.office
    results: list[Penduduk] | None = None
    form = SearchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        codes = _desa_codes(data["desa"], office) if data.get("desa") else ()
        results = search(office, Query(data["q"], data.get("birth_date"), codes))
        record_event(
            request.user,
            "registry.penduduk.search",
            None,
            office=office,
            request=request,
            object_type="registry.penduduk",
            data={"results": len(results), "export": "export" in request.POST},
        )
        if "export" in request.POST:
            return _export(results)
    return render(request, "registry/search.html", {"form": form, "results": results})


@officer_required
def detail_view(request: HttpRequest, pk: Any) -> HttpResponse:
    """A resident's record; reading it is audited."""
    office = request.office
    person = get_object_or_404(scoped(office).select_related("desa", "keluarga"), pk=pk)
    record_event(request.user, "registry.penduduk.view", person, office=office, request=request)
    members = []
    if person.keluarga_id:
        members = list(
            Penduduk.objects.filter(keluarga_id=person.keluarga_id).order_by("birth_date")
        )
    return render(
        request,
        "registry/detail.html",
        {
            "p": person,
            "members": members,
            "region_path": person.desa.ancestors(),
            "changes": person.changes.select_related("actor")[:50],
        },
    )


class UploadForm(forms.Form):
    """An export file and whether to keep the good rows when some are rejected."""

    file = forms.FileField(label=gettext_lazy("Berkas CSV atau XLSX"))
    partial = forms.BooleanField(
        label=gettext_lazy("Simpan baris yang benar saja (baris yang salah dilaporkan)"),
        required=False,
    )


@officer_required
@require_http_methods(["GET", "POST"])
def import_view(request: HttpRequest) -> HttpResponse:
    """Upload form and the office's recent imports."""
    office = request.office
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = start_import(
                request.user,
                form.cleaned_data["file"],
                office=office,
                partial=form.cleaned_data["partial"],
                request=request,
            )
        except RegistryError as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("registry:import_detail", pk=run.pk)
    runs = ImportRun.objects.filter(office=office)[:20]
    return render(
        request,
        "registry/import.html",
        {"form": form, "runs": runs},
        status=400 if form.errors else 200,
    )


def _run_of(request: HttpRequest, pk: Any) -> ImportRun:
    return get_object_or_404(ImportRun, pk=pk, office=request.office)


def _progress_context(run: ImportRun) -> dict[str, Any]:
    from django.core.cache import cache

    live = cache.get(progress_key(run.pk)) or {}
    finished = run.status in {
        ImportRun.Status.DONE,
        ImportRun.Status.REJECTED,
        ImportRun.Status.FAILED,
    }
    fraction = 1.0 if finished else float(live.get("fraction", 0.0))
    return {
        "run": run,
        "finished": finished,
        "percent": round(fraction * 100),
        "rows": run.rows_total if finished else live.get("rows", 0),
    }


@officer_required
def import_detail_view(request: HttpRequest, pk: Any) -> HttpResponse:
    """One import: progress while it runs, then its outcome."""
    return render(request, "registry/import_detail.html", _progress_context(_run_of(request, pk)))


@officer_required
def import_progress_view(request: HttpRequest, pk: Any) -> HttpResponse:
    """The progress fragment polled by htmx every second."""
    return render(
        request, "registry/_import_progress.html", _progress_context(_run_of(request, pk))
    )


@officer_required
def import_errors_view(request: HttpRequest, pk: Any) -> HttpResponse:
    """Download the rejected rows (line, column, reason)."""
    run = _run_of(request, pk)
    if not run.error_file:
        raise Http404
    record_event(
        request.user, "registry.import.errors_download", run, office=run.office, request=request
    )
    return FileResponse(
        run.error_file.open("rb"),
        as_attachment=True,
        filename=f"impor-{run.created_at:%Y%m%d-%H%M}-ditolak.csv",
    )


def _month(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()
    except ValueError as exc:
        raise Http404 from exc


@officer_required
def coverage_view(request: HttpRequest, code: str | None = None) -> HttpResponse:
    """Coverage of a region and of each child region (live, or a past month)."""
    office = request.office
    scope = scope_of(office) or ""
    code = normalise_code(code) if code else scope
    if code != scope and not code.startswith(scope + "."):
        raise Http404
    region = get_object_or_404(Region, code=code)
    month = _month(request.GET.get("bulan"))
    own = coverage.region_figures(code, month)
    children = coverage.children_figures(code, month)
    names = dict(Region.objects.filter(code__in=children).values_list("code", "name"))
    rows = [
        (child, names.get(child, child), figures) for child, figures in sorted(children.items())
    ]
    if request.GET.get("format") == "xlsx":
        return _coverage_export(region, own, rows)
    return render(
        request,
        "registry/coverage.html",
        {
            "region": region,
            "own": own,
            "rows": rows,
            "indicators": coverage.INDICATORS,
            "month": month,
            "months": coverage.months_available(),
            "reference_date": coverage.reference_date(),
            "ancestors": region.ancestors() if code != scope else [],
            "can_go_up": code != scope,
            "drill": region.level < 3,  # kecamatan pages link to their desa,
        },
    )


def _coverage_export(
    region: Region,
    own: dict[str, coverage.Figure],
    rows: list[tuple[str, str, dict[str, coverage.Figure]]],
) -> HttpResponse:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Cakupan"))
    header = [_("Kode"), _("Wilayah")]
    for ind in coverage.INDICATORS:
        header += [
            f"{ind.label} — {_('pembilang')}",
            f"{ind.label} — {_('penyebut')}",
            f"{ind.label} — %",
        ]
    sheet.append(header)
    for code, name, figures in [(region.code, region.name, own), *rows]:
        line: list[Any] = [code, name]
        for ind in coverage.INDICATORS:
            f = figures[ind.code]
            line += [f.numerator, f.denominator, f.percent]
        sheet.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=f"cakupan-{region.code}.xlsx")
