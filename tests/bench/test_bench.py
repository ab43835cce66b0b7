"""`python -m bench` still runs end to end (tiny counts), so it cannot rot unnoticed."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmarks_run_and_write_their_results(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--intake-count", "3", "--runs", "2", "--http-runs", "1",
         "--results-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )

    assert run.returncode == 0, run.stderr
    [path] = tmp_path.glob("fhir-*-sqlite.json")
    results = json.loads(path.read_text())
    assert results["searchset"]["resources"] == 200
    assert results["searchset"]["sql_statements_while_mapping"] == 0
    assert results["searchset"]["ratio_median"] > 0
    assert set(results["http_search"]) == {"ServiceRequest", "Task"}
    assert results["http_search"]["ServiceRequest"]["entries"] == 200
    assert results["intake"]["referrals"] == 3
    assert results["intake"]["stored"] == 3 + results["intake"]["warmup_not_counted"]
    assert "json.dumps" in run.stdout and "referrals/s" in run.stdout
    assert "creating referrals" in run.stderr  # progress goes to stderr
