"""The compliance monitoring page (SOP evaluation, PermenPAN-RB 35/2012) and its exports.

Figures come from :mod:`sipadu.sop.monitoring`; charts are plain SVG bars drawn on the
server (offices have poor connectivity: no external chart library, no script needed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sipadu.core.models import Office
from sipadu.sop import monitoring
from sipadu.sop.work_views import available_definitions, require_office

#: Width (px) of the longest bar of a chart, and the height of one bar's line.
BAR_WIDTH = 240
LINE_HEIGHT = 22
#: Room (px) left of the bars for their labels.
LABEL_WIDTH = 110


class PeriodForm(forms.Form):
    """Which SOP and how many days back the done tasks are counted (backlog is always now)."""

    sop = forms.ChoiceField(label=_("SOP"), required=False)
    days = forms.TypedChoiceField(
        label=_("Periode"),
        coerce=int,
        required=False,
        empty_value=90,
        choices=[
            (30, _("30 hari terakhir")),
            (90, _("90 hari terakhir")),
            (365, _("1 tahun terakhir")),
            (0, _("Semua waktu")),
        ],
    )

    def __init__(self, *args: Any, codes: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sop"].choices = [("", _("Semua SOP")), *codes]


@dataclass(frozen=True)
class Bar:
    """One bar of an SVG chart: label, value, its drawn width and the standard's marker."""

    label: str
    value: float
    width: int
    marker: int | None
    late: bool
    y: int


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart ready for the SVG template."""

    bars: list[Bar]
    height: int
    width: int = LABEL_WIDTH + BAR_WIDTH + 70


def bars(items: list[tuple[str, float | None, float | None]]) -> Chart:
    """Scale (label, value, standard) triples to bar widths; the standard becomes a marker."""
    peak = max([v or 0 for _l, v, _s in items] + [s or 0 for _l, _v, s in items] + [1])
    scale = BAR_WIDTH / peak
    drawn = [
        Bar(
            label=label[:16],
            value=round(value or 0, 1),
            width=max(1, round(value * scale)) if value else 0,
            marker=LABEL_WIDTH + round(standard * scale) if standard else None,
            late=bool(value and standard and value > standard),
            y=index * LINE_HEIGHT,
        )
        for index, (label, value, standard) in enumerate(items)
    ]
    return Chart(drawn, max(LINE_HEIGHT, len(drawn) * LINE_HEIGHT))


def _filters(request: HttpRequest, office: Office) -> tuple[PeriodForm, str, dt.datetime | None]:
    codes = [(d.code, d.name) for d in available_definitions(office)]
    form = PeriodForm(request.GET or None, codes=codes)
    sop_code, days = "", 90
    if form.is_bound and form.is_valid():
        sop_code = form.cleaned_data["sop"] or ""
        days = form.cleaned_data["days"] if form.cleaned_data["days"] is not None else 90
    since = timezone.now() - dt.timedelta(days=days) if days else None
    return form, sop_code, since


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60


@login_required
def monitoring_page(request: HttpRequest) -> HttpResponse:
    """Per SOP and activity: done, median/p90 against the standard, share within, backlog."""
    office = require_office(request)
    form, sop_code, since = _filters(request, office)
    codes = {d.code for d in available_definitions(office)}
    stats = [
        s
        for s in monitoring.activity_stats(office=office, sop_code=sop_code or None, since=since)
        if s.sop_code in codes
    ]
    officers = monitoring.officer_workload(office, since=since)
    groups: dict[str, list[Any]] = {}
    for stat in stats:
        groups.setdefault(stat.sop_code, []).append(stat)
    sections = [
        {
            "code": code,
            "name": rows[0].sop_name,
            "rows": rows,
            "chart": bars(
                [
                    (
                        f"{r.number}",
                        _minutes(r.median_seconds),
                        _minutes(r.standard_seconds),
                    )
                    for r in rows
                ]
            ),
            "done": sum(r.done for r in rows),
            "backlog": sum(r.open_backlog for r in rows),
            "overdue": sum(r.overdue_open for r in rows),
        }
        for code, rows in groups.items()
    ]
    officer_chart = bars([(o.username, float(o.held), None) for o in officers[:15]])
    context = {
        "form": form,
        "sections": sections,
        "officers": officers,
        "officer_chart": officer_chart,
        "query": request.GET.urlencode(),
        "label_width": LABEL_WIDTH,
    }
    return render(request, "sop/work/monitoring.html", context)


@login_required
def monitoring_export(request: HttpRequest, table: str, fmt: str) -> HttpResponse:
    """The activity or officer table as CSV or Excel, with the page's filters."""
    office = require_office(request)
    _form, sop_code, since = _filters(request, office)
    rows: list[Any]
    if table == "kegiatan":
        codes = {d.code for d in available_definitions(office)}
        rows = [
            s
            for s in monitoring.activity_stats(
                office=office, sop_code=sop_code or None, since=since
            )
            if s.sop_code in codes
        ]
        columns = monitoring.ACTIVITY_COLUMNS
    elif table == "petugas":
        rows = list(monitoring.officer_workload(office, since=since))
        columns = monitoring.OFFICER_COLUMNS
    else:
        raise Http404
    stamp = timezone.localdate().isoformat()
    name = f"monitoring-{table}-{office.code}-{stamp}"
    if fmt == "csv":
        response = HttpResponse(
            monitoring.to_csv(rows, columns), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    if fmt == "xlsx":
        response = HttpResponse(
            monitoring.to_xlsx(rows, columns, title=f"Monitoring {table}"),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    raise Http404
