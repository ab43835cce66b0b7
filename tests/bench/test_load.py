"""The load benchmark's short run: a few people at once against `make run`'s server on
SQLite get no 5xx and no "database is locked", and every write they were told was made is
in the database. (The full run is `python -m bench.load`: 30 people for 60 s.)"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Enough people and time to show writers colliding on code without WAL and BEGIN
# IMMEDIATE (it failed there every time), short enough for the suite.
CLIENTS, SECONDS = 10, 8


def test_a_few_people_at_once_on_sqlite_get_no_5xx_and_no_lock_errors(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "bench.load", "--clients", str(CLIENTS), "--duration",
         str(SECONDS), "--results-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )

    [path] = tmp_path.glob("load-*-sqlite.json")
    load = json.loads(path.read_text())["load"]
    said = f"{run.stdout}\n{run.stderr[-2000:]}"
    assert load["server_log"]["database_is_locked"] == 0, said
    assert load["totals"]["server_errors_5xx"] == 0, said
    assert load["totals"]["no_answer"] == 0, said
    for kind, writes in load["writes"].items():
        assert writes["in_database"] >= writes["answered_as_made"], (kind, said)
    assert run.returncode == 0, said
    # The people really worked: signed in and wrote (on a busy machine not every kind of
    # write happens within a few seconds, so any will do).
    staff = sum(n for role, n in load["people"].items() if role != "api")  # api: a token
    assert load["routes"]["POST /login"]["count"] >= staff > 0, said
    assert sum(w["answered_as_made"] for w in load["writes"].values()) > 0, said
    assert load["floor"]["median_ms"] > 0
    assert "p50 / floor" in run.stdout  # the printed table
