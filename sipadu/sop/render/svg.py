"""SVG drawing of the SOP-AP flowchart: one inline SVG per procedure page, or a whole document.

Only the symbols of PermenPAN-RB 35/2012 are used: a capsule (terminator) for the first
and last activities, a rectangle for an activity, a diamond for a decision, a pentagon
for an off-page connector, and arrows. Arrowheads are plain paths (no ``<marker>``, no
ids) so that several SVGs can sit in one HTML document and every renderer draws them.
"""

from __future__ import annotations

from html import escape

from sipadu.sop.render.layout import (
    COL_NO,
    EXECUTOR_AREA,
    HEAD_FONT_PX,
    HEAD_LINE_PX,
    Arrow,
    Layout,
    Node,
    Page,
    Shape,
    wrap,
)

STROKE = "#1d2733"
GRID = "#c9d0d9"
RETURN = "#7a3b00"
FONT = "DejaVu Sans, Verdana, sans-serif"
ARROW_LEN = 7.0
ARROW_HALF = 3.5


def _n(value: float) -> str:
    """A coordinate without needless decimals."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _box(x: float, y: float, width: float, height: float) -> str:
    """A rectangle as path data: frames use paths so that ``<rect`` counts only symbols."""
    return f"M{_n(x)} {_n(y)} h{_n(width)} v{_n(height)} h{_n(-width)} Z"


def _points(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{_n(x)},{_n(y)}" for x, y in points)


def symbol(node: Node) -> str:
    """The SVG of one symbol, with a ``<title>`` naming its activity for screen readers."""
    x, y, hw, hh = node.cx, node.cy, node.half_w, node.half_h
    act = node.activity
    title = f"<title>{escape(act.number)}. {escape(act.text)}</title>" if act else ""
    data = f' data-activity="{escape(act.id)}"' if act else ""
    style = f'fill="#fff" stroke="{STROKE}" stroke-width="1.3"'
    if node.shape is Shape.DECISION:
        pts = [(x, y - hh), (x + hw, y), (x, y + hh), (x - hw, y)]
        body = f'<polygon class="sym sym-decision" points="{_points(pts)}" {style}/>'
    elif node.shape is Shape.CONNECTOR:
        # "Home plate" pointing down: the off-page connector of the regulation.
        tip = hh * 0.45
        pts = [
            (x - hw, y - hh),
            (x + hw, y - hh),
            (x + hw, y + tip),
            (x, y + hh),
            (x - hw, y + tip),
        ]
        body = (
            f'<polygon class="sym sym-connector" points="{_points(pts)}" {style}/>'
            f'<text x="{_n(x)}" y="{_n(y + 2)}" text-anchor="middle" font-size="10" '
            f'font-weight="bold" font-family="{FONT}" fill="{STROKE}">{escape(node.label)}</text>'
        )
    else:
        radius = hh if node.shape is Shape.TERMINATOR else 0
        kind = "sym-terminator" if node.shape is Shape.TERMINATOR else "sym-activity"
        body = (
            f'<rect class="sym {kind}" x="{_n(x - hw)}" y="{_n(y - hh)}" width="{_n(2 * hw)}" '
            f'height="{_n(2 * hh)}" rx="{_n(radius)}" ry="{_n(radius)}" {style}/>'
        )
    return f"<g{data}>{title}{body}</g>"


def arrow(item: Arrow, show_label: bool = True) -> str:
    """The SVG of one arrow: the polyline, a filled head and its Ya/Tidak label."""
    colour = RETURN if item.is_return else STROKE
    pts = item.points
    (x1, y1), (x2, y2) = pts[-2], pts[-1]
    # Unit vector of the last segment (segments are horizontal or vertical).
    dx, dy = x2 - x1, y2 - y1
    length = max(abs(dx) + abs(dy), 1e-6)
    ux, uy = dx / length, dy / length
    bx, by = x2 - ux * ARROW_LEN, y2 - uy * ARROW_LEN
    head = [
        (x2, y2),
        (bx - uy * ARROW_HALF, by + ux * ARROW_HALF),
        (bx + uy * ARROW_HALF, by - ux * ARROW_HALF),
    ]
    # The line stops at the head's base so its end does not poke through the tip.
    line_pts = [*pts[:-1], (bx, by)]
    dash = ' stroke-dasharray="4 2"' if item.is_return else ""
    out = [
        f'<g class="arrow{" return" if item.is_return else ""}">'
        f'<polyline points="{_points(line_pts)}" fill="none" stroke="{colour}" '
        f'stroke-width="1.1"{dash}/>'
        f'<path d="M{_n(head[0][0])} {_n(head[0][1])} L{_n(head[1][0])} {_n(head[1][1])} '
        f'L{_n(head[2][0])} {_n(head[2][1])} Z" fill="{colour}"/>'
    ]
    if item.label and show_label:
        lx, ly = item.label_at
        out.append(
            f'<text class="branch-label" x="{_n(lx)}" y="{_n(ly)}" '
            f'text-anchor="{item.label_anchor}" font-size="9" font-style="italic" '
            f'font-family="{FONT}" fill="{colour}">{escape(item.label)}</text>'
        )
    out.append("</g>")
    return "".join(out)


def page_body(page: Page, band: tuple[float, float] | None = None) -> str:
    """The drawing of one page (grid, arrows, symbols) without the ``<svg>`` element.

    With ``band`` (y from, y to) only what shows in that horizontal strip is drawn: the
    symbols whose centre lies in it and the arrows that cross it.
    """
    width, height = EXECUTOR_AREA, page.height
    lo, hi = band if band is not None else (0.0, height)
    grid = []
    # Grid lines stand in for the cell borders between the executor columns.
    for c in range(1, round(EXECUTOR_AREA / page.col_width)):
        x = _n(c * page.col_width)
        grid.append(f'<line x1="{x}" y1="{_n(lo)}" x2="{x}" y2="{_n(hi)}"/>')
    if band is None:
        for row in page.rows[:-1]:
            y = _n(row.bottom)
            grid.append(f'<line x1="0" y1="{y}" x2="{_n(width)}" y2="{y}"/>')
    parts = [f'<g class="grid" stroke="{GRID}" stroke-width="0.8">{"".join(grid)}</g>']
    for item in page.arrows:
        ys = [y for _, y in item.points]
        if min(ys) <= hi and max(ys) >= lo:
            parts.append(arrow(item, show_label=lo <= item.label_at[1] < hi))
    parts.extend(symbol(n) for n in page.nodes if lo <= n.cy < hi)
    return "".join(parts)


def row_svg(page: Page, index: int) -> str:
    """An inline ``<svg>`` of row ``index`` of a page: the strip of the flowchart in that row.

    Each table row carries its own strip, cut from the page's drawing by the viewBox, so
    the flowchart stays aligned with its rows even where a row ends up taller than
    computed or the table breaks across pages.
    """
    row = page.rows[index]
    width, top, height = _n(EXECUTOR_AREA), _n(row.top), _n(row.height)
    label = ""
    if row.activity is not None:
        label = f' aria-label="Diagram alir kegiatan {escape(row.activity.number)}"'
    return (
        f'<svg class="sop-flow" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 {top} {width} {height}" role="img"{label} '
        f'style="overflow:hidden">{page_body(page, (row.top, row.bottom))}</svg>'
    )


def _header(lay: Layout, top: float, height: float) -> str:
    """Column titles of the standalone SVG: No and every Pelaksana, wrapped to fit."""
    out = [
        f'<path d="{_box(0, top, COL_NO + EXECUTOR_AREA, height)}" '
        f'fill="#eef2f7" stroke="{STROKE}" stroke-width="0.8"/>',
        f'<text x="{_n(COL_NO / 2)}" y="{_n(top + height / 2 + 4)}" text-anchor="middle" '
        f'font-size="{_n(HEAD_FONT_PX)}" font-weight="bold">No</text>',
    ]
    for i, ex in enumerate(lay.sop.executors):
        x0 = COL_NO + i * lay.col_width
        out.append(
            f'<line x1="{_n(x0)}" y1="{_n(top)}" x2="{_n(x0)}" y2="{_n(top + height)}" '
            f'stroke="{STROKE}" stroke-width="0.8"/>'
        )
        lines = wrap(ex.label, lay.col_width - 8, HEAD_FONT_PX)
        y0 = top + (height - len(lines) * HEAD_LINE_PX) / 2 + HEAD_LINE_PX - 3
        spans = "".join(
            f'<tspan x="{_n(x0 + lay.col_width / 2)}" y="{_n(y0 + k * HEAD_LINE_PX)}">'
            f"{escape(line)}</tspan>"
            for k, line in enumerate(lines)
        )
        out.append(
            f'<text text-anchor="middle" font-size="{_n(HEAD_FONT_PX)}" '
            f'font-weight="bold">{spans}</text>'
        )
    return "".join(out)


def document_svg(lay: Layout) -> str:
    """The flowchart alone as a standalone SVG document: every page stacked, with headers."""
    head_lines = max(
        (len(wrap(ex.label, lay.col_width - 8, HEAD_FONT_PX)) for ex in lay.sop.executors),
        default=1,
    )
    head_h = head_lines * HEAD_LINE_PX + 10
    gap, title_h = 18.0, 22.0
    width = COL_NO + EXECUTOR_AREA
    parts: list[str] = []
    y = 0.0
    for page in lay.pages:
        parts.append(
            f'<text x="0" y="{_n(y + 15)}" font-size="12" font-weight="bold">'
            f"{escape(lay.sop.identity.name)} — halaman {page.number}/{len(lay.pages)}</text>"
        )
        y += title_h
        parts.append(_header(lay, y, head_h))
        y += head_h
        numbers = []
        for row in page.rows:
            if row.activity is not None:
                numbers.append(
                    f'<text x="{_n(COL_NO / 2)}" y="{_n(y + row.middle + 4)}" '
                    f'text-anchor="middle" font-size="11">{escape(row.activity.number)}</text>'
                )
        parts.append(
            f'<g class="page" data-page="{page.number}">'
            f'<path d="{_box(0, y, width, page.height)}" '
            f'fill="#fff" stroke="{STROKE}" stroke-width="0.8"/>'
            f'<line x1="{COL_NO}" y1="{_n(y)}" x2="{COL_NO}" y2="{_n(y + page.height)}" '
            f'stroke="{STROKE}" stroke-width="0.8"/>'
            f"{''.join(numbers)}"
            f'<g transform="translate({COL_NO} {_n(y)})">{page_body(page)}</g></g>'
        )
        y += page.height + gap
    height = y - gap
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(width)}" height="{_n(height)}" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" font-family="{FONT}" fill="{STROKE}">'
        f"<title>{escape(lay.sop.identity.name)}</title>{''.join(parts)}</svg>\n"
    )
