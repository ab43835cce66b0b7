"""/healthz and the admin's page say when PDF output (outcome letters) is unavailable."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from referrals import health
from referrals.models import Role
from reports import readiness

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NO_PANGO = ("cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared "
            "object file: No such file or directory")


@pytest.fixture
def pdf_check(app, monkeypatch):
    """Replace the registered checks with a PDF check answering `reason` (None: fine)."""

    def answer(reason: str | None) -> None:
        monkeypatch.setitem(app.extensions, health.CHECKS,
                            [health.Check("pdf", "PDF output", lambda: reason)])

    return answer


def test_healthz_says_pdf_output_is_ok(client, pdf_check):
    pdf_check(None)

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "pdf": "ok"}


def test_healthz_says_why_pdf_output_is_unavailable_and_stays_200(client, pdf_check):
    pdf_check(f"OSError: {NO_PANGO}")

    response = client.get("/healthz")

    # Still 200: the service works and letters wait; monitoring alerts on "degraded".
    assert response.status_code == 200
    assert response.json == {"status": "degraded", "database": "ok", "pdf": "unavailable",
                             "pdf_reason": f"OSError: {NO_PANGO}"}


def test_create_app_registers_the_pdf_check(app):
    assert [(check.name, check.run) for check in app.extensions[health.CHECKS]] == [
        ("pdf", readiness.pdf_unavailable)]


def test_the_admin_sees_that_pdf_output_is_unavailable_and_why(client, login_as, pdf_check):
    pdf_check(f"OSError: {NO_PANGO}")
    login_as(Role.ADMIN)

    page = client.get("/admin/users").get_data(as_text=True)

    assert f"PDF output unavailable: OSError: {NO_PANGO}" in page.replace("&#39;", "'")
    assert "make system-packages" in page


def test_the_admin_sees_no_warning_when_pdf_output_works(client, login_as, pdf_check):
    pdf_check(None)
    login_as(Role.ADMIN)

    page = client.get("/admin/users").get_data(as_text=True)

    assert "unavailable" not in page


def _weasyprint_loads() -> bool:
    try:
        import weasyprint  # noqa: F401  (loads Pango through cffi)
    except OSError:
        return False
    return True


def test_pdf_output_works_on_this_machine():
    if not _weasyprint_loads():
        if os.environ.get("KINDLY_REQUIRE_PDF"):
            pytest.fail("KINDLY_REQUIRE_PDF is set but WeasyPrint cannot load its libraries")
        pytest.skip("WeasyPrint cannot load its libraries here")

    assert readiness.pdf_unavailable() is None


# A process in which WeasyPrint fails to import as it does on a machine without Pango:
# cffi raises OSError from inside `import weasyprint`.
WITHOUT_PANGO = textwrap.dedent(f"""
    import importlib.abc, json, sys

    class NoPango(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "weasyprint" or name.startswith("weasyprint."):
                raise OSError({NO_PANGO!r})
            return None

    sys.meta_path.insert(0, NoPango())
    from referrals import create_app

    app = create_app({{"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://"}})
    answer = app.test_client().get("/healthz")
    print(json.dumps({{"status": answer.status_code, "body": answer.json}}))
""")


def test_healthz_on_a_machine_without_pango():
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("KINDLY_") and name not in ("DATABASE_URL", "SECRET_KEY")}
    run = subprocess.run([sys.executable, "-c", WITHOUT_PANGO], cwd=PROJECT_ROOT, env=env,
                         capture_output=True, text=True, timeout=120, check=False)

    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200
    assert answer["body"]["status"] == "degraded"
    assert answer["body"]["pdf"] == "unavailable"
    assert answer["body"]["pdf_reason"] == f"OSError: {NO_PANGO}"
