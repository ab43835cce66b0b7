"""Can this process print letters? Asked by /healthz and the admin's page.

On a machine without Pango, WeasyPrint fails as it is imported (cffi cannot load the
library), so every letter stays outstanding and only a log line says why. This check
imports WeasyPrint and prints a tiny document once per process, and says plainly why not
when it cannot. The first call pays for importing WeasyPrint (a second or more), as the
first letter would. Installing the libraries needs a restart, as the import itself does.
"""
from __future__ import annotations

from functools import cache

MAX_REASON = 300


@cache
def pdf_unavailable() -> str | None:
    """None when PDFs can be made in this process, otherwise the reason they cannot."""
    try:
        from reports.pdf import render_pdf

        pdf = render_pdf("<!doctype html><p>Kindly</p>")
    except Exception as exc:  # noqa: BLE001  (OSError from cffi, or whatever else fails)
        first_line = (str(exc).strip().splitlines() or [""])[0]
        return f"{type(exc).__name__}: {first_line}"[:MAX_REASON]
    if not pdf.startswith(b"%PDF-"):
        return "WeasyPrint returned something that is not a PDF"
    return None


def main() -> int:
    """`python -m reports.readiness` (run by `make run`): exit 1, saying why, when PDF
    output does not work in this environment."""
    import sys

    if reason := pdf_unavailable():
        print(f"PDF output unavailable: {reason}\n"
              "Outcome letters cannot be printed until the system libraries WeasyPrint "
              "needs are installed (see .ci/system-packages and the README).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
