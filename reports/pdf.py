"""HTML to PDF with WeasyPrint: the only module that imports it.

Done the fast way (shared/reference/scale-and-speed.md, B2): one FontConfiguration for the
whole process, an explicit encoding (no charset sniffing), and fonts subset by
HarfBuzz-subset (libharfbuzz-subset0), never the pure-Python fontTools fallback — a test
fails if WeasyPrint falls back. The templates keep to block layout and small CSS.

Nothing is fetched from the network: the URL fetcher serves only files under the
project's static/ and templates/letters/, so a letter can never be made to call out,
nor to read another file on the server.
"""
from __future__ import annotations

import base64
import re
import zlib
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from referrals.config import PROJECT_ROOT

STATIC = PROJECT_ROOT / "static"
LETTER_TEMPLATES = PROJECT_ROOT / "templates" / "letters"
ALLOWED_ROOTS = (STATIC.resolve(), LETTER_TEMPLATES.resolve())

# Shared by every render in this process: it caches font descriptions, which is most of
# the cost of a small document after the first (WeasyPrint #1495, #2144).
FONT_CONFIG = FontConfiguration()


SVG_DATA = "data:image/svg+xml;base64,"


class OwnFilesOnly(URLFetcher):
    """Serves file: URLs under ALLOWED_ROOTS and refuses everything else (WeasyPrint
    logs the refusal and leaves the resource out)."""

    def __init__(self):
        super().__init__(allowed_protocols=("file",), allow_redirects=False, timeout=1)

    def fetch(self, url, headers=None):
        if url.startswith(SVG_DATA):
            # A report's own chart, inlined as an image: its SVG is laid out apart from
            # the page, so the page's styles are not computed for every bar and label.
            return URLFetcherResponse(url, base64.b64decode(url[len(SVG_DATA):]),
                                      headers={"Content-Type": "image/svg+xml"})
        path = local_path(url)
        if path is None:
            raise ValueError(f"refused to fetch {url!r}: only the project's own static "
                             "files may be used in a letter")
        return URLFetcherResponse(path.as_uri(), path.read_bytes())


def local_path(url: str) -> Path | None:
    """The file a file: URL names, when it lies under one of ALLOWED_ROOTS; else None."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    path = Path(unquote(parts.path)).resolve()  # resolves ../ and symlinks before the check
    if not any(path.is_relative_to(root) for root in ALLOWED_ROOTS) or not path.is_file():
        return None
    return path


_FETCHER = OwnFilesOnly()


def render_pdf(html: str, *, stylesheets: Sequence[str] = ()) -> bytes:
    """The PDF of an HTML document, with relative URLs resolved against static/.

    `stylesheets` names files in templates/letters/ (e.g. "letter.css"), parsed and
    compiled once per process rather than from a <style> in every document (~8 ms a
    letter).
    """
    document = HTML(string=html, encoding="utf-8", base_url=STATIC.as_uri() + "/",
                    url_fetcher=_FETCHER)
    return document.write_pdf(stylesheets=[stylesheet(name) for name in stylesheets],
                              font_config=FONT_CONFIG)


@cache
def stylesheet(name: str) -> CSS:
    """A print stylesheet from templates/letters/, compiled once for this process."""
    path = local_path((LETTER_TEMPLATES / name).as_uri())
    if path is None or path.parent != LETTER_TEMPLATES.resolve():
        raise ValueError(f"no stylesheet {name!r} in templates/letters/")
    return CSS(filename=str(path), encoding="utf-8", url_fetcher=_FETCHER,
               font_config=FONT_CONFIG)


# An object stream's dictionary holds no nested dictionary, so [^<>]* cannot overrun it.
_OBJECT_STREAM = re.compile(rb"<<[^<>]*/Type\s*/ObjStm[^<>]*>>\s*stream\r?\n")
_PAGES_COUNT = re.compile(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", re.DOTALL)


def page_count(pdf: bytes) -> int:
    """How many pages a PDF written by render_pdf has: the /Count of its page tree.

    WeasyPrint writes the page tree inside compressed object streams, so those are
    inflated to find it; content streams are skipped.
    """
    found = [int(n) for n in _PAGES_COUNT.findall(pdf)]
    for match in _OBJECT_STREAM.finditer(pdf):
        try:
            body = zlib.decompressobj().decompress(pdf[match.end():])
        except zlib.error:
            continue
        found += [int(n) for n in _PAGES_COUNT.findall(body)]
    if not found:
        raise ValueError("not a PDF with a page tree")
    return max(found)
