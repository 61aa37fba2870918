"""The SOP-AP document renderer: seeds in every format, flowchart symbols, routing, pages."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipadu.sop.engine import (
    SOP,
    Activity,
    Decision,
    Duration,
    DurationKind,
    Executor,
    Identity,
    definition_files,
    edges,
    load_definition,
)
from sipadu.sop.render import render_document
from sipadu.sop.render.layout import Layout, Node, Shape, connector_label, layout, split_pages

SEED_CODES = {
    "inovasi-pelayanan-bima",
    "dik-jamila-mewa",
    "sijarla-solok",
    "pemanfaatan-data-palangkaraya",
    "kinerja-dokumen-sumbar",
}
SEED_FILES = definition_files()
SVG_NS = "{http://www.w3.org/2000/svg}"


def _sop(
    acts: list[tuple[str, int, tuple[str, str] | None]],
    n_executors: int = 3,
    text: str = "Kegiatan",
) -> SOP:
    """A small SOP: (id, executor index, decision (yes, no) or None) per activity, in order."""
    executors = tuple(Executor(f"ex{i}", f"Pelaksana {i}", f"role-{i}") for i in range(n_executors))
    built = []
    for i, (aid, ex, dec) in enumerate(acts):
        nxt = acts[i + 1][0] if i + 1 < len(acts) and dec is None else None
        built.append(
            Activity(
                id=aid,
                number=str(i + 1),
                text=f"{text} {aid}",
                executor=f"ex{ex}",
                inputs=(f"Masukan {aid}",),
                duration=Duration(DurationKind.MINUTES, 5, "5 menit"),
                output=f"Keluaran {aid}",
                next=nxt,
                decision=Decision(f"Sesuai {aid}?", dec[0], dec[1]) if dec else None,
            )
        )
    return SOP(
        code="uji",
        version="1",
        identity=Identity(name="SOP Uji", agency="Pemerintah Kota Uji", unit="Dinas Uji"),
        executors=executors,
        activities=tuple(built),
    )


def _linear(n: int, n_executors: int = 3) -> SOP:
    return _sop([(f"a{i}", i % n_executors, None) for i in range(n)], n_executors)


def _svg_counts(svg: str) -> dict[str, int]:
    return {
        "rect": svg.count("<rect"),
        "activity": svg.count('class="sym sym-activity"'),
        "terminator": svg.count('class="sym sym-terminator"'),
        "decision": len(re.findall(r'<polygon class="sym sym-decision"', svg)),
        "connector": len(re.findall(r'<polygon class="sym sym-connector"', svg)),
        "ya": svg.count(">Ya</text>"),
        "tidak": svg.count(">Tidak</text>"),
    }


def test_the_five_seeds_are_shipped() -> None:
    codes = {load_definition(p).code for p in SEED_FILES}
    assert codes >= SEED_CODES


@pytest.fixture(params=SEED_FILES, ids=lambda p: p.stem)
def seed(request: pytest.FixtureRequest) -> SOP:
    return load_definition(request.param)


def test_seed_svg_has_one_symbol_of_the_right_shape_per_activity(seed: SOP) -> None:
    svg = render_document(seed, "svg").decode("utf-8")
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    assert root.tag == f"{SVG_NS}svg"
    counts = _svg_counts(svg)
    decisions = [a for a in seed.activities if a.is_decision]
    assert counts["decision"] == len(decisions)
    # Capsules for the first and the last activity, boxes for the rest; <rect> only for those.
    assert counts["terminator"] == 2
    assert counts["activity"] == len(seed.activities) - len(decisions) - 2
    assert counts["rect"] == len(seed.activities) - len(decisions)
    assert counts["ya"] == len(decisions)
    assert counts["tidak"] == len(decisions)
    assert svg.count("data-activity=") == len(seed.activities)


def test_seed_connectors_match_the_page_breaks(seed: SOP) -> None:
    lay = layout(seed)
    svg = render_document(seed, "svg").decode("utf-8")
    page_of = {a.id: i for i, page in enumerate(lay.pages) for a in page.activities}
    crossing = [e for e in edges(seed) if page_of[e.source] != page_of[e.target]]
    assert _svg_counts(svg)["connector"] == 2 * len(crossing)
    if len(lay.pages) > 1:
        assert crossing, "a procedure over several pages is joined by connectors"
        for i in range(len(crossing)):
            assert svg.count(f">{connector_label(i)}</text>") == 2


def test_palangkaraya_spans_pages_with_lettered_connectors() -> None:
    sop = load_definition(next(p for p in SEED_FILES if p.stem == "pemanfaatan-data-palangkaraya"))
    lay = layout(sop)
    assert len(lay.pages) >= 2
    labels = [n.label for page in lay.pages for n in page.nodes if n.shape is Shape.CONNECTOR]
    assert labels, "the page break is marked by connectors"
    assert all(labels.count(label) == 2 for label in labels), "each connector comes in a pair"
    assert "A" in labels


def test_seed_html_has_executor_columns_and_mutu_baku(seed: SOP) -> None:
    html = render_document(seed, "html").decode("utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in html
    assert "size: A4 landscape" in html
    n_pages = len(layout(seed).pages)
    assert html.count('class="executor"') == len(seed.executors) * n_pages
    for ex in seed.executors:
        assert f'<th class="executor" scope="col">{escape(ex.label)}</th>' in html
    assert f'<th colspan="{len(seed.executors)}" scope="colgroup">PELAKSANA</th>' in html
    assert html.count('class="mutu inputs"') == len(seed.activities)
    assert html.count('class="mutu time"') == len(seed.activities)
    assert html.count('class="mutu output"') == len(seed.activities)
    for act in seed.activities:
        assert escape(act.text) in html
        assert escape(act.output) in html
    for label in (
        "NOMOR SOP",
        "TANGGAL EFEKTIF",
        "DISAHKAN OLEH",
        "NAMA SOP",
        "Dasar Hukum",
        "Kualifikasi Pelaksana",
        "Keterkaitan",
        "Peralatan/Perlengkapan",
        "Peringatan",
        "Pencatatan dan Pendataan",
        "KELENGKAPAN",
        "WAKTU",
        "OUTPUT",
    ):
        assert label in html
    assert escape(seed.identity.name) in html
    # Every table row of the procedure carries its own strip of the flowchart.
    rows = sum(len(p.rows) for p in layout(seed).pages)
    assert html.count('<svg class="sop-flow"') == rows


def _normal(text: str) -> str:
    # Lines may break after "/" or "-", where extraction then adds a space: compare the
    # texts without any whitespace.
    return "".join(text.split())


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_seed_pdf_text_carries_every_activity(seed: SOP, tmp_path) -> None:
    pdf = render_document(seed, "pdf")
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "sop.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    text = _normal(out)
    for act in seed.activities:
        assert _normal(act.text) in text, act.id
    # The name is printed in capitals (text-transform), as on the regulation's form.
    assert _normal(seed.identity.name).upper() in text.upper()
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    # A4 landscape: 841.89 x 595.28 pt.
    assert re.search(r"Page size:\s+841\.\d+ x 595\.\d+ pts", info.stdout)


def test_unknown_format_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown format 'docx'"):
        render_document(_linear(3), "docx")


def test_rows_per_page_must_be_positive() -> None:
    with pytest.raises(ValueError, match="rows_per_page"):
        split_pages(_linear(3), 0)


def test_texts_are_escaped_everywhere() -> None:
    sop = _sop([("a", 0, None), ("b", 1, None)], 2, text='<script>alert("x")</script>')
    for fmt in ("html", "svg"):
        out = render_document(sop, fmt).decode("utf-8")
        assert "<script>" not in out
        assert "&lt;script&gt;" in out
    ET.fromstring(render_document(sop, "svg"))  # noqa: S314 - our own output


def test_a_long_procedure_is_split_with_connectors_on_both_pages() -> None:
    sop = _linear(7)
    lay = layout(sop, rows_per_page=3)
    assert [len(p.activities) for p in lay.pages] == [3, 3, 1]
    first, second, third = lay.pages
    assert [n.label for n in first.nodes if n.shape is Shape.CONNECTOR] == ["A"]
    assert sorted(n.label for n in second.nodes if n.shape is Shape.CONNECTOR) == ["A", "B"]
    assert [n.label for n in third.nodes if n.shape is Shape.CONNECTOR] == ["B"]
    svg = render_document(sop, "svg", rows_per_page=3).decode("utf-8")
    assert _svg_counts(svg)["connector"] == 4
    assert "halaman 3/3" in svg


def test_a_return_across_a_page_break_uses_top_connectors() -> None:
    acts = [("a", 0, None), ("b", 1, None), ("c", 2, None), ("d", 1, ("e", "a")), ("e", 0, None)]
    lay = layout(_sop(acts), rows_per_page=3)
    assert len(lay.pages) == 2
    page1, page2 = lay.pages
    # Connectors sit at the break: page 1's bottom strip holds the way out (c → d) and
    # the return coming back (d → a); page 2's top strip holds both ends too.
    assert page1.rows[-1].kind == "connectors-bottom"
    assert page2.rows[0].kind == "connectors-top"
    bottom1 = sorted(n.label for n in page1.nodes if n.shape is Shape.CONNECTOR)
    top2 = sorted(n.label for n in page2.nodes if n.shape is Shape.CONNECTOR)
    assert bottom1 == top2 == ["A", "B"]
    back = [a for a in page2.arrows if a.is_return]
    assert len(back) == 1 and back[0].label == "Tidak"
    # The return leaves page 2 upwards, into the top strip.
    assert back[0].points[-1][1] < page2.rows[1].top
    returning = [a for a in page1.arrows if a.is_return]
    assert len(returning) == 1 and returning[0].points[-1][1] < returning[0].points[0][1]


def test_connector_labels_run_past_z() -> None:
    assert [connector_label(i) for i in (0, 1, 25, 26, 27)] == ["A", "B", "Z", "AA", "AB"]


def test_single_executor_and_single_activity_render() -> None:
    sop = _sop([("only", 0, None)], 1)
    svg = render_document(sop, "svg").decode("utf-8")
    assert _svg_counts(svg)["terminator"] == 1
    assert render_document(sop, "html").count(b'class="executor"') == 1


# --- geometry: every arrow starts and ends on a symbol and crosses no symbol --------------


def _anchors(node: Node) -> set[tuple[float, ...]]:
    return {tuple(round(v, 3) for v in node.anchor(s)) for s in ("top", "bottom", "left", "right")}


def _crosses(p: tuple[float, float], q: tuple[float, float], node: Node) -> bool:
    """True when the axis-aligned segment p-q enters the inside of node's box."""
    x0, x1 = node.cx - node.half_w + 1, node.cx + node.half_w - 1
    y0, y1 = node.cy - node.half_h + 1, node.cy + node.half_h - 1
    lo_x, hi_x = sorted((p[0], q[0]))
    lo_y, hi_y = sorted((p[1], q[1]))
    return lo_x < x1 and hi_x > x0 and lo_y < y1 and hi_y > y0


def _check_geometry(lay: Layout) -> None:
    for page in lay.pages:
        anchors = [_anchors(n) for n in page.nodes]
        for item in page.arrows:
            start = tuple(round(v, 3) for v in item.points[0])
            end = tuple(round(v, 3) for v in item.points[-1])
            assert any(start in a for a in anchors), f"arrow starts off a symbol: {item}"
            assert any(end in a for a in anchors), f"arrow ends off a symbol: {item}"
            for p, q in zip(item.points, item.points[1:], strict=False):
                assert p[0] == q[0] or p[1] == q[1], "segments are horizontal or vertical"
                for node in page.nodes:
                    assert not _crosses(p, q, node), f"{item} crosses {node.key}"
            assert min(x for x, _ in item.points) >= 0
            assert max(y for _, y in item.points) <= page.height
        # Symbols stay inside their own row, activities inside their own column.
        for node in page.nodes:
            row = page.rows[node.row]
            assert row.top < node.cy - node.half_h and node.cy + node.half_h < row.bottom
            if node.shape is Shape.CONNECTOR:
                continue
            assert node.col * page.col_width < node.cx - node.half_w
            assert node.cx + node.half_w < (node.col + 1) * page.col_width


def test_seed_arrows_meet_their_symbols(seed: SOP) -> None:
    _check_geometry(layout(seed))


@st.composite
def random_sops(draw: st.DrawFn) -> tuple[SOP, int]:
    n = draw(st.integers(2, 12))
    n_exec = draw(st.integers(1, 6))
    acts = []
    for i in range(n):
        ex = draw(st.integers(0, n_exec - 1))
        dec = None
        if 0 < i < n - 1 and draw(st.booleans()):
            others = [j for j in range(n) if j != i]
            yes = draw(st.sampled_from(others))
            no = draw(st.sampled_from([j for j in others if j != yes]))
            dec = (f"a{yes}", f"a{no}")
        acts.append((f"a{i}", ex, dec))
    return _sop(acts, n_exec), draw(st.integers(1, 8))


@settings(max_examples=150, deadline=None)
@given(random_sops())
def test_random_flowcharts_route_cleanly(case: tuple[SOP, int]) -> None:
    sop, per_page = case
    lay = layout(sop, rows_per_page=per_page)
    _check_geometry(lay)
    page_of = {a.id: i for i, page in enumerate(lay.pages) for a in page.activities}
    crossing = [e for e in edges(sop) if page_of[e.source] != page_of[e.target]]
    connectors = [n for page in lay.pages for n in page.nodes if n.shape is Shape.CONNECTOR]
    assert len(connectors) == 2 * len(crossing)
    svg = render_document(sop, "svg", rows_per_page=per_page).decode("utf-8")
    ET.fromstring(svg)  # noqa: S314 - our own output
    decisions = sum(1 for a in sop.activities if a.is_decision)
    assert _svg_counts(svg)["decision"] == decisions
    assert _svg_counts(svg)["ya"] == decisions
