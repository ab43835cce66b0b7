"""`python -m bench --only letters` runs end to end (tiny counts), so it cannot rot."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_letters_benchmark_runs_alone_and_writes_its_results(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "letters", "--runs", "2",
         "--letter-batch", "2", "--results-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )

    assert run.returncode == 0, run.stderr
    [path] = tmp_path.glob("letters-*-sqlite.json")
    results = json.loads(path.read_text())
    assert results["parts"] == ["letters"]
    assert results["letters"]
    assert "WeasyPrint" in run.stdout or "letter" in run.stdout
