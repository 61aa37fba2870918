"""HTML of the SOP-AP document: identity page and procedure pages with the flowchart.

The headings are the regulation's own (NOMOR SOP, DASAR HUKUM, PELAKSANA, MUTU BAKU …):
an SOP-AP document is an Indonesian official form, so they are printed in Indonesian
whatever the interface language, exactly as on the paper the office signed.
"""

from __future__ import annotations

from functools import cache
from html import escape
from importlib import resources

from sipadu.sop.engine.model import SOP, Activity
from sipadu.sop.render.layout import (
    COL_ACTIVITY,
    COL_INPUTS,
    COL_NO,
    COL_OUTPUT,
    COL_REMARKS,
    COL_TIME,
    Layout,
    Page,
    RowKind,
)
from sipadu.sop.render.svg import row_svg

#: Rules that only make sense for the printed/standalone document.
PRINT_CSS = """
@page { size: A4 landscape; margin: 10mm;
  @bottom-right { content: "Halaman " counter(page) " dari " counter(pages);
    font-family: "DejaVu Sans", sans-serif; font-size: 8pt; color: #5b6776; } }
html, body { margin: 0; background: #fff; }
.sopdoc .sop-page + .sop-page { break-before: page; page-break-before: always; }
.sopdoc tr { break-inside: avoid; page-break-inside: avoid; }
@media screen { body { padding: 16px; background: #e9edf2; }
  .sopdoc .sop-page { padding: 12px; margin-bottom: 16px; box-shadow: 0 1px 4px #0003; }
  .sopdoc { width: 1064px; } }
"""

LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="56" height="64" viewBox="0 0 56 64" '
    'role="img" aria-label="Logo instansi"><path d="M4 4 H52 V34 C52 48 40 56 28 62 '
    'C16 56 4 48 4 34 Z" fill="none" stroke="#5b6776" stroke-width="2"/>'
    '<text x="28" y="36" text-anchor="middle" font-size="10" fill="#5b6776" '
    'font-family="DejaVu Sans, sans-serif">LOGO</text></svg>'
)


@cache
def document_css() -> str:
    """The stylesheet of the document (scoped to ``.sopdoc``), read once from the package."""
    return resources.files("sipadu.sop.render").joinpath("document.css").read_text("utf-8")


def _text(value: str) -> str:
    """Escaped text, or a dash where the SOP prints nothing (so empty cells read as such)."""
    return escape(value) if value.strip() else "-"


def _items(items: tuple[str, ...]) -> str:
    """A numbered list, a single line for one item, a dash for none."""
    if not items:
        return "-"
    if len(items) == 1:
        return escape(items[0])
    return "<ol>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ol>"


def identity_html(sop: SOP) -> str:
    """The identity page: unit and SOP data side by side, then the six labelled blocks."""
    ident = sop.identity
    sections = "".join(f"<div>{escape(s)}</div>" for s in ident.sections)
    unit = (
        f"{LOGO}<div>{escape(ident.agency.upper())}</div><div>{escape(ident.unit.upper())}</div>"
        + (f'<div class="sections">{sections}</div>' if sections else "")
    )
    approver = "-"
    if ident.approved_by is not None:
        ap = ident.approved_by
        lines = [f"<div>{escape(ap.position)}</div>"]
        if ap.place or ident.approved_on:
            lines.append(
                f"<div>{escape(', '.join(x for x in (ap.place, ident.approved_on) if x))}</div>"
            )
        lines.append('<div class="space"></div>')
        if ap.name:
            lines.append(f"<div><strong><u>{escape(ap.name)}</u></strong></div>")
        if ap.rank:
            lines.append(f"<div>{escape(ap.rank)}</div>")
        if ap.nip:
            lines.append(f"<div>NIP. {escape(ap.nip)}</div>")
        approver = "".join(lines)
    fields = [
        ("NOMOR SOP", _text(ident.number)),
        ("TANGGAL PEMBUATAN", _text(ident.created)),
        ("TANGGAL REVISI", _text(ident.revised)),
        ("TANGGAL EFEKTIF", _text(ident.effective)),
        ("DISAHKAN OLEH", f'<div class="approver">{approver}</div>'),
        ("NAMA SOP", f'<span class="sop-name">{escape(ident.name)}</span>'),
    ]
    rows = []
    for i, (label, value) in enumerate(fields):
        lead = f'<td class="unit" rowspan="{len(fields)}">{unit}</td>' if i == 0 else ""
        rows.append(f'<tr>{lead}<th scope="row">{label}</th><td class="value">{value}</td></tr>')
    blocks = [
        (
            ("Dasar Hukum", _items(ident.legal_basis)),
            ("Kualifikasi Pelaksana", _items(ident.qualifications)),
        ),
        (
            ("Keterkaitan", _items(ident.related)),
            ("Peralatan/Perlengkapan", _items(ident.equipment)),
        ),
        (("Peringatan", _text(ident.warning)), ("Pencatatan dan Pendataan", _items(ident.records))),
    ]
    block_rows = "".join(
        "<tr>" + "".join(f"<td><h3>{title}:</h3>{body}</td>" for title, body in pair) + "</tr>"
        for pair in blocks
    )
    notes = ""
    if ident.notes:
        notes = (
            '<ul class="sop-notes">'
            + "".join(f"<li>{escape(n)}</li>" for n in ident.notes)
            + "</ul>"
        )
    return (
        '<section class="sop-page sop-identity-page">'
        f'<table class="sop-identity">{"".join(rows)}</table>'
        f'<table class="sop-blocks">{block_rows}</table>{notes}</section>'
    )


def _colgroup(lay: Layout) -> str:
    widths: list[float] = [COL_NO, COL_ACTIVITY]
    widths += [lay.col_width] * len(lay.sop.executors)
    widths += [COL_INPUTS, COL_TIME, COL_OUTPUT, COL_REMARKS]
    return "<colgroup>" + "".join(f'<col style="width:{w:.2f}px">' for w in widths) + "</colgroup>"


def _thead(sop: SOP) -> str:
    executors = "".join(
        f'<th class="executor" scope="col">{escape(ex.label)}</th>' for ex in sop.executors
    )
    return (
        '<thead lang="id"><tr>'
        '<th rowspan="2" scope="col">NO</th><th rowspan="2" scope="col">KEGIATAN</th>'
        f'<th colspan="{len(sop.executors)}" scope="colgroup">PELAKSANA</th>'
        '<th colspan="3" scope="colgroup">MUTU BAKU</th>'
        '<th rowspan="2" scope="col">KETERANGAN</th></tr>'
        f"<tr>{executors}"
        '<th class="mutu" scope="col">KELENGKAPAN</th><th class="mutu" scope="col">WAKTU</th>'
        '<th class="mutu" scope="col">OUTPUT</th></tr></thead>'
    )


def _activity_cells(act: Activity) -> tuple[str, str]:
    """The cells left of the flowchart (No, Kegiatan) and right of it (Mutu Baku, Keterangan)."""
    remarks = act.remarks
    left = (
        f'<td class="no">{escape(act.number)}</td>'
        f'<td class="activity" data-activity="{escape(act.id)}">{escape(act.text)}</td>'
    )
    right = (
        f'<td class="mutu inputs">{_items(act.inputs)}</td>'
        f'<td class="mutu time">{_text(act.duration.text)}</td>'
        f'<td class="mutu output">{_text(act.output)}</td>'
        f'<td class="remarks">{escape(remarks)}</td>'
    )
    return left, right


def procedure_page_html(lay: Layout, page: Page) -> str:
    """One procedure page: header, rows at their computed heights, the flowchart overlay."""
    body = []
    for i, row in enumerate(page.rows):
        flow = f'<td class="flow" colspan="{len(lay.sop.executors)}">{row_svg(page, i)}</td>'
        if row.activity is not None:
            left, right = _activity_cells(row.activity)
            cls = "activity-row"
        else:
            left, right = '<td class="no"></td><td></td>', "<td></td>" * 4
            cls = "connectors " + ("top" if row.kind is RowKind.CONNECTORS_TOP else "bottom")
        body.append(f'<tr class="{cls}" style="height:{row.height:.0f}px">{left}{flow}{right}</tr>')
    return (
        f'<section class="sop-page sop-procedure-page" data-page="{page.number}">'
        f'<table class="sop-proc">{_colgroup(lay)}{_thead(lay.sop)}'
        f"<tbody>{''.join(body)}</tbody></table></section>"
    )


def body_html(lay: Layout) -> str:
    """The document without ``<html>``: a ``.sopdoc`` block to embed in any page."""
    pages = "".join(procedure_page_html(lay, page) for page in lay.pages)
    output = ""
    if lay.sop.output:
        output = f'<p class="sop-output"><strong>Output SOP:</strong> {escape(lay.sop.output)}</p>'
    return f'<div class="sopdoc">{identity_html(lay.sop)}{pages}{output}</div>'


def standalone_html(lay: Layout) -> str:
    """A complete UTF-8 HTML document with inline CSS, printable on A4 landscape."""
    return (
        '<!DOCTYPE html>\n<html lang="id"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>SOP {escape(lay.sop.identity.name)}</title>"
        f"<style>{document_css()}{PRINT_CSS}</style></head>"
        f"<body>{body_html(lay)}</body></html>\n"
    )
