"""Rendering (WeasyPrint, A4) and QR codes."""

from __future__ import annotations

import base64
import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader

from sipadu.signing.pdf import html_to_pdf, qr_png_data_uri, verification_url


def test_rendered_document_is_one_a4_page(unsigned_pdf: bytes) -> None:
    reader = PdfFileReader(io.BytesIO(unsigned_pdf))
    pages = reader.root["/Pages"]
    assert pages["/Count"] == 1
    box = [float(v) for v in pages["/Kids"][0]["/MediaBox"]]
    # A4 is 595.28 × 841.89 pt.
    assert abs(box[2] - box[0] - 595.28) < 1 and abs(box[3] - box[1] - 841.89) < 1


def test_verification_url_uses_site_url(settings: Any) -> None:
    settings.SITE_URL = "https://dukcapil.balangankab.go.id/"
    assert verification_url("AbC123") == "https://dukcapil.balangankab.go.id/v/AbC123"


def test_qr_codes_are_images_that_depend_on_the_url() -> None:
    uri = qr_png_data_uri("https://x.go.id/v/a")
    assert uri.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert image.width == image.height >= 21 * 4
    assert qr_png_data_uri("https://x.go.id/v/b") != uri


def test_rendering_never_fetches_remote_resources() -> None:
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        pdf = html_to_pdf(
            f'<link rel="stylesheet" href="{url}/s.css"><p>Isi</p><img src="{url}/x.png">'
        )
    finally:
        server.shutdown()
        server.server_close()
    assert pdf.startswith(b"%PDF")
    assert hits == []


def test_only_files_inside_the_asset_folder_are_loaded(tmp_path: Path) -> None:
    assets = tmp_path / "aset"
    assets.mkdir()
    Image.new("RGB", (8, 8), "red").save(assets / "logo.png")
    Image.new("RGB", (8, 8), "blue").save(tmp_path / "rahasia.png")

    inside = html_to_pdf('<img src="logo.png">', base_url=str(assets))
    assert b"/Image" in inside
    outside = html_to_pdf(
        f'<img src="../rahasia.png"><img src="{(tmp_path / "rahasia.png").as_uri()}">',
        base_url=str(assets),
    )
    assert b"/Image" not in outside
    no_base = html_to_pdf(f'<img src="{(assets / "logo.png").as_uri()}">')
    assert b"/Image" not in no_base


def test_lean_documents_parse_xhtml_with_the_xml_parser_and_fall_back_otherwise() -> None:
    from sipadu.signing.pdf import _DocumentHTML, _lean_document, local_url_fetcher

    fetcher = local_url_fetcher(None)
    xhtml = (
        '<!doctype html><html lang="id"><head><meta charset="utf-8"/><title>T</title></head>'
        "<body><p>A &amp; B</p><table><tr><td>x</td></tr></table></body></html>"
    )
    fast = _lean_document(xhtml, None, fetcher)
    slow = _DocumentHTML(string=xhtml, url_fetcher=fetcher)
    # Same elements and text, except the <tbody> the HTML5 parser inserts.
    tags = [e.tag for e in fast.etree_element.iter()]
    assert tags == [e.tag for e in slow.etree_element.iter() if e.tag != "tbody"]
    assert "".join(fast.etree_element.itertext()) == "".join(slow.etree_element.itertext())
    # Not XML (void element left open, named entity, a DTD): the HTML5 parser reads it.
    for html in (
        "<html><body><p>a<br>b</p></body></html>",
        "<html><body><p>a&nbsp;b</p></body></html>",
        '<!DOCTYPE x [<!ENTITY a "b">]><html><body><p>&a;</p></body></html>',
    ):
        document = _lean_document(html, None, fetcher)
        assert document.etree_element.find("body") is not None
    assert html_to_pdf("<p>Isi<br>baris dua</p>", lean=True).startswith(b"%PDF")


def test_data_urls_are_decoded_without_urllib() -> None:
    from sipadu.signing.pdf import _data_url

    png = base64.b64decode(qr_png_data_uri("https://x.go.id/v/a", scale=1).split(",", 1)[1])
    response = _data_url("data:image/png;base64," + base64.b64encode(png).decode())
    assert response.read() == png and response.content_type == "image/png"
    text = _data_url("data:,Hello%2C%20Dunia")
    assert text.read() == b"Hello, Dunia" and text.content_type == "text/plain"


def test_stylesheets_are_parsed_once_per_file_version(tmp_path: Path) -> None:
    import os

    from sipadu.signing.pdf import stylesheet

    path = tmp_path / "doc.css"
    path.write_text("p { color: red }")
    first = stylesheet(path)
    assert stylesheet(path) is first
    path.write_text("p { color: blue }")
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 5))
    assert stylesheet(path) is not first
    pdf = html_to_pdf("<p>Isi</p>", stylesheets=[stylesheet(path)], lean=True)
    assert pdf.startswith(b"%PDF")
