"""Geometry of the SOP-AP procedure table: column widths, row heights, pages, flowchart.

Pure Python (no Django, no WeasyPrint). The procedure table of PermenPAN-RB 35/2012 draws
the flowchart inside the Pelaksana (executor) columns. HTML table rows grow with their
text, so the flowchart could only line up with the rows if the row heights are known in
advance: this module estimates each row's height from its text (conservatively, so the
browser never needs more), and the HTML sets exactly those heights. The same numbers
place the symbols of the inline SVG that overlays the executor columns.

Every length is in CSS pixels (1/96 in); the document is :data:`DOC_WIDTH` wide, which
fits A4 landscape with 10 mm margins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path

from sipadu.sop.engine.graph import edges
from sipadu.sop.engine.model import SOP, Activity

#: Total width of the document, in CSS px (A4 landscape is 1122 px; 10 mm margins).
DOC_WIDTH = 1040
#: Widths of the fixed columns of the procedure table.
COL_NO = 30
COL_ACTIVITY = 210
COL_INPUTS = 140
COL_TIME = 62
COL_OUTPUT = 118
COL_REMARKS = 80
#: The executor columns share what is left.
EXECUTOR_AREA = DOC_WIDTH - (COL_NO + COL_ACTIVITY + COL_INPUTS + COL_TIME + COL_OUTPUT)
EXECUTOR_AREA -= COL_REMARKS

#: Body text of the table: font size and line height (px); cell padding (px).
FONT_PX = 11.0
LINE_PX = 14.0
CELL_PAD_X = 4.0
CELL_PAD_Y = 4.0
#: Header text is smaller so that long executor names still fit their narrow columns.
HEAD_FONT_PX = 9.0
HEAD_LINE_PX = 12.0
#: Bold glyphs are about this much wider than the regular ones the widths come from.
BOLD_FACTOR = 1.12

#: A row is never lower than this: a diamond and the arrows above and below need room.
MIN_ROW = 66.0
#: Height of the extra row that holds off-page connectors at the top or bottom of a page.
CONNECTOR_ROW = 40.0
#: Height available for the procedure table on one A4 landscape page (190 mm).
PAGE_BODY_HEIGHT = 710.0
#: Default maximum number of activity rows per page.
ROWS_PER_PAGE = 8

#: Symbol sizes.
SYMBOL_HEIGHT = 30.0
DIAMOND_HEIGHT = 40.0
CONNECTOR_SIZE = 22.0
#: Horizontal room kept free on both sides of a symbol for vertical arrow lanes.
LANE_MARGIN = 12.0

#: The font the document is set in; its real advance widths are used when it is installed.
FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

# Rough advance widths of DejaVu Sans in em, by character class, for when the font file
# is missing. They are rounded up so the estimated lines are never fewer than laid out.
_NARROW = frozenset("iljtfr.,;:'|!()[] I1")
_WIDE = frozenset("mwMW@%")


@cache
def _advances() -> dict[int, float] | None:
    """Advance widths (em) of DejaVu Sans by code point, or None without the font/fontTools."""
    try:
        from fontTools.ttLib import TTFont
    except ImportError:  # pragma: no cover - fontTools comes with WeasyPrint
        return None
    try:
        font = TTFont(str(FONT_FILE), lazy=True)
    except OSError:
        return None
    per_em = float(font["head"].unitsPerEm)
    metrics = font["hmtx"].metrics
    return {code: metrics[name][0] / per_em for code, name in font.getBestCmap().items()}


def _guess(ch: str) -> float:
    if ch in _NARROW:
        return 0.36
    if ch in _WIDE:
        return 0.98
    if ch.isupper() or ch.isdigit():
        return 0.74
    return 0.64


def text_width(text: str, font_px: float) -> float:
    """Estimated width of ``text`` in px when set in DejaVu Sans at ``font_px``."""
    table = _advances()
    if table is None:
        return sum(_guess(ch) for ch in text) * font_px
    return sum(table.get(ord(ch)) or _guess(ch) for ch in text) * font_px


def wrap(text: str, width: float, font_px: float = FONT_PX) -> list[str]:
    """Greedy word wrap of ``text`` into lines no wider than ``width`` px (estimated).

    A word longer than the width gets a line of its own (browsers break it too, and the
    extra line this may cost is covered by the slack of :func:`row_height`).
    """
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and text_width(candidate, font_px) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines or [""]


def _lines(text: str, col_width: float) -> int:
    return len(wrap(text, col_width - 2 * CELL_PAD_X - 2))


def inputs_lines(act: Activity) -> int:
    """Lines the Kelengkapan cell needs: one item per input, numbered when several."""
    if len(act.inputs) <= 1:
        return _lines(act.inputs[0] if act.inputs else "", COL_INPUTS)
    # Numbered items are indented by the list marker (about 1.6 em).
    return sum(_lines(f"{i}. {item}", COL_INPUTS - 8) for i, item in enumerate(act.inputs, 1))


def row_height(act: Activity) -> float:
    """Height of the table row of ``act``: its tallest text cell plus slack, or MIN_ROW."""
    lines = max(
        _lines(act.text, COL_ACTIVITY),
        inputs_lines(act),
        _lines(act.duration.text, COL_TIME),
        _lines(act.output, COL_OUTPUT),
        _lines(act.remarks, COL_REMARKS),
    )
    # Half a spare line: fonts differ a little between browsers and WeasyPrint.
    needed = (lines + 0.5) * LINE_PX + 2 * CELL_PAD_Y
    return max(MIN_ROW, float(round(needed)))


def header_height(sop: SOP) -> float:
    """Estimated height of the two header rows of the procedure table."""
    width = EXECUTOR_AREA / max(1, len(sop.executors))
    lines = max(
        (
            len(wrap(ex.label, (width - 2 * CELL_PAD_X - 2) / BOLD_FACTOR, HEAD_FONT_PX))
            for ex in sop.executors
        ),
        default=1,
    )
    return 2 * (HEAD_LINE_PX + 2 * CELL_PAD_Y) + lines * HEAD_LINE_PX


class Shape(StrEnum):
    """The flowchart symbols of PermenPAN-RB 35/2012 used here."""

    TERMINATOR = "terminator"  # capsule: first and last activity
    ACTIVITY = "activity"  # rectangle
    DECISION = "decision"  # diamond
    CONNECTOR = "connector"  # pentagon: off-page connector


class RowKind(StrEnum):
    """A row of a procedure page: an activity, or a strip holding off-page connectors."""

    ACTIVITY = "activity"
    CONNECTORS_TOP = "connectors-top"
    CONNECTORS_BOTTOM = "connectors-bottom"


@dataclass(slots=True)
class Row:
    """One row of a procedure page; ``top`` is its distance from the top of the flowchart."""

    kind: RowKind
    height: float
    top: float = 0.0
    activity: Activity | None = None

    @property
    def middle(self) -> float:
        """The y of the row's centre line, where its symbol sits."""
        return self.top + self.height / 2

    @property
    def bottom(self) -> float:
        """The y of the row's lower edge."""
        return self.top + self.height


@dataclass(slots=True)
class Node:
    """A symbol placed on a page: an activity or an off-page connector."""

    key: str
    shape: Shape
    row: int
    col: int
    cx: float
    cy: float
    half_w: float
    half_h: float
    label: str = ""
    activity: Activity | None = None

    def anchor(self, side: str) -> tuple[float, float]:
        """The point where an arrow leaves or enters the symbol on ``side``."""
        if side == "top":
            return (self.cx, self.cy - self.half_h)
        if side == "bottom":
            return (self.cx, self.cy + self.half_h)
        if side == "left":
            return (self.cx - self.half_w, self.cy)
        return (self.cx + self.half_w, self.cy)


@dataclass(slots=True)
class Arrow:
    """A routed arrow: an orthogonal polyline, the branch label and where to print it."""

    points: list[tuple[float, float]]
    label: str = ""
    label_at: tuple[float, float] = (0.0, 0.0)
    label_anchor: str = "start"
    is_return: bool = False


@dataclass(slots=True)
class Page:
    """One page of the procedure table with its flowchart laid out."""

    number: int
    rows: list[Row]
    col_width: float
    nodes: list[Node] = field(default_factory=list)
    arrows: list[Arrow] = field(default_factory=list)

    @property
    def height(self) -> float:
        """Total height of the page's rows (the height of its flowchart)."""
        return self.rows[-1].bottom if self.rows else 0.0

    @property
    def activities(self) -> list[Activity]:
        """The activities of the page, in printed order."""
        return [r.activity for r in self.rows if r.activity is not None]


@dataclass(slots=True)
class Layout:
    """The whole procedure: pages, executor column width, and the SOP it lays out."""

    sop: SOP
    pages: list[Page]
    col_width: float
    header_height: float


def split_pages(sop: SOP, rows_per_page: int = ROWS_PER_PAGE) -> list[list[Activity]]:
    """Split the activities into pages of at most ``rows_per_page`` rows that fit A4.

    A page also ends when the next row would overflow the page height (the two
    connector strips a page may carry are counted as if present: one on the first page,
    two on the others).
    """
    if rows_per_page < 1:
        raise ValueError("rows_per_page must be at least 1")
    room = PAGE_BODY_HEIGHT - header_height(sop)
    heights = [row_height(act) for act in sop.activities]
    pages: list[list[Activity]] = []
    current: list[Activity] = []
    used = 0.0
    for i, act in enumerate(sop.activities):
        top = CONNECTOR_ROW if pages else 0.0
        # The last page needs no bottom strip: keep the rest here when it all fits.
        rest_fits = (
            len(current) + len(heights) - i <= rows_per_page
            and used + sum(heights[i:]) <= room - top
        )
        too_many = len(current) >= rows_per_page
        too_high = used + heights[i] > room - top - CONNECTOR_ROW
        if current and (too_many or (too_high and not rest_fits)):
            pages.append(current)
            current, used = [], 0.0
        current.append(act)
        used += heights[i]
    if current:
        pages.append(current)
    return pages


def shape_of(sop: SOP, act: Activity) -> Shape:
    """The symbol of an activity: diamond for a decision, capsule for first/last, else box."""
    if act.is_decision:
        return Shape.DECISION
    if act is sop.activities[0] or act is sop.activities[-1] or act.is_end:
        return Shape.TERMINATOR
    return Shape.ACTIVITY


def connector_label(index: int) -> str:
    """Label of the ``index``-th off-page connector: A, B, … Z, AA, AB, …"""
    label = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        label = chr(ord("A") + rem) + label
    return label


class _Router:
    """Routes the arrows of one page; remembers used exits and occupied lanes."""

    def __init__(self, page: Page, n_cols: int) -> None:
        self.page = page
        self.n_cols = n_cols
        self.used_sides: dict[str, set[str]] = {}
        # Per column boundary: (x, y_from, y_to) of the vertical lane segments taken.
        self.lanes: dict[int, list[tuple[float, float, float]]] = {}

    def _offsets(self, boundary: int) -> list[float]:
        # Every offset stays inside LANE_MARGIN, or a lane would cut through a symbol.
        step = 4.0
        if boundary == 0:
            return [step * k for k in (1.5, 2.5, 1, 2, 0.5)]
        if boundary == self.n_cols:
            return [-step * k for k in (1.5, 2.5, 1, 2, 0.5)]
        return [1.5 * step, -1.5 * step, 2.5 * step, -2.5 * step, 0.5 * step, -0.5 * step]

    def lane(self, boundary: int, y1: float, y2: float) -> float:
        """An x on column boundary ``boundary`` free between ``y1`` and ``y2``."""
        lo, hi = min(y1, y2) - 3, max(y1, y2) + 3
        taken = self.lanes.setdefault(boundary, [])
        base = boundary * self.page.col_width
        offsets = self._offsets(boundary)
        for off in offsets:
            x = base + off
            if all(abs(x - tx) > 0.1 or hi < ty1 or lo > ty2 for tx, ty1, ty2 in taken):
                taken.append((x, lo, hi))
                return x
        # Every slot is busy: share the first one (lines overlap but stay correct).
        x = base + offsets[0]
        taken.append((x, lo, hi))
        return x

    def _take(self, node: Node, side: str) -> bool:
        used = self.used_sides.setdefault(node.key, set())
        if side in used:
            return False
        used.add(side)
        return True

    def route(self, src: Node, dst: Node, label: str, is_return: bool) -> Arrow:
        """An orthogonal arrow from ``src`` to ``dst`` that crosses no other symbol.

        The row just below is reached straight down through the band between the rows;
        anything else leaves by a side, runs along a lane on a column boundary (lanes
        hold no symbols) and enters the target by its side at its own row's centre line
        (a row holds a single symbol, except connector strips).
        """
        if dst.row == src.row + 1 and self._take(src, "bottom"):
            return self._band(src, dst, label, is_return)
        return self._side(src, dst, label, is_return)

    def _band(self, src: Node, dst: Node, label: str, is_return: bool) -> Arrow:
        sx, sy = src.anchor("bottom")
        tx, ty = dst.anchor("top")
        if abs(sx - tx) < 0.5:
            points = [(sx, sy), (tx, ty)]
        else:
            boundary = self.page.rows[dst.row].top
            y = min(boundary + 8, (boundary + ty) / 2 + 2) if ty - boundary > 10 else boundary
            points = [(sx, sy), (sx, y), (tx, y), (tx, ty)]
        return Arrow(points, label, (sx + 4, sy + 10), "start", is_return)

    def _side(self, src: Node, dst: Node, label: str, is_return: bool) -> Arrow:
        if src.shape is Shape.CONNECTOR:
            return self._from_strip(src, dst, is_return)
        preferred = "left" if dst.col < src.col else "right"
        other = "right" if preferred == "left" else "left"
        side = preferred if self._take(src, preferred) else other
        if side == other:
            self._take(src, other)
        sx, sy = src.anchor(side)
        boundary = src.col if side == "left" else src.col + 1
        if dst.shape is Shape.CONNECTOR:
            # A strip may hold several connectors: run along the strip's edge, clear of
            # them, and enter the target connector from above or below.
            strip = self.page.rows[dst.row]
            down = dst.cy > sy
            edge_y = strip.top + 4 if down else strip.bottom - 4
            x = self.lane(boundary, sy, edge_y)
            tx, ty = dst.anchor("top" if down else "bottom")
            points = [(sx, sy), (x, sy), (x, edge_y), (tx, edge_y), (tx, ty)]
        else:
            ty = dst.cy
            x = self.lane(boundary, sy, ty)
            entry = "left" if x < dst.cx else "right"
            tx, _ = dst.anchor(entry)
            points = [(sx, sy), (x, sy), (x, ty), (tx, ty)]
        # The label sits on the side of the horizontal stroke the lane does not take.
        label_y = sy - 4 if points[2][1] > sy else sy + 11
        if side == "left":
            label_at, anchor = (sx - 3, label_y), "end"
        else:
            label_at, anchor = (sx + 3, label_y), "start"
        return Arrow(points, label, label_at, anchor, is_return)

    def _from_strip(self, src: Node, dst: Node, is_return: bool) -> Arrow:
        """From a connector of a strip to an activity that is not right next to it."""
        strip = self.page.rows[src.row]
        up = dst.cy < src.cy
        sx, sy = src.anchor("top" if up else "bottom")
        edge_y = strip.top + 4 if up else strip.bottom - 4
        entry = "right" if src.cx >= dst.cx else "left"
        boundary = dst.col + 1 if entry == "right" else dst.col
        x = self.lane(boundary, edge_y, dst.cy)
        tx, ty = dst.anchor(entry)
        points = [(sx, sy), (sx, edge_y), (x, edge_y), (x, ty), (tx, ty)]
        return Arrow(points, "", (0.0, 0.0), "start", is_return)


class _Strips:
    """Places the off-page connectors of one page in its connector strips."""

    def __init__(self, rows: list[Row], nodes: dict[str, Node], n_cols: int, col_width: float):
        self.rows, self.nodes, self.n_cols, self.col_width = rows, nodes, n_cols, col_width
        self.taken: dict[int, set[float]] = {}
        slot = CONNECTOR_SIZE + 6
        self.slots = [slot / 2 + k * slot for k in range(int(EXECUTOR_AREA // slot))]

    def place(self, row_index: int, col: int, label: str, key: str) -> Node:
        """A connector in strip ``row_index``, as near column ``col``'s centre as is free.

        A strip may hold several connectors; when every slot is taken the nearest one is
        shared rather than failing.
        """
        busy = self.taken.setdefault(row_index, set())
        want = (col + 0.5) * self.col_width
        free = [x for x in self.slots if x not in busy] or self.slots
        x = min(free, key=lambda v: (abs(v - want), v))
        busy.add(x)
        hw, hh = _symbol_size(Shape.CONNECTOR, self.col_width)
        column = min(self.n_cols - 1, int(x // self.col_width))
        middle = self.rows[row_index].middle
        node = Node(key, Shape.CONNECTOR, row_index, column, x, middle, hw, hh, label)
        self.nodes[key] = node
        return node


def _symbol_size(shape: Shape, col_width: float) -> tuple[float, float]:
    width = max(24.0, min(col_width - 2 * LANE_MARGIN, 84.0))
    if shape is Shape.DECISION:
        return (min(width, 60.0) / 2, DIAMOND_HEIGHT / 2)
    if shape is Shape.CONNECTOR:
        return (CONNECTOR_SIZE / 2, CONNECTOR_SIZE / 2)
    return (width / 2, SYMBOL_HEIGHT / 2)


def layout(sop: SOP, rows_per_page: int = ROWS_PER_PAGE) -> Layout:
    """Lay out the procedure of ``sop``: pages, rows, symbols and routed arrows."""
    n_cols = max(1, len(sop.executors))
    col_width = EXECUTOR_AREA / n_cols
    col_of = {ex.id: i for i, ex in enumerate(sop.executors)}
    groups = split_pages(sop, rows_per_page)
    page_of = {act.id: p for p, acts in enumerate(groups) for act in acts}
    all_edges = edges(sop)

    # Off-page connectors: one labelled pair per arrow that crosses a page break.
    crossing = [e for e in all_edges if page_of[e.source] != page_of[e.target]]
    labels = {(e.source, e.target, e.label): connector_label(i) for i, e in enumerate(crossing)}

    pages: list[Page] = []
    for p, acts in enumerate(groups):
        top_needed = any(
            (page_of[e.target] == p and page_of[e.source] < p)
            or (page_of[e.source] == p and page_of[e.target] < p)
            for e in crossing
        )
        bottom_needed = any(
            (page_of[e.source] == p and page_of[e.target] > p)
            or (page_of[e.target] == p and page_of[e.source] > p)
            for e in crossing
        )
        rows: list[Row] = []
        if top_needed:
            rows.append(Row(RowKind.CONNECTORS_TOP, CONNECTOR_ROW))
        rows.extend(Row(RowKind.ACTIVITY, row_height(a), activity=a) for a in acts)
        if bottom_needed:
            rows.append(Row(RowKind.CONNECTORS_BOTTOM, CONNECTOR_ROW))
        y = 0.0
        for row in rows:
            row.top = y
            y += row.height
        page = Page(p + 1, rows, col_width)

        nodes: dict[str, Node] = {}
        for r, row in enumerate(rows):
            if row.activity is None:
                continue
            act = row.activity
            shape = shape_of(sop, act)
            col = col_of.get(act.executor, 0)
            hw, hh = _symbol_size(shape, col_width)
            nodes[act.id] = Node(
                act.id, shape, r, col, (col + 0.5) * col_width, row.middle, hw, hh, act.number, act
            )

        strips = _Strips(rows, nodes, n_cols, col_width)
        connector = strips.place
        top_index, bottom_index = 0, len(rows) - 1
        router = _Router(page, n_cols)
        arrows: list[Arrow] = []
        for e in all_edges:
            sp, tp = page_of[e.source], page_of[e.target]
            if sp == p and tp == p:
                arrows.append(router.route(nodes[e.source], nodes[e.target], e.label, e.is_return))
                continue
            label = labels.get((e.source, e.target, e.label), "")
            if sp == p:
                strip = bottom_index if tp > p else top_index
                src = nodes[e.source]
                conn = connector(strip, src.col, label, f"out:{label}")
                arrows.append(router.route(src, conn, e.label, e.is_return))
            elif tp == p:
                strip = top_index if sp < p else bottom_index
                dst = nodes[e.target]
                conn = connector(strip, dst.col, label, f"in:{label}")
                arrows.append(router.route(conn, dst, "", e.is_return))
        page.nodes = list(nodes.values())
        page.arrows = arrows
        pages.append(page)
    return Layout(sop, pages, col_width, header_height(sop))
