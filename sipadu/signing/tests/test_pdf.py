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

from sipadu.signing.pdf import html_to_pdf, qr_png_data_uri, qr_svg, verification_url


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
    svg = qr_svg("https://x.go.id/v/a")
    assert svg.startswith("<svg") and "</svg>" in svg
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
