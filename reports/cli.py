"""`flask --app wsgi letters --since DATE`: every outstanding outcome letter."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    pass
