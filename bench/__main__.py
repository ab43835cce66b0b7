"""`python -m bench [--database-url URL] [--intake-count N]`: run, print a table, save JSON."""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import flask_migrate
import sqlalchemy
from sqlalchemy import inspect, text

from bench import fhir, world
from bench.timing import table
from referrals import create_app
from referrals.extensions import db

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with _database(args.database_url) as (url, where):
        app = create_app({"ENV_NAME": "production", "SECRET_KEY": "bench-only-not-a-secret",
                          "SQLALCHEMY_DATABASE_URI": url})
        try:
            _create_schema(app, provided=args.database_url is not None)
        except RuntimeError as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 2
        try:
            results = _run(app, args, where)
        finally:
            if args.database_url is not None:
                _drop_schema(app)
            with app.app_context():
                db.engine.dispose()
    _print(results)
    path = _save(results, args.results_dir)
    print(f"\nResults written to {path}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--database-url", help="An EMPTY, throwaway database (e.g. PostgreSQL) "
                        "instead of a temporary SQLite file. Its tables are dropped afterwards.")
    parser.add_argument("--intake-count", type=int, default=2000,
                        help="Bundles to POST in the intake benchmark (default 2000).")
    parser.add_argument("--runs", type=int, default=200,
                        help="Timed runs of the searchset serialisation (default 200).")
    parser.add_argument("--http-runs", type=int, default=50,
                        help="Timed runs of each GET search request (default 50).")
    parser.add_argument("--results-dir", type=Path, default=RESULTS,
                        help="Where the JSON results go (default bench/results/).")
    return parser


@contextmanager
def _database(url: str | None):
    if url:
        yield url, _redact(url)
        return
    folder = tempfile.mkdtemp(prefix="kindly-bench-")
    try:
        yield f"sqlite:///{folder}/bench.db", f"temporary SQLite file in {folder}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _redact(url: str) -> str:
    return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)


def _create_schema(app, *, provided: bool) -> None:
    with app.app_context():
        if provided and inspect(db.engine).get_table_names():
            raise RuntimeError("the database given with --database-url already has tables; "
                               "give an empty, throwaway database")
        logging.disable(logging.WARNING)  # alembic's INFO lines are not results
        try:
            flask_migrate.upgrade()
        finally:
            logging.disable(logging.NOTSET)


def _drop_schema(app) -> None:
    with app.app_context():
        db.session.remove()
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def _run(app, args, where: str) -> dict:
    started = datetime.now(UTC)
    load_before = _load()
    print(f"Kindly FHIR benchmarks on {where}", file=sys.stderr)
    data = world.build_world(app, referrals=fhir.SEARCHSET_SIZE)
    searchset = fhir.bench_searchset(app, data, runs=args.runs)
    http = fhir.bench_http(app, data, runs=args.http_runs)
    intake = fhir.bench_intake(app, data, count=args.intake_count)
    environment = _environment(app, where)
    # Other work on the machine slows every figure; the ratios to floors suffer least.
    environment["load_average"] = {"before": load_before, "after": _load()}
    return {
        "started": started.isoformat(timespec="seconds"),
        "environment": environment,
        "searchset": searchset,
        "http_search": http,
        "intake": intake,
    }


def _environment(app, where: str) -> dict:
    with app.app_context():
        dialect = db.engine.dialect
        with db.engine.connect() as conn:
            server = conn.dialect.server_version_info
    return {
        "database": where,
        "dialect": dialect.name,
        "server_version": ".".join(map(str, server)) if server else None,
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy.__version__,
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "uncommitted_changes": bool(_git("status", "--porcelain")),
    }


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parent.parent)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def _print(results: dict) -> None:
    env, s, http, intake = (results["environment"], results["searchset"],
                            results["http_search"], results["intake"])
    print(f"\nKindly FHIR benchmarks: {env['dialect']} {env['server_version'] or ''}, "
          f"Python {env['python']}, {env['cpu'] or 'unknown CPU'} ({env['cpus']} CPUs), "
          f"load average {env['load_average']['before']} -> {env['load_average']['after']}\n")

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    rows = [(
        f"Searchset, {s['resources']} resources ({s['json_bytes'] // 1024} KB): mappers + dumps",
        s["mappers_searchset_json"]["runs"], f"{s['mappers_searchset_json']['median_ms']:.2f}",
        f"{s['mappers_searchset_json']['p95_ms']:.2f}", "json.dumps, same dicts",
        f"{s['json_dumps_floor']['median_ms']:.2f}", f"{s['ratio_median']:.1f}x",
        f"{s['ratio_p95']:.1f}x",
        f"<= {s['goal_ratio']:.0f}x: {verdict(s['ratio_median'] <= s['goal_ratio'])}",
    )]
    for kind, h in http.items():
        rows.append((
            f"GET {kind} search, {h['entries']} entries (whole request)", h["request"]["runs"],
            f"{h['request']['median_ms']:.2f}", f"{h['request']['p95_ms']:.2f}",
            "raw SQL, same rows", f"{h['raw_sql_floor']['median_ms']:.2f}",
            f"{h['ratio_median']:.1f}x", f"{h['ratio_p95']:.1f}x", "(reported)",
        ))
    print(table(rows, ("measure", "runs", "median ms", "p95 ms", "floor", "floor median ms",
                       "ratio median", "ratio p95", "goal")))
    lat = intake["latency"]
    print()
    print(table([(
        f"POST /fhir transaction Bundle ({intake['bundle_bytes_median'] // 1024} KB each)",
        intake["referrals"], f"{intake['referrals_per_s']:.0f}", f"{lat['median_ms']:.1f}",
        f"{lat['p95_ms']:.1f}", f"{lat['p99_ms']:.1f}", f"{lat['max_ms']:.1f}",
        f"p95 < {intake['goal_p95_ms']:.0f} ms: {verdict(lat['p95_ms'] < intake['goal_p95_ms'])}",
    )], ("intake", "referrals", "referrals/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "goal")))
    print(f"\nSQL statements while mapping the searchset: {s['sql_statements_while_mapping']}; "
          f"mappers and bundle without json.dumps: "
          f"{s['mappers_and_bundle_only']['median_ms']:.2f} ms median.")
    for kind, h in http.items():
        counts = ", ".join(f"{k}: {v}" for k, v in h["sql_statements_per_request"].items())
        print(f"SQL statements per GET {kind} search ({counts}).")


def _save(results: dict, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = results["started"].replace(":", "").replace("-", "").replace("+0000", "Z")
    path = folder / f"fhir-{stamp}-{results['environment']['dialect']}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


if __name__ == "__main__":
    sys.exit(main())
