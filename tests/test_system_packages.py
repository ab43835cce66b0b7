""".ci/system-packages: the one list of Debian packages, shared by `make run` and .ci/run.

Its behaviour is checked with stand-ins for dpkg, apt-get, sudo and id on PATH, so the
tests never install anything and do not depend on who runs them.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "system-packages"
PDF_PACKAGES = ["libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0",
                "fonts-liberation", "fonts-dejavu-core"]
BASH = shutil.which("bash") or "/bin/bash"


def fake(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!{BASH}\n{body}\n")
    path.chmod(0o755)


@pytest.fixture
def machine(tmp_path):
    """A PATH of stand-ins: `machine(missing=[...], uid=..., sudo=...)` sets them up and
    returns a function running the script there; apt-get writes what it was asked to
    `apt.log`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"
    os.symlink(shutil.which("env"), bin_dir / "env")

    def setup(*, missing=(), uid=1000, sudo="none", dpkg=True):
        if dpkg:
            cases = " ".join(missing) or "none-missing"
            fake(bin_dir, "dpkg", f'for p in {cases}; do [ "$2" = "$p" ] && exit 1; done; exit 0')
        fake(bin_dir, "id", f"echo {uid}")
        fake(bin_dir, "apt-get", f'echo "${{DEBIAN_FRONTEND:+$DEBIAN_FRONTEND }}apt-get $*" >> {log}')
        if sudo == "passwordless":
            fake(bin_dir, "sudo", f'[ "$1" = "-n" ] && exit 0; echo sudo >> {log}; "$@"')
        elif sudo == "asks":
            fake(bin_dir, "sudo", "exit 1")

        def run(*args):
            result = subprocess.run([BASH, str(SCRIPT), *args], env={"PATH": str(bin_dir)},
                                    capture_output=True, text=True, timeout=30, check=False)
            return result, (log.read_text().splitlines() if log.exists() else [])

        return run

    return setup


def test_nothing_missing_says_nothing_and_installs_nothing(machine):
    result, apt = machine(missing=[])("--install", "pdf")

    assert (result.returncode, result.stdout, result.stderr, apt) == (0, "", "", [])


def test_without_the_right_to_install_it_stops_with_the_exact_command(machine):
    result, apt = machine(missing=["libpango-1.0-0", "fonts-liberation"], sudo="asks")(
        "--install", "pdf")

    assert result.returncode == 1
    assert ("sudo apt-get update && sudo apt-get install -y --no-install-recommends "
            "libpango-1.0-0 fonts-liberation") in result.stderr
    assert apt == []


def test_as_root_it_installs_what_is_missing(machine):
    result, apt = machine(missing=["libharfbuzz-subset0"], uid=0)("--install", "pdf")

    assert result.returncode == 0, result.stderr
    assert apt == ["apt-get update -qq",
                   ("noninteractive apt-get install -y --no-install-recommends "
                    "libharfbuzz-subset0 -qq")]


def test_with_passwordless_sudo_it_installs_through_sudo(machine):
    result, apt = machine(missing=["poppler-utils"], sudo="passwordless")("--install", "test")

    assert result.returncode == 0, result.stderr
    assert apt == ["sudo", "apt-get update -qq", "sudo",
                   "noninteractive apt-get install -y --no-install-recommends poppler-utils -qq"]


def test_without_install_it_only_reports(machine):
    result, apt = machine(missing=PDF_PACKAGES, uid=0)("pdf")

    assert result.returncode == 1
    assert f"apt-get install -y --no-install-recommends {' '.join(PDF_PACKAGES)}" in result.stderr
    assert apt == []


def test_without_dpkg_it_says_it_cannot_check(machine):
    result, apt = machine(dpkg=False)("--install", "pdf")

    assert result.returncode == 0  # `make run` then prints a PDF to find out
    assert "no dpkg here" in result.stderr and apt == []


def test_make_run_and_ci_share_the_one_list():
    makefile = (ROOT / "Makefile").read_text()
    ci = (ROOT / ".ci" / "run").read_text()

    assert ".ci/system-packages --install pdf" in makefile
    assert ".ci/system-packages --install pdf test" in ci
    for package in [*PDF_PACKAGES, "poppler-utils"]:
        assert package in SCRIPT.read_text()
        assert package not in makefile and package not in ci, f"{package} listed twice"


def test_make_run_installs_the_pdf_packages_and_prints_a_pdf_before_serving():
    dry_run = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True,
                             timeout=60, check=True).stdout

    lines = dry_run.splitlines()
    install = lines.index(".ci/system-packages --install pdf")
    assert any("-m reports.readiness" in line for line in lines[install:])
    assert install < next(i for i, line in enumerate(lines) if " run --host" in line)
