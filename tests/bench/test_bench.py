"""`python -m bench` still runs end to end (tiny counts), so it cannot rot unnoticed."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmarks_run_and_write_their_results(tmp_path):
    run = subprocess.run(
        # Matching, directory and letters have tests of their own (letters under
        # tests/reports, which need WeasyPrint's libraries).
        [sys.executable, "-m", "bench", "--only", "fhir", "casework", "--intake-count", "3",
         "--runs", "2", "--http-runs", "1", "--results-dir", str(tmp_path)],
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


def test_the_matching_benchmark_runs_alone_and_writes_its_results(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "matching", "--runs", "3",
         "--results-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )

    assert run.returncode == 0, run.stderr
    [path] = tmp_path.glob("matching-*-sqlite.json")
    results = json.loads(path.read_text())
    assert results["parts"] == ["matching"]
    matching = results["matching"]
    assert matching["offers"] == 2000
    assert len(matching["measures"]) == 6
    for measure in matching["measures"]:
        assert measure["rank"]["runs"] == measure["floor"]["runs"] == 3
        assert measure["ratio_median"] > 0 and measure["goal_ms"] == 10.0
        assert 0 < measure["returned"] <= measure["suggested"] < measure["offers"]
    assert "matching.rank" in run.stdout and "same loop, no scoring" in run.stdout
    assert "building the matching directory" in run.stderr  # progress goes to stderr


def test_the_directory_benchmark_runs_alone_and_writes_its_results(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "directory", "--runs", "2", "--http-runs", "1",
         "--results-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )

    assert run.returncode == 0, run.stderr
    [path] = tmp_path.glob("directory-*-sqlite.json")
    results = json.loads(path.read_text())
    assert results["parts"] == ["directory"]
    directory = results["directory"]
    for name in ("search_postcode", "search_words", "public_page", "openreferral_services",
                 "openreferral_service"):
        assert directory[name].get("available", True), directory[name]
        assert directory[name]["ratio_median"] > 0
    assert "raw SQL" in run.stdout
