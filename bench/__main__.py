"""`python -m bench [--only PART ...] [--database-url URL] [--intake-count N]`: run, print a
table, save JSON."""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import flask_migrate
import sqlalchemy
from sqlalchemy import inspect, text

from bench import BENCH_MAIL, casework, county, directory, fhir, hub, machine, matching, world
from bench.timing import table
from referrals import create_app
from referrals.extensions import db

RESULTS = Path(__file__).resolve().parent / "results"
FHIR_PARTS = ("searchset", "search", "intake")
PARTS = (*FHIR_PARTS, "casework", "matching", "directory", "letters")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with _database(args.database_url) as (url, where):
        # No mail leaves the bench (BENCH_MAIL): the scheduler bench delivers in-app only.
        app = create_app({"ENV_NAME": "production", "SECRET_KEY": "bench-only-not-a-secret",
                          "SQLALCHEMY_DATABASE_URI": url, **BENCH_MAIL,
                          "NOTIFICATIONS_IN_APP_ONLY": True,
                          # Letters are measured on their own (--only letters), not as a
                          # side effect of every referral the casework hub closes.
                          "LETTERS_ON_CLOSE": False})
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
    parser.add_argument("--only", nargs="+", choices=(*PARTS, "fhir"), metavar="PART",
                        help=f"Run only these parts: {', '.join(PARTS)}, or fhir for the "
                        "first three (default: all).")
    parser.add_argument("--runs", type=int, default=200,
                        help="Timed runs of the searchset serialisation, of routing and of "
                        "each matching measure (default 200).")
    parser.add_argument("--http-runs", type=int, default=50,
                        help="Timed runs of each GET request; the scheduler passes take a "
                        "share of it (default 50).")
    parser.add_argument("--letter-batch", type=int, default=50,
                        help="Letters in the batch measure (default 50).")
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


def _parts(only: list[str] | None) -> set[str]:
    chosen = set(only or PARTS)
    if "fhir" in chosen:
        chosen = (chosen - {"fhir"}) | set(FHIR_PARTS)
    return chosen


def _run(app, args, where: str) -> dict:
    started = datetime.now(UTC)
    load_before = machine.load_average()
    parts = _parts(args.only)
    print(f"Kindly benchmarks ({', '.join(p for p in PARTS if p in parts)}) on {where}",
          file=sys.stderr)
    results = {"started": started.isoformat(timespec="seconds"),
               "parts": [p for p in PARTS if p in parts]}
    if parts & set(FHIR_PARTS):
        data = world.build_world(app, referrals=fhir.SEARCHSET_SIZE)
        if "searchset" in parts:
            results["searchset"] = fhir.bench_searchset(app, data, runs=args.runs)
        if "search" in parts:
            results["http_search"] = fhir.bench_http(app, data, runs=args.http_runs)
        if "intake" in parts:
            results["intake"] = fhir.bench_intake(app, data, count=args.intake_count)
    if "casework" in parts:
        team = hub.build_hub(app)
        results["casework"] = casework.bench(app, team, runs=args.runs, http_runs=args.http_runs)
    if "matching" in parts:
        results["matching"] = matching.bench(runs=args.runs)
    if "letters" in parts:
        from bench import letters  # imports WeasyPrint, which needs Pango on the machine

        results["letters"] = letters.bench(app, runs=args.runs, batch=args.letter_batch)
    if "directory" in parts:
        built = county.build_directory(app)
        results["directory"] = directory.bench(app, built, runs=args.runs,
                                               http_runs=args.http_runs)
    environment = _environment(app, where)
    # Other work on the machine slows every figure; the ratios to floors suffer least.
    environment["load_average"] = {"before": load_before, "after": machine.load_average()}
    return {**results, "environment": environment}


def _environment(app, where: str) -> dict:
    with app.app_context():
        dialect = db.engine.dialect
        with db.engine.connect() as conn:
            server = conn.dialect.server_version_info
    return {
        "database": where,
        "dialect": dialect.name,
        "server_version": ".".join(map(str, server)) if server else None,
        **machine.describe(),
    }


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _print(results: dict) -> None:
    env = results["environment"]
    print(f"\nKindly benchmarks: {env['dialect']} {env['server_version'] or ''}, "
          f"Python {env['python']}, {env['cpu'] or 'unknown CPU'} ({env['cpus']} CPUs), "
          f"load average {env['load_average']['before']} -> {env['load_average']['after']}\n")
    rows = (_fhir_rows(results) + _casework_rows(results.get("casework"))
            + _matching_rows(results.get("matching")) + directory.rows(results.get("directory"))
            + _letters_rows(results.get("letters")))
    print(table(rows, ("measure", "runs", "median ms", "p95 ms", "floor", "floor median ms",
                       "ratio median", "ratio p95", "goal")))
    if "intake" in results:
        intake = results["intake"]
        lat = intake["latency"]
        print()
        print(table([(
            f"POST /fhir transaction Bundle ({intake['bundle_bytes_median'] // 1024} KB each)",
            intake["referrals"], f"{intake['referrals_per_s']:.0f}", f"{lat['median_ms']:.1f}",
            f"{lat['p95_ms']:.1f}", f"{lat['p99_ms']:.1f}", f"{lat['max_ms']:.1f}",
            (f"p95 < {intake['goal_p95_ms']:.0f} ms: "
            f"{_verdict(lat['p95_ms'] < intake['goal_p95_ms'])}"),
        )], ("intake", "referrals", "referrals/s", "p50 ms", "p95 ms", "p99 ms", "max ms",
             "goal")))
    if "casework" in results:
        first = results["casework"]["scheduler"]["first_pass"]
        print()
        print(table([(
            "scheduler.run_all, first pass of the day (in-app delivery)",
            first["timing"]["runs"], first["messages"],
            ", ".join(f"{k} {v}" for k, v in first["delivered"].items()),
            f"{first['timing']['median_ms']:.1f}", f"{first['ms_per_message']:.2f}",
            first["sql_statements"],
        )], ("scheduler", "runs", "messages", "by job", "median ms", "ms per message",
             "SQL statements")))
    print()
    if "searchset" in results:
        s = results["searchset"]
        print(f"SQL statements while mapping the searchset: {s['sql_statements_while_mapping']}; "
              f"mappers and bundle without json.dumps: "
              f"{s['mappers_and_bundle_only']['median_ms']:.2f} ms median.")
    for kind, h in results.get("http_search", {}).items():
        counts = ", ".join(f"{k}: {v}" for k, v in h["sql_statements_per_request"].items())
        print(f"SQL statements per GET {kind} search ({counts}).")
    if "casework" in results:
        cw = results["casework"]
        for name, page in (("GET /caseload", cw["caseload_page"]),
                           *((f"GET workspace {section}", result) for section, result
                             in cw["workspace_sections"].items())):
            counts = ", ".join(f"{k}: {v}" for k, v in page["sql_statements_per_request"].items())
            print(f"SQL statements per {name} ({counts}): constant: "
                  f"{_verdict(page['sql_statements_constant'])}.")
        sched = cw["scheduler"]
        print(f"SQL statements per choose_connector: {cw['routing']['sql_statements_per_call']}; "
              f"per scheduler first pass: {sched['first_pass']['sql_statements']}, "
              f"repeat pass: {sched['repeat_pass']['sql_statements']}.")
        hub = cw["hub"]
        print(f"Casework hub: {hub['connectors']} connectors, {hub['referrals_in_team']} "
              f"referrals ({hub['open_referrals']} open), {hub['contacts']} contacts, "
              f"{hub['follow_ups']} follow-ups; built in {hub['build_s']} s.")
    if "matching" in results:
        m = results["matching"]
        made = m["facts_for_all_offers"]
        print(f"Matching: facts_for over all {m['offers']} offers {made['median_ms']:.1f} ms "
              f"median (made once, then ranked many times); best for the first person: "
              f"{m['sample'][0] if m['sample'] else '(none)'}.")


def _fhir_rows(results: dict) -> list[tuple]:
    rows = []
    if "searchset" in results:
        s = results["searchset"]
        rows.append((
            (f"Searchset, {s['resources']} resources ({s['json_bytes'] // 1024} KB): "
            "mappers + dumps"),
            s["mappers_searchset_json"]["runs"], f"{s['mappers_searchset_json']['median_ms']:.2f}",
            f"{s['mappers_searchset_json']['p95_ms']:.2f}", "json.dumps, same dicts",
            f"{s['json_dumps_floor']['median_ms']:.2f}", f"{s['ratio_median']:.1f}x",
            f"{s['ratio_p95']:.1f}x",
            f"<= {s['goal_ratio']:.0f}x: {_verdict(s['ratio_median'] <= s['goal_ratio'])}",
        ))
    for kind, h in results.get("http_search", {}).items():
        rows.append((
            f"GET {kind} search, {h['entries']} entries (whole request)", h["request"]["runs"],
            f"{h['request']['median_ms']:.2f}", f"{h['request']['p95_ms']:.2f}",
            "raw SQL, same rows", f"{h['raw_sql_floor']['median_ms']:.2f}",
            f"{h['ratio_median']:.1f}x", f"{h['ratio_p95']:.1f}x", "(reported)",
        ))
    return rows


def _casework_rows(cw: dict | None) -> list[tuple]:
    if cw is None:
        return []
    page, route = cw["caseload_page"], cw["routing"]
    repeat = cw["scheduler"]["repeat_pass"]

    def row(label, timing, floor_label, floor, ratio_median, ratio_p95, goal):
        return (label, timing["runs"], f"{timing['median_ms']:.2f}", f"{timing['p95_ms']:.2f}",
                floor_label, f"{floor['median_ms']:.2f}", f"{ratio_median:.1f}x",
                f"{ratio_p95:.1f}x", goal)

    def page_goal(result):
        return f"<= 10x + 5 = {result['goal_ms']:.1f} ms: {_verdict(result['goal_met'])}"

    return [
        row(f"GET /caseload, {page['referrals_shown']} referrals (whole request)",
            page["request"], "raw SQL, same rows", page["raw_sql_floor"], page["ratio_median"],
            page["ratio_p95"], page_goal(page)),
        *(row(f"GET workspace {section}, {ws['contacts']} contacts + {ws['follow_ups']} "
              "follow-ups (whole request)", ws["request"],
              f"raw SQL, its {ws['floor_queries']} queries", ws["raw_sql_floor"],
              ws["ratio_median"], ws["ratio_p95"], page_goal(ws))
          for section, ws in cw["workspace_sections"].items()),
        row(f"routing.choose_connector, {route['connectors']} connectors, "
            f"{route['referrals_in_team']} referrals", route["call"],
            "raw SQL, one aggregate", route["raw_sql_floor"], route["ratio_median"],
            route["ratio_p95"], page_goal(route)),
        row("scheduler.run_all repeat pass (delivers 0)", repeat["timing"],
            "raw SQL, the jobs' selects", repeat["raw_sql_floor"], repeat["ratio_median"],
            repeat["ratio_p95"], "(reported)"),
    ]


def _matching_rows(m: dict | None) -> list[tuple]:
    if m is None:
        return []
    return [(
        f"matching.rank, {r['offers']} offers: {r['label']} ({r['returned']} returned)",
        r["rank"]["runs"], f"{r['rank']['median_ms']:.2f}", f"{r['rank']['p95_ms']:.2f}",
        "same loop, no scoring", f"{r['floor']['median_ms']:.2f}", f"{r['ratio_median']:.1f}x",
        f"{r['ratio_p95']:.1f}x", f"< {r['goal_ms']:.0f} ms: {_verdict(r['goal_met'])}",
    ) for r in m["measures"]]


def _letters_rows(result: dict | None) -> list[tuple]:
    if result is None:
        return []
    from bench import letters

    return letters.rows(result)


def _save(results: dict, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = results["started"].replace(":", "").replace("-", "").replace("+0000", "Z")
    # fhir-* whenever a FHIR part ran (the end-to-end test looks for that name).
    kind = "fhir" if set(results["parts"]) & set(FHIR_PARTS) else results["parts"][0]
    path = folder / f"{kind}-{stamp}-{results['environment']['dialect']}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


if __name__ == "__main__":
    sys.exit(main())
