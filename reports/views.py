"""The practice's outcome letters: the inbox, the PDF download, and producing a letter
on demand."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("letters", __name__)
