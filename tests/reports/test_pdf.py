"""reports.pdf: WeasyPrint the fast way (HarfBuzz subsetting, one FontConfiguration per
process) and a URL fetcher that serves only the project's own files."""
from __future__ import annotations

import base64
import logging
import subprocess

import pytest
import weasyprint
from weasyprint.text import ffi

from reports import pdf
from tests.reports.conftest import pdftotext

FALLBACK = "Using fontTools instead of HarfBuzz-Subset"


def test_harfbuzz_subset_is_installed_so_fonts_are_not_subset_by_fonttools():
    assert ffi.harfbuzz_subset is not None, (
        "libharfbuzz-subset is missing: WeasyPrint falls back to fontTools, ~7x slower "
        "(install the Debian package libharfbuzz-subset0)")
    assert ffi.harfbuzz.hb_version_atleast(4, 1, 0), "HarfBuzz-subset 4.1.0+ is needed"


def test_rendering_never_falls_back_to_fonttools(caplog):
    text = "Plan and requested actions: עברית العربية 😀 " + "x" * 40
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        document = pdf.render_pdf(f"<p style='font-weight: bold'>{text}</p><p>{text}</p>")

    assert document.startswith(b"%PDF-")
    fallbacks = [r.getMessage() for r in caplog.records if FALLBACK in r.getMessage()]
    assert fallbacks == [], fallbacks


def test_the_letter_fonts_are_installed_and_cover_right_to_left_text():
    def families(pattern: str) -> str:
        return subprocess.run(["fc-list", pattern, "family"], capture_output=True,
                              text=True, check=True).stdout

    assert "DejaVu Sans" in families(":"), "install fonts-dejavu-core (the letter's font)"
    assert families(":lang=he") and families(":lang=ar"), (
        "no font covers Hebrew and Arabic: install fonts-dejavu-core")


def test_every_render_shares_one_font_configuration(monkeypatch):
    seen = []
    original = weasyprint.HTML.write_pdf

    def spy(self, *args, **kwargs):
        seen.append(kwargs.get("font_config"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", spy)
    pdf.render_pdf("<p>One</p>")
    pdf.render_pdf("<p>Two</p>")

    assert seen == [pdf.FONT_CONFIG, pdf.FONT_CONFIG]
    assert isinstance(pdf.FONT_CONFIG, weasyprint.text.fonts.FontConfiguration)


def test_text_is_rendered_and_pages_are_counted():
    one = pdf.render_pdf("<p>Hello</p>")
    many = pdf.render_pdf("<p style='break-after: page'>Page</p>" * 3 + "<p>Last</p>")

    assert "Hello" in pdftotext(one)
    assert pdf.page_count(one) == 1
    assert pdf.page_count(many) == 4
    assert pdftotext(many).count("\f") == 4


def test_page_count_refuses_what_is_not_a_pdf():
    with pytest.raises(ValueError):
        pdf.page_count(b"not a pdf")


@pytest.mark.parametrize("url", [
    "http://example.com/logo.png",
    "https://example.com/logo.png",
    "ftp://example.com/logo.png",
    "data:text/plain,hello",
    "file:///etc/passwd",
    (pdf.STATIC / ".." / "pyproject.toml").as_uri(),
    (pdf.STATIC / "missing.png").as_uri(),
    "file://elsewhere" + str(pdf.STATIC / "kindly.css"),
])
def test_the_fetcher_refuses_anything_but_our_own_files(url):
    assert pdf.local_path(url) is None
    with pytest.raises(ValueError):
        pdf.OwnFilesOnly().fetch(url)


def test_the_fetcher_serves_static_files_and_letter_templates():
    for path in (pdf.STATIC / "kindly.css", pdf.LETTER_TEMPLATES / "letter.css"):
        response = pdf.OwnFilesOnly().fetch(path.as_uri())
        assert response.read() == path.read_bytes()
        response.close()


def test_a_chart_inlined_as_an_svg_image_is_drawn():
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40">'
           '<text x="5" y="20">Befriending 12</text></svg>')
    chart = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    assert "Befriending 12" in pdftotext(pdf.render_pdf(f'<img src="{chart}" alt="">'))
    with pytest.raises(ValueError):  # any other data: URL stays refused
        pdf.OwnFilesOnly().fetch("data:image/png;base64,AAAA")


def test_a_document_cannot_reach_the_network_or_other_files(caplog):
    html = ("<p>Before</p><img src='http://127.0.0.1:9/x.png'>"
            "<img src='file:///etc/passwd'><link rel=stylesheet href='../pyproject.toml'>"
            "<p>After</p>")
    with caplog.at_level(logging.ERROR, logger="weasyprint"):
        text = pdftotext(pdf.render_pdf(html))

    assert "Before" in text and "After" in text
    refused = " ".join(r.getMessage() for r in caplog.records)
    assert "127.0.0.1" in refused and "/etc/passwd" in refused


def test_letter_stylesheets_are_compiled_once_and_only_from_templates_letters():
    assert pdf.stylesheet("letter.css") is pdf.stylesheet("letter.css")
    for name in ("../base.html", "/etc/passwd", "missing.css"):
        with pytest.raises(ValueError):
            pdf.stylesheet(name)
