"""`python -m bench.load`: many people at once against a real Kindly server.

Starts the server as its operators do (bench/servers.py: `flask --app wsgi run` on a fresh
SQLite database, as `make run`; or with --postgres, gunicorn with several workers on a
throwaway PostgreSQL cluster), seeds the demo town, and lets N simulated people
(bench/users.py) work for a while: signing in, referring, recording contacts, listing,
POSTing FHIR Bundles. Reports per route the count, p50, p95, max, 5xx and other errors,
each also as a ratio to a floor measured in the same run (`GET /healthz` one at a time
before the load), checks the server's log for "database is locked" and the database for
every write it answered as made, and writes JSON to bench/results/. Exits 1 on any 5xx,
request with no answer, "database is locked" or lost write.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy
from sqlalchemy import text

from bench import machine, servers
from bench.timing import Timings, ratio, table
from bench.users import (
    Browser,
    Context,
    NhsNumbers,
    Recorder,
    RequestFailed,
    Sample,
    roles,
    warm_up,
    work,
)
from referrals.config import database_url as normalised

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_CLIENTS = {"sqlite": 30, "postgresql": 50}
FLOOR_RUNS = 50
FLOOR_ROUTE = "GET /healthz (one at a time, before the load)"
PROBE_ROUTE = "GET /healthz (during the load)"
LOCKED = "database is locked"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    dialect = "postgresql" if args.postgres or args.database_url else "sqlite"
    clients = args.clients or DEFAULT_CLIENTS[dialect]
    started = datetime.now(UTC)
    load_before = machine.load_average()
    print(f"Kindly load: {clients} people for {args.duration:g} s on {dialect}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="kindly-load-") as folder:
        try:
            with _server(args, Path(folder), clients) as server:
                print(f"  serving on {server.url}: {server.kind}", file=sys.stderr)
                result = run(server, clients=clients, duration=args.duration,
                             think_ms=args.think_ms, timeout=args.timeout, seed=args.seed)
                log = server.log_text()  # before the server's folder goes
        except RuntimeError as exc:
            print(f"bench.load: {exc}", file=sys.stderr)
            return 2
    result["server_log"] = scan_log(log)
    result["passed"] = passed(result)
    results = {"started": started.isoformat(timespec="seconds"), "parts": ["load"],
               "load": result,
               "environment": {"database": result["database"], "dialect": dialect,
                               **machine.describe(),
                               "load_average": {"before": load_before,
                                                "after": machine.load_average()}}}
    print(report(result))
    path = save(results, args.results_dir)
    path.with_suffix(".log").write_text(log)
    print(f"\nResults written to {path} (the server's log beside it)")
    return 0 if result["passed"] else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, help="People at once (default 30 on SQLite, "
                        "50 on gunicorn + PostgreSQL).")
    parser.add_argument("--duration", type=float, default=60.0,
                        help="Seconds of load (default 60).")
    parser.add_argument("--postgres", action="store_true", help="gunicorn on a throwaway "
                        "PostgreSQL cluster started here (initdb, pg_ctl) instead of make "
                        "run's server on SQLite.")
    parser.add_argument("--database-url", help="gunicorn on this EMPTY, throwaway PostgreSQL "
                        "database instead of a cluster of its own; its tables are dropped "
                        "afterwards.")
    parser.add_argument("--workers", type=int, default=5,
                        help="gunicorn workers (default 5: 2 x 2 cores + 1).")
    parser.add_argument("--think-ms", type=float, default=0.0, help="Mean pause between one "
                        "person's actions, in ms (default 0: each works flat out).")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="Seconds a request may take before it counts as no answer.")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--results-dir", type=Path, default=RESULTS,
                        help="Where the JSON results go (default bench/results/).")
    return parser


@contextmanager
def _server(args, folder: Path, clients: int):
    if args.database_url:
        url = normalised(args.database_url)
        where = sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
        with servers.gunicorn_server(folder, url, workers=args.workers, where=where,
                                     people=clients) as server:
            yield server
    elif args.postgres:
        with servers.postgres_cluster() as url, servers.gunicorn_server(
                folder, url, workers=args.workers, people=clients,
                where="throwaway PostgreSQL cluster (Unix socket)") as server:
            yield server
    else:
        with servers.sqlite_server(folder, people=clients) as server:
            yield server


# --- the run -----------------------------------------------------------------------------


def run(server: servers.Server, *, clients: int, duration: float, think_ms: float,
        timeout: float, seed: int) -> dict:
    """A warm-up round of each kind of person, the floor, then `clients` people for
    `duration` seconds with /healthz probed alongside; then the database is checked for
    every write answered as made."""
    recorder = Recorder()
    ctx = Context(base_url=server.url, recorder=recorder,
                  numbers=NhsNumbers(server.nhs_numbers_in_use, seed=seed),
                  api_token=server.api_token, password=servers.DEMO_PASSWORD,
                  deadline=0.0, think_s=think_ms / 1000, timeout=timeout)
    warm_up(replace(ctx, deadline=time.monotonic() + 120))
    floor = _floor(server.url, timeout=timeout)
    before = _rows(server.database_url)
    deadline = ctx.deadline = time.monotonic() + duration
    people = list(roles(clients))
    threads = [threading.Thread(target=work, args=(role, email, ctx, seed + i), daemon=True,
                                name=f"{role}-{i}") for i, (role, email) in enumerate(people)]
    threads.append(threading.Thread(target=_probe, args=(ctx,), daemon=True, name="probe"))
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()) + timeout + 10)
    elapsed = time.monotonic() - began
    stuck = sum(thread.is_alive() for thread in threads)
    after = _rows(server.database_url)
    samples = list(recorder.samples)
    return {
        "server": server.kind,
        "dialect": server.dialect,
        "database": server.database,
        "clients": clients,
        "people": dict(Counter(role for role, _ in people)),
        "duration_s": duration,
        "elapsed_s": round(elapsed, 1),
        "think_ms": think_ms,
        "request_timeout_s": timeout,
        "threads_still_running": stuck,
        "floor": {"what": FLOOR_ROUTE, **floor.as_dict()},
        "routes": _routes(samples, floor),
        "totals": _totals(samples, elapsed),
        "writes": {kind: {"answered_as_made": recorder.writes[kind],
                          "in_database": after[kind] - before[kind]}
                   for kind in recorder.writes},
    }


def _floor(base_url: str, *, timeout: float) -> Timings:
    """`GET /healthz` (the app, one query, JSON) one at a time on the idle server."""
    recorder = Recorder()
    browser = Browser(base_url, recorder, timeout=timeout)
    # Warm up first: each worker's first /healthz also checks PDF output once (WeasyPrint's
    # import, most of a second), and a floor must not include it. Which worker answers is
    # the kernel's choice, so go on until none has been slow for a good while.
    def once() -> float:
        try:
            browser.request("GET", "/healthz", FLOOR_ROUTE)
            return recorder.samples[-1].seconds
        except RequestFailed:
            raise RuntimeError("GET /healthz failed on the idle server") from None

    fast_in_a_row = 0
    for _ in range(1000):
        fast_in_a_row = fast_in_a_row + 1 if once() < 0.1 else 0
        if fast_in_a_row >= 100:
            break
    warm = len(recorder.samples)
    for _ in range(FLOOR_RUNS):
        once()
    return Timings.of([s.seconds for s in recorder.samples[warm:]])


def _probe(ctx: Context) -> None:
    """/healthz four times a second during the load: what a load balancer would see."""
    browser = Browser(ctx.base_url, ctx.recorder, timeout=ctx.timeout)
    while ctx.running():
        try:
            browser.request("GET", "/healthz", PROBE_ROUTE)
        except RequestFailed:
            pass
        time.sleep(0.25)


def _rows(database_url: str) -> dict[str, int]:
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return {"referrals": conn.execute(text("SELECT COUNT(*) FROM referral")).scalar_one(),
                    "contacts": conn.execute(text("SELECT COUNT(*) FROM contact")).scalar_one()}
    finally:
        engine.dispose()


def _routes(samples: list[Sample], floor: Timings) -> dict[str, dict]:
    by_route: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_route[sample.route].append(sample)
    routes = {}
    for route, mine in sorted(by_route.items(), key=lambda item: -len(item[1])):
        timing = Timings.of([s.seconds for s in mine])
        errors = Counter(s.error for s in mine if s.error)
        routes[route] = {
            "count": len(mine),
            "p50_ms": timing.median_ms, "p95_ms": timing.p95_ms, "p99_ms": timing.p99_ms,
            "max_ms": timing.max_ms,
            "ratio_p50": ratio(timing.median_ms, floor.median_ms),
            "ratio_p95": ratio(timing.p95_ms, floor.p95_ms),
            "server_errors_5xx": sum(1 for s in mine if s.status and s.status >= 500),
            "no_answer": sum(1 for s in mine if s.status is None),
            "other_errors": sum(1 for s in mine if s.error and s.status and s.status < 500),
            "errors": dict(errors),
        }
    return routes


def _totals(samples: list[Sample], elapsed: float) -> dict:
    return {
        "requests": len(samples),
        "requests_per_s": round(len(samples) / elapsed, 1) if elapsed else None,
        "server_errors_5xx": sum(1 for s in samples if s.status and s.status >= 500),
        "no_answer": sum(1 for s in samples if s.status is None),
        "other_errors": sum(1 for s in samples if s.error and s.status and s.status < 500),
    }


def scan_log(log: str) -> dict:
    """What the server said went wrong: SQLite's lock errors and any traceback."""
    return {"database_is_locked": log.count(LOCKED),
            "tracebacks": log.count("Traceback (most recent call last)")}


def passed(result: dict) -> bool:
    """No 5xx, every request answered, no lock error, and every write answered as made is
    in the database (more is fine: a write can land while its answer times out)."""
    totals, log = result["totals"], result["server_log"]
    return (totals["server_errors_5xx"] == 0 and totals["no_answer"] == 0
            and log["database_is_locked"] == 0 and result["threads_still_running"] == 0
            and all(w["in_database"] >= w["answered_as_made"]
                    for w in result["writes"].values()))


# --- the report --------------------------------------------------------------------------


def report(result: dict) -> str:
    floor = result["floor"]
    rows = [(route, r["count"], f"{r['p50_ms']:.1f}", f"{r['p95_ms']:.1f}",
             f"{r['max_ms']:.1f}", f"{r['ratio_p50']:.1f}x", f"{r['ratio_p95']:.1f}x",
             r["server_errors_5xx"], r["other_errors"] + r["no_answer"])
            for route, r in result["routes"].items()]
    totals, log, writes = result["totals"], result["server_log"], result["writes"]
    people = ", ".join(f"{n} {role}" for role, n in result["people"].items())
    lines = [
        (f"\nKindly load: {result['clients']} people ({people}) for {result['duration_s']:g} s, "
        f"{result['server']}, {result['dialect']}"),
        (f"Floor: {floor['what']}: p50 {floor['median_ms']:.1f} ms, p95 {floor['p95_ms']:.1f} "
        f"ms ({floor['runs']} runs)\n"),
        table(rows, ("route", "count", "p50 ms", "p95 ms", "max ms", "p50 / floor",
                     "p95 / floor", "5xx", "other errors")),
        "",
        (f"{totals['requests']} requests ({totals['requests_per_s']}/s): "
        f"{totals['server_errors_5xx']} 5xx, {totals['no_answer']} with no answer, "
        f"{totals['other_errors']} other errors."),
        f"Server log: {log['database_is_locked']} \"{LOCKED}\", {log['tracebacks']} tracebacks.",
        "Writes answered as made / found in the database: " + ", ".join(
            f"{kind} {w['answered_as_made']} / {w['in_database']}" for kind, w in writes.items())
        + ".",
    ]
    errors = Counter()
    for route, r in result["routes"].items():
        for error, n in r["errors"].items():
            errors[f"{route}: {error}"] += n
    if errors:
        lines.append("Errors: " + "; ".join(f"{what} x{n}" for what, n in errors.most_common()))
    lines.append("PASSED" if result["passed"] else
                 "FAILED: 5xx, unanswered requests, lock errors or lost writes (above)")
    return "\n".join(lines)


def save(results: dict, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = results["started"].replace(":", "").replace("-", "").replace("+0000", "Z")
    path = folder / f"load-{stamp}-{results['environment']['dialect']}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


if __name__ == "__main__":
    sys.exit(main())
