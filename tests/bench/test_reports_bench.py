"""The report benchmark's short run, on the PCN tier (the full one is `python -m
bench.reports`, on the county tier): it generates its data, measures every part against its
floors and writes its figures."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reports import readiness

ROOT = Path(__file__).resolve().parents[2]


def test_the_report_bench_runs_on_the_pcn_tier(tmp_path):
    if (reason := readiness.pdf_unavailable()) and not os.environ.get("KINDLY_REQUIRE_PDF"):
        pytest.skip(f"PDFs cannot be made here: {reason}")
    run = subprocess.run(
        [sys.executable, "-m", "bench.reports", "--tier", "pcn", "--runs", "1",
         "--data", str(tmp_path / "pcn.db"), "--results-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    said = f"{run.stdout}\n{run.stderr[-2000:]}"
    assert run.returncode == 0, said
    [path] = tmp_path.glob("reports-*-pcn.json")
    results = json.loads(path.read_text())
    assert results["volumes"]["referrals"] == 1000, said
    for scope in ("practice", "hub"):
        measured = results[scope]
        assert measured["statements"] > 0 and measured["sql floor"]["median_ms"] > 0
        assert measured["build_over_sql"] >= 1 or measured["build"]["median_ms"] > 0
        assert measured["pdf"]["median_ms"] > 0
    assert "practice: goal" in run.stdout
    # issue 15 (numbers): the hub's community figures, one statement per figure group,
    # against volunteers and calls at the tier's scale.
    assert results["volumes"]["volunteers"] >= 10 and results["volumes"]["hub_calls"] >= 20
    assert results["hub"]["community_statements"] == 4
    assert results["practice"]["community_statements"] == 0
