"""Public SOP pages: catalogue, document page, downloads, unknown codes, broken files."""

from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ET
from html import escape
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from sipadu.sop.engine import definition_files, load_definition

pytestmark = pytest.mark.django_db

SEEDS = {p.stem: load_definition(p) for p in definition_files()}


@pytest.fixture
def definitions(tmp_path: Path, settings) -> Path:
    """A private definitions directory holding a copy of the Dik Jamila Me-WA seed."""
    directory = tmp_path / "definitions"
    directory.mkdir()
    shutil.copy(next(p for p in definition_files() if p.stem == "dik-jamila-mewa"), directory)
    settings.SIPADU_SOP_DEFINITIONS_DIR = directory
    return directory


def test_catalogue_lists_every_seed(client: Client) -> None:
    response = client.get("/sop/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Katalog SOP" in html
    for sop in SEEDS.values():
        assert escape(sop.identity.name) in html
        assert reverse("sop:detail", args=[sop.code]) in html
        assert reverse("sop:pdf", args=[sop.code]) in html
        row = html.split(f'data-code="{sop.code}"')[1].split("</tr>")[0]
        assert f'<td class="activities">{len(sop.activities)}</td>' in row
        for ex in sop.executors:
            assert escape(ex.name) in row
    assert "bermasalah" not in html


def test_document_page_embeds_the_rendered_sop(client: Client) -> None:
    sop = SEEDS["dik-jamila-mewa"]
    response = client.get(f"/sop/{sop.code}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<div class="sopdoc">' in html
    assert html.count('class="executor"') >= len(sop.executors)
    assert '<svg class="sop-flow"' in html
    assert ".sopdoc" in html  # the document's stylesheet travels with the page
    for act in sop.activities:
        assert escape(act.text) in html
    assert reverse("sop:svg", args=[sop.code]) in html


def test_pdf_download(client: Client) -> None:
    response = client.get("/sop/inovasi-pelayanan-bima.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert 'filename="inovasi-pelayanan-bima.pdf"' in response["Content-Disposition"]


def test_svg_download_is_a_flowchart(client: Client) -> None:
    sop = SEEDS["sijarla-solok"]
    response = client.get(f"/sop/{sop.code}.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    root = ET.fromstring(response.content)  # noqa: S314 - our own output
    assert root.tag.endswith("svg")
    assert response.content.count(b"data-activity=") == len(sop.activities)


def test_printable_html_download(client: Client) -> None:
    response = client.get("/sop/kinerja-dokumen-sumbar.html")
    assert response.status_code == 200
    assert response.content.startswith(b"<!DOCTYPE html>")
    assert b"size: A4 landscape" in response.content


@pytest.mark.parametrize("url", ["/sop/tidak-ada/", "/sop/tidak-ada.pdf", "/sop/tidak-ada.svg"])
def test_unknown_code_is_404_with_a_message(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert "SOP dengan kode “tidak-ada” tidak ditemukan." in response.content.decode()


def test_broken_file_is_listed_with_its_problem(client: Client, definitions: Path) -> None:
    (definitions / "rusak.yaml").write_text("code: rusak\nversion: [1\n", encoding="utf-8")
    (definitions / "kurang.yaml").write_text("code: kurang\n", encoding="utf-8")
    response = client.get("/sop/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Berkas definisi yang bermasalah" in html
    assert "rusak.yaml" in html and "kurang.yaml" in html
    broken = html.split("rusak.yaml")[1].split("</div>")[0]
    assert "<li>" in broken, "the problem itself is shown"
    # The valid SOP is still listed and served.
    assert "Dik Jamila Me-WA" in html
    assert client.get("/sop/dik-jamila-mewa/").status_code == 200
    assert client.get("/sop/kurang/").status_code == 404


def test_catalogue_follows_an_edited_file(client: Client, definitions: Path) -> None:
    path = definitions / "dik-jamila-mewa.yaml"
    assert "Inovasi Layanan Dik Jamila Me-WA" in client.get("/sop/").content.decode()
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("name: Inovasi Layanan Dik Jamila Me-WA", "name: Layanan WA Balangan"),
        encoding="utf-8",
    )
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    html = client.get("/sop/").content.decode()
    assert "Layanan WA Balangan" in html
    assert "Inovasi Layanan Dik Jamila Me-WA" not in html
    pdf_text = client.get("/sop/dik-jamila-mewa.svg").content.decode()
    assert "Layanan WA Balangan" in pdf_text


def test_newest_version_of_a_code_is_shown(client: Client, definitions: Path) -> None:
    text = (definitions / "dik-jamila-mewa.yaml").read_text(encoding="utf-8")
    newer = text.replace('version: "2020"', 'version: "2024"').replace(
        "name: Inovasi Layanan Dik Jamila Me-WA", "name: Dik Jamila Me-WA Revisi 2024"
    )
    (definitions / "dik-jamila-mewa-2024.yaml").write_text(newer, encoding="utf-8")
    html = client.get("/sop/dik-jamila-mewa/").content.decode()
    assert "Dik Jamila Me-WA Revisi 2024" in html
    catalogue = client.get("/sop/").content.decode()
    assert catalogue.count('data-code="dik-jamila-mewa"') == 2


def test_empty_directory_shows_an_empty_catalogue(client: Client, tmp_path: Path, settings) -> None:
    settings.SIPADU_SOP_DEFINITIONS_DIR = tmp_path
    response = client.get("/sop/")
    assert response.status_code == 200
    assert "Belum ada SOP yang dapat ditampilkan." in response.content.decode()
