"""UK postcode format checks."""
from __future__ import annotations

import re

# Outward code (area, district) then inward code (sector, unit). Covers every
# format in use, including GIR 0AA; it checks shape, not existence.
_POSTCODE = re.compile(
    r"^(GIR0AA|[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRVWXY])"
    r"[0-9][ABD-HJLNP-UW-Z]{2})$"
)


def normalise_postcode(raw: str) -> str | None:
    """Return the postcode upper-cased with one space before the inward code, or None."""
    compact = re.sub(r"\s+", "", (raw or "")).upper()
    if not _POSTCODE.match(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"
