"""Report charts: pygal draws them, then this module makes the SVG safe to inline in a
page under Kindly's Content-Security-Policy and in a WeasyPrint PDF.

pygal's output links a script (from a CDN unless told otherwise) and carries a <style>
element and style attributes, all of which the page's policy refuses (script-src and
style-src 'self'). So the script, the style, the tooltips it drives and pygal's hidden
tooltip data are taken out, and the look is given as SVG presentation attributes
instead, which are not CSS and read the same in a browser and in WeasyPrint.

Every chart draws only figures that suppression shows: a hidden count gets no bar (a bar
would give its size away) and is named in the chart's note instead. Each chart has one
series in one colour, with its value printed at the end of each bar and its label on the
axis, so nothing depends on colour and it reads the same printed in grey.
"""
from __future__ import annotations

import base64
import html
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree import ElementTree as ET

import pygal

from reports.suppression import Cell

# pygal appends an import hook for its map plugins that has no find_spec, so from then on
# every failed import anywhere in the process raises an ImportWarning. Kindly draws no
# maps: take the hook out again.
sys.meta_path[:] = [finder for finder in sys.meta_path
                    if not isinstance(finder, pygal.PluginImportFixer)]

SVG = "{http://www.w3.org/2000/svg}"
ET.register_namespace("", SVG[1:-1])
FONT = "Arial, Helvetica, sans-serif"
INK = "#212b32"  # NHS.UK text colour
BAR = "#005eb8"  # NHS blue: 7.0:1 on white, and a mid grey when printed in grey
GRID = "#d8dde0"
AXIS = "#4c6272"
# What pygal adds only for its script: tooltips and their data.
_DROP_CLASSES = ("tooltip-overlay", "overlay")


@dataclass(frozen=True)
class Chart:
    """An inline SVG (no script, no CSS) and a note of what it could not draw."""

    svg: str
    not_drawn: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """What the chart's aria-label says (the image's alt text in print)."""
        found = re.search(r'aria-label="([^"]*)"', self.svg)
        return html.unescape(found.group(1)) if found else "Bar chart"

    @property
    def data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()

    @property
    def note(self) -> str:
        if not self.not_drawn:
            return ""
        return ("Not drawn, to protect small numbers (see the table): "
                + ", ".join(self.not_drawn) + ".")


def bar_chart(title: str, rows: Sequence[tuple[str, Cell]], *, unit: str = "") -> Chart:
    """A horizontal bar per row that suppression shows and that is not zero (the table
    has the zeros); rows with a hidden value are listed in the note instead of drawn.
    Nothing to draw: no SVG, only the note."""
    shown = [(label, cell) for label, cell in rows if not cell.hidden and cell.value]
    not_drawn = tuple(f"{label} ({cell.text})" for label, cell in rows
                      if cell.hidden and cell.value)
    if not shown:
        return Chart("", not_drawn)
    height = 90 + 34 * max(len(shown), 1)
    chart = pygal.HorizontalBar(
        js=[], css=[], width=640, height=height, show_legend=False, print_values=True,
        print_values_position="top", disable_xml_declaration=True, explicit_size=False,
        show_y_guides=False, margin=8, spacing=8, truncate_label=-1, min_scale=2,
        value_formatter=lambda v: f"{v:,.0f}{unit}" if float(v).is_integer()
        else f"{v:,.1f}{unit}", no_data_text="Nothing to draw")
    chart.title = title
    # pygal draws the first row at the bottom; reversed, the chart reads like its table.
    chart.x_labels = [label for label, _ in reversed(shown)]
    chart.add(title, [cell.value for _, cell in reversed(shown)])
    return Chart(_clean(chart.render_tree(), title), not_drawn)


def _clean(root: ET.Element, title: str) -> str:
    for parent in list(root.iter()):
        for child in list(parent):
            classes = (child.get("class") or "").split()
            if child.tag is ET.Comment or _local(child.tag) in ("script", "style", "desc") \
                    or any(c in classes for c in _DROP_CLASSES):
                parent.remove(child)
    for element in root.iter():
        element.attrib.pop("style", None)
        _paint(element)
    # Anchors pygal leaves to its stylesheet: labels end at the axis, titles centre.
    for axis in root.iter():
        classes = (axis.get("class") or "").split()
        if "axis" in classes:
            anchor = "end" if "y" in classes else "middle"
            for text in axis.iter():
                if _local(text.tag) == "text":
                    text.set("text-anchor", anchor)
        elif "title" in classes:
            axis.set("text-anchor", "middle")
        elif "value" in classes and _local(axis.tag) == "text":
            # Just past the end of the bar, where it can be read in any colour or grey.
            axis.set("text-anchor", "start")
            axis.set("x", f"{float(axis.get('x', '0')) + 6:.1f}")
    root.attrib.pop("id", None)
    root.set("class", "kindly-chart")
    root.set("role", "img")
    root.set("aria-label", f"Bar chart: {title}. The same figures are in the table.")
    root.set("width", "100%")
    root.set("preserveAspectRatio", "xMinYMin meet")
    root.set("font-family", FONT)
    return ET.tostring(root, encoding="unicode", short_empty_elements=True)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _paint(element: ET.Element) -> None:
    classes = set((element.get("class") or "").split())
    tag = _local(element.tag)
    if tag == "rect" and "background" in classes:
        element.set("fill", "#ffffff")
    elif tag == "rect" and "reactive" in classes:
        element.set("fill", BAR)
        element.set("stroke", "none")
    elif tag == "path" and "line" in classes:
        element.set("fill", "none")
        element.set("stroke", GRID if "guide" in classes else AXIS)
        element.set("stroke-width", "1")
    elif tag == "text":
        element.set("fill", INK)
        size = "17" if "title" in classes else "14" if "value" in classes else "13"
        element.set("font-size", size)
        if "title" in classes or "value" in classes:
            element.set("font-weight", "bold")
