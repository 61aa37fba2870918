"""HTML → PDF (WeasyPrint, A4) and the QR codes pointing at the public verification page.

Issued documents are rendered at signing time, so rendering is on the hot path of a TTE
session. What does not depend on the document is prepared once per process: the document
stylesheets are parsed once (:func:`stylesheet`) and passed to :func:`html_to_pdf` instead of
a ``<style>`` element parsed again for every page, the font configuration and the URL fetcher
are kept per thread, and ``lean=True`` swaps WeasyPrint's full HTML user-agent stylesheet
(hundreds of rules, many matched against every element) for :data:`DOCUMENT_UA_CSS`, which
only styles the elements document templates use.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit
from urllib.request import url2pathname
from xml.etree import ElementTree

import cssselect2
import segno
from django.conf import settings
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

# A user stylesheet: templates may set their own margins, but every document is A4.
_A4 = CSS(string="@page { size: A4; margin: 18mm 16mm; }")


#: The user-agent stylesheet of ``html_to_pdf(..., lean=True)``: the defaults of the HTML
#: elements document templates use (block elements, tables, bold/italic, headings, lists)
#: and the alignment of the page-margin boxes. A template that needs another element's
#: default styling states it in its own stylesheet.
DOCUMENT_UA_CSS = """
head, meta, title, style, script, link, template, [hidden] { display: none }
html, body, div, p, header, footer, section, article, main, h1, h2, h3, h4, ol, ul,
blockquote, figure, figcaption, address, hr { display: block }
li { display: list-item }
table { display: table; box-sizing: border-box; border-spacing: 2px;
        border-collapse: separate; text-indent: initial; border-color: gray }
caption { display: table-caption }
colgroup { display: table-column-group }
col { display: table-column }
thead { display: table-header-group; vertical-align: middle; border-color: inherit }
tbody { display: table-row-group; vertical-align: middle; border-color: inherit }
tfoot { display: table-footer-group; vertical-align: middle; border-color: inherit }
tr { display: table-row; vertical-align: inherit; border-color: inherit }
td, th { display: table-cell; padding: 1px; vertical-align: inherit; border-color: gray }
b, strong, th { font-weight: bold }
em, i, address { font-style: italic }
small, sub, sup { font-size: smaller }
u { text-decoration: underline }
body { margin: 8px }
p, ol, ul, blockquote, figure { margin-top: 1em; margin-bottom: 1em }
ol, ul { padding-left: 40px }
ol { list-style-type: decimal }
ul { list-style-type: disc }
h1 { font-size: 2em; margin-top: .67em; margin-bottom: .67em }
h2 { font-size: 1.5em; margin-top: .83em; margin-bottom: .83em }
h3 { font-size: 1.17em; margin-top: 1em; margin-bottom: 1em }
h4 { margin-top: 1.33em; margin-bottom: 1.33em }
h1, h2, h3, h4 { font-weight: bold; break-after: avoid; break-inside: avoid }
hr { border-style: inset; border-width: 1px; color: gray; margin: .5em auto }
img, svg { overflow: hidden }
br::before { content: "\\A"; white-space: pre-line }
@page {
  margin: 75px;
  @top-left { text-align: left; vertical-align: middle }
  @top-center { text-align: center; vertical-align: middle }
  @top-right { text-align: right; vertical-align: middle }
  @bottom-left { text-align: left; vertical-align: middle }
  @bottom-center { text-align: center; vertical-align: middle }
  @bottom-right { text-align: right; vertical-align: middle }
}
"""

_per_thread = threading.local()
_DOCUMENT_UA = CSS(string=DOCUMENT_UA_CSS)


class _DocumentHTML(HTML):
    """An HTML document styled with :data:`DOCUMENT_UA_CSS` instead of the full HTML one."""

    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        return [_DOCUMENT_UA]


_DOCTYPE = re.compile(r"^\s*<!doctype html>", re.IGNORECASE)


def _lean_document(html: str, base_url: str | None, fetcher: URLFetcher) -> HTML:
    """The document of ``html_to_pdf(..., lean=True)``.

    Document templates are written as well-formed XHTML (void elements closed, no named
    entities but XML's), which the XML parser (C, ~10x faster than WeasyPrint's HTML5 parser)
    reads into the same tree. Anything else falls back to the HTML5 parser, and so does any
    markup declaration (``<!``: DTDs, entity definitions, comments, CDATA) or namespace.
    """
    text = _DOCTYPE.sub("", html, count=1)
    root = None
    if "<!" not in text and "xmlns" not in text:
        try:
            # No "<!" above: no DTD, hence no entity expansion; the text is our template.
            root = ElementTree.fromstring(text)  # noqa: S314
        except ElementTree.ParseError:  # not XML: use the HTML parser
            root = None
    if root is None or root.tag != "html":
        return _DocumentHTML(string=html, base_url=base_url, url_fetcher=fetcher)
    # What HTML.__init__ sets after parsing (WeasyPrint 70), with the XML parser's tree.
    document = _DocumentHTML.__new__(_DocumentHTML)
    document.base_url = base_url
    document.url_fetcher = fetcher
    document.media_type = "print"
    document.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
    document.etree_element = document.wrapper_element.etree_element
    return document


_stylesheets: dict[tuple[str, float], CSS] = {}
_stylesheets_lock = threading.Lock()


def stylesheet(path: str | Path) -> CSS:
    """The parsed stylesheet of a CSS file, parsed once per process (and again when the file
    changes). The result is read-only and shared by every rendering thread, like WeasyPrint's
    own user-agent stylesheet; it must not contain ``@font-face`` rules (system fonts only).
    """
    path = Path(path)
    key = (str(path), path.stat().st_mtime)
    sheet = _stylesheets.get(key)
    if sheet is None:
        with _stylesheets_lock:
            sheet = _stylesheets.get(key)
            if sheet is None:
                sheet = CSS(string=path.read_text(encoding="utf-8"), base_url=str(path))
                _stylesheets[key] = sheet
    return sheet


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
        """Refuse ``file:`` URLs outside the root, then fetch as WeasyPrint does.

        ``data:`` URLs (the QR code of every document) are decoded here: urllib's handler
        parses them with the e-mail package, which costs more than the image itself.
        """
        if url[:5].lower() == "data:":
            return _data_url(url)
        if url.lower().startswith("file:"):
            path = Path(url2pathname(urlsplit(url).path)).resolve()
            if self.root is None or not path.is_relative_to(self.root):
                raise ValueError("file outside the document's asset folder")
        return super().fetch(url, headers)


def _data_url(url: str) -> URLFetcherResponse:
    """A ``data:[<mime type>][;base64],<data>`` URL as a fetcher response (RFC 2397)."""
    header, sep, payload = url[5:].partition(",")
    if not sep:
        raise ValueError("malformed data: URL")
    params = header.split(";")
    try:
        if params[-1].strip().lower() == "base64":
            body = base64.b64decode(payload, validate=False)
            params.pop()
        else:
            body = unquote_to_bytes(payload)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("malformed data: URL") from exc
    mime = params[0].strip() or "text/plain"
    headers = {"Content-Type": ";".join([mime, *params[1:]])}
    return URLFetcherResponse(url, body, headers)


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


def html_to_pdf(
    html: str,
    base_url: str | None = None,
    *,
    stylesheets: Sequence[CSS] = (),
    lean: bool = False,
) -> bytes:
    """Render an HTML document to an A4 PDF and return its bytes.

    ``base_url`` (a folder path or ``file:`` URL) resolves relative references to images and
    stylesheets of the template; only files inside it can be loaded. ``stylesheets``: parsed
    stylesheets (:func:`stylesheet`) applied after the A4 default, in order, with the
    precedence of user stylesheets (above the user-agent one, below any ``<style>`` of the
    document). ``lean``: style the elements with :data:`DOCUMENT_UA_CSS` instead of
    WeasyPrint's full HTML user-agent stylesheet.
    """
    fetcher = local_url_fetcher(base_url)
    if lean:
        document = _lean_document(html, base_url, fetcher)
    else:
        document = HTML(string=html, base_url=base_url, url_fetcher=fetcher)
    pdf = document.write_pdf(stylesheets=[_A4, *stylesheets], font_config=_font_config())
    assert pdf is not None  # write_pdf returns bytes when no target is given
    return pdf


def verification_url(token: str) -> str:
    """Public verification page of one issued document: ``SITE_URL/v/<token>``."""
    return f"{settings.SITE_URL.rstrip('/')}/v/{token}"


def _qr(url: str) -> segno.QRCode:
    """A QR code for a URL; level M survives a crease or a smudge on a printed page."""
    return segno.make(url, error="m", micro=False)


def qr_png_data_uri(url: str, *, scale: int = 4) -> str:
    """A ``data:image/png;base64,…`` URI of a QR code for ``url`` (for ``<img src>``)."""
    return str(_qr(url).png_data_uri(scale=scale, border=2))
