"""The official SOP-AP document (PermenPAN-RB 35/2012) of an SOP: HTML, SVG flowchart, PDF.

Use :func:`render_document` (``sipadu sop render`` calls it). The layout and drawing
modules are pure Python; only the PDF format needs WeasyPrint, imported when asked for.
"""

from __future__ import annotations

from sipadu.sop.engine.model import SOP
from sipadu.sop.render.document import body_html, document_css, standalone_html
from sipadu.sop.render.layout import ROWS_PER_PAGE, Layout, layout
from sipadu.sop.render.svg import document_svg

#: The formats :func:`render_document` produces.
FORMATS = ("html", "svg", "pdf")

__all__ = [
    "FORMATS",
    "Layout",
    "body_html",
    "document_css",
    "layout",
    "render_document",
    "render_pdf",
]


def render_pdf(html: str) -> bytes:
    """The PDF of a standalone document HTML (A4 landscape comes from its ``@page`` rule)."""
    # Imported here: WeasyPrint is slow to import and only this format needs it.
    from weasyprint import HTML

    pdf = HTML(string=html).write_pdf()
    assert pdf is not None  # write_pdf returns bytes when no target is given
    return bytes(pdf)


def render_document(sop: SOP, fmt: str, rows_per_page: int = ROWS_PER_PAGE) -> bytes:
    """The SOP-AP document of ``sop`` as ``fmt`` ("html", "svg" or "pdf"), encoded bytes.

    HTML is a complete UTF-8 page with inline CSS; SVG is the flowchart alone, page by
    page; PDF is the HTML printed on A4 landscape. Another format raises ValueError.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    lay = layout(sop, rows_per_page)
    if fmt == "svg":
        return document_svg(lay).encode("utf-8")
    html = standalone_html(lay)
    if fmt == "html":
        return html.encode("utf-8")
    return render_pdf(html)
