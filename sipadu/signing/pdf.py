"""HTML → PDF (WeasyPrint, A4) and the QR codes pointing at the public verification page."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import segno
from django.conf import settings
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

# A user stylesheet: templates may set their own margins, but every document is A4.
_A4 = CSS(string="@page { size: A4; margin: 18mm 16mm; }")


_per_thread = threading.local()


def _font_config() -> FontConfiguration:
    """This thread's font configuration (building one costs ~10 ms per document).

    Pango font maps are not thread-safe, so each thread keeps its own.
    """
    config = getattr(_per_thread, "font_config", None)
    if config is None:
        config = FontConfiguration()
        _per_thread.font_config = config
    return config


class LocalFetcher(URLFetcher):
    """Fetches ``data:`` URLs, and ``file:`` URLs inside one folder (the template's).

    Offices work offline and document templates contain citizens' data: a document must
    never reach out to the network while it is rendered, nor read files outside its own
    asset folder.
    """

    def __init__(self, root: Path | None) -> None:
        """``root``: the only folder ``file:`` URLs may point into (None: no files)."""
        super().__init__(allowed_protocols={"data", "file"}, fail_on_errors=False)
        self.root = root

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
        """Refuse ``file:`` URLs outside the root, then fetch as WeasyPrint does."""
        if url.lower().startswith("file:"):
            path = Path(url2pathname(urlsplit(url).path)).resolve()
            if self.root is None or not path.is_relative_to(self.root):
                raise ValueError("file outside the document's asset folder")
        return super().fetch(url, headers)


def local_url_fetcher(base_url: str | None = None) -> LocalFetcher:
    """This thread's fetcher for documents whose assets live under ``base_url``.

    A fetcher builds an SSL context when created (~10 ms), so each thread keeps one per
    asset folder; fetchers are not shared across threads because they hold request state.
    """
    root = None
    if base_url and base_url.lower().startswith("file:"):
        root = Path(url2pathname(urlsplit(base_url).path)).resolve()
        if not base_url.endswith("/"):
            root = root.parent
    elif base_url and "://" not in base_url:
        root = Path(base_url).resolve()
        root = root if root.is_dir() else root.parent
    fetchers: dict[Path | None, LocalFetcher] = _per_thread.__dict__.setdefault("fetchers", {})
    if root not in fetchers:
        fetchers[root] = LocalFetcher(root)
    return fetchers[root]


def html_to_pdf(html: str, base_url: str | None = None) -> bytes:
    """Render an HTML document to an A4 PDF and return its bytes.

    ``base_url`` (a folder path or ``file:`` URL) resolves relative references to images and
    stylesheets of the template; only files inside it can be loaded.
    """
    document = HTML(string=html, base_url=base_url, url_fetcher=local_url_fetcher(base_url))
    pdf = document.write_pdf(stylesheets=[_A4], font_config=_font_config())
    assert pdf is not None  # write_pdf returns bytes when no target is given
    return pdf


def verification_url(token: str) -> str:
    """Public verification page of one issued document: ``SITE_URL/v/<token>``."""
    return f"{settings.SITE_URL.rstrip('/')}/v/{token}"


def _qr(url: str) -> segno.QRCode:
    """A QR code for a URL; level M survives a crease or a smudge on a printed page."""
    return segno.make(url, error="m", micro=False)


def qr_svg(url: str, *, scale: int = 4) -> str:
    """An inline ``<svg>`` element of a QR code for ``url`` (no XML declaration)."""
    return str(_qr(url).svg_inline(scale=scale, border=2))


def qr_png_data_uri(url: str, *, scale: int = 4) -> str:
    """A ``data:image/png;base64,…`` URI of a QR code for ``url`` (for ``<img src>``)."""
    return str(_qr(url).png_data_uri(scale=scale, border=2))
