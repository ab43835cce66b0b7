"""What machine and code a run measured: every bench's JSON records it beside its figures."""
from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import sqlalchemy


def describe() -> dict:
    """Python, SQLAlchemy, platform, CPU and the git commit (and whether it had changes)."""
    return {
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy.__version__,
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted_changes": bool(git("status", "--porcelain")),
    }


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parent.parent)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()
