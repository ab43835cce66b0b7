"""`python -m bench.reports`: the period report on the county tier, against floors
measured in the same run.

- Data: `referrals.generate` at the county tier (about 67k referrals and 470k contacts),
  kept in a SQLite file between runs (`--data`, default bench/.data/county-<seed>.db; made
  when missing or with `--fresh`, a few minutes), or written into an EMPTY throwaway
  database given with `--database-url` (PostgreSQL). `--tier pcn` is the suite's smoke size.
- Measured, each `--runs` times: a practice's quarterly report (the practice with the most
  referrals in the quarter: the worst case) as its figures (`period_report.build`), as the
  page (`GET /reports/practice`, signed in as its manager) and as the PDF
  (`GET /reports/practice.pdf`); then the hub's report (every practice) the same way.
- Floors: **SQL**, the very statements the build sent, with the same parameters, replayed
  on the raw database connection (no ORM, no Python assembly): the database's own time for
  the same figures. **WeasyPrint**, the report's own HTML printed by bare WeasyPrint (no
  Flask, no figures), for the PDF.
- Goal (issue 13): the practice's quarterly page and PDF each in at most 2 s.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import flask_migrate
from sqlalchemy import event, func, select, text

from bench import BENCH_MAIL, machine
from bench.timing import Progress, Timings, ratio, table
from referrals import create_app
from referrals.auth.service import hash_password
from referrals.extensions import db
from referrals.generate.build import generate
from referrals.generate.tiers import TIERS
from referrals.models import HubCall, Practice, Referral, Role, User, Volunteer
from referrals.scopes import Period, Scope, ScopeKind
from reports import community_figures, period_report

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
DATA = ROOT / ".data"
SEED = 13
TODAY = date(2026, 11, 30)
PASSWORD = "kindly-generated"
GOAL_MS = 2000


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    url, where = _database(args)
    app = create_app({"ENV_NAME": "production", "SECRET_KEY": "bench-only-not-a-secret",
                      "SQLALCHEMY_DATABASE_URI": url, **BENCH_MAIL,
                      "NOTIFICATIONS_IN_APP_ONLY": True,
                      "MONTHLY_REPORTS": False, "JOBS_RUN": "",
                      # Sign-in is not what is measured; every report is a GET.
                      "WTF_CSRF_ENABLED": False})
    with app.app_context():
        _prepare(args, fresh=args.fresh or args.database_url is not None)
    started = datetime.now(UTC)
    load_before = machine.load_average()
    period = Period.last_quarter(args.today)
    print(f"Kindly report bench: {args.tier} tier on {where}, {period.label}", file=sys.stderr)
    results = {"started": started.isoformat(timespec="seconds"), "tier": args.tier,
               "database": where, "period": period.label, "runs": args.runs}
    with app.app_context():
        results["volumes"] = _volumes(period)
        practice = _busiest_practice(period)
        team = practice.team  # that practice's hub
        scopes = {
            "practice": (Scope(ScopeKind.PRACTICE, practice.name, (practice.id,)),
                         Role.MANAGER, {"practice_id": practice.id}, "/reports/practice"),
            "hub": (Scope(ScopeKind.HUB, team.name, tuple(p.id for p in team.practices),
                          team.id), Role.COORDINATOR, {"team_id": team.id}, "/reports/hub"),
        }
        db.session.remove()
    for name, (scope, role, owner, path) in scopes.items():
        results[name] = _measure(app, scope, period, role, owner, path, runs=args.runs)
    results["machine"] = {**machine.describe(), "load_before": load_before,
                          "load_after": machine.load_average()}
    _print(results)
    path = _save(results, args.results_dir, started)
    print(f"\nResults written to {path}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tier", choices=("county", "pcn"), default="county")
    parser.add_argument("--data", type=Path, help="The SQLite file to keep the generated data "
                        "in (default bench/.data/<tier>-<seed>.db).")
    parser.add_argument("--fresh", action="store_true", help="Generate the data again.")
    parser.add_argument("--database-url", help="An EMPTY, throwaway database (PostgreSQL) to "
                        "generate into instead of the SQLite file; left as it is afterwards.")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--today", type=date.fromisoformat, default=TODAY,
                        help="The generated data's today; the report is its last quarter.")
    parser.add_argument("--runs", type=int, default=5, help="Timed runs of each measure.")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    return parser


def _database(args) -> tuple[str, str]:
    if args.database_url:
        return args.database_url, "the database given"
    path = args.data or DATA / f"{args.tier}-{args.seed}.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    if args.fresh and path.exists():
        path.unlink()
    return f"sqlite:///{path.resolve()}", f"SQLite file {path}"


def _prepare(args, *, fresh: bool) -> None:
    flask_migrate.upgrade()
    held = db.session.scalar(select(func.count(Referral.id)))
    db.session.remove()  # the generator writes on a connection of its own
    if held:
        if not fresh:
            _community(args)  # data kept from before issue 15 has none yet
            return
        raise SystemExit("bench.reports: the database already holds referrals; give an "
                         "empty one (or --fresh for the SQLite file)")
    progress = Progress(f"generating the {args.tier} tier", TIERS[args.tier].referrals)
    generate(db.engine, TIERS[args.tier], seed=args.seed, today=args.today,
             password_hash=hash_password(PASSWORD), progress=progress.update)
    progress.done()
    _community(args)
    with db.engine.begin() as connection:  # fresh statistics, as a DBA would keep them
        connection.execute(text("ANALYZE"))


# --- issue 15 (numbers): the hub's volunteers, hours and calls at the tier's scale ---------


def _community(args) -> None:
    from bench import community

    if db.session.scalar(select(Volunteer.id).limit(1)) is not None:
        return
    written = community.add(TIERS[args.tier], today=args.today, seed=args.seed)
    db.session.commit()
    db.session.remove()
    print(f"Added {written['volunteers']:,} volunteers, {written['hours']:,} logged hours "
          f"and {written['calls']:,} hub calls.", file=sys.stderr)


def _volumes(period: Period) -> dict:
    count = db.session.scalar
    return {"referrals": count(select(func.count(Referral.id))),
            "practices": count(select(func.count(Practice.id))),
            "referrals_in_period": count(select(func.count(Referral.id)).where(
                Referral.created_at >= period.starts_at,
                Referral.created_at < period.ends_before)),
            # issue 15 (numbers)
            "volunteers": count(select(func.count(Volunteer.id))),
            "hub_calls": count(select(func.count(HubCall.id)))}


def _busiest_practice(period: Period) -> Practice:
    practice_id = db.session.scalars(
        select(Referral.practice_id)
        .where(Referral.created_at >= period.starts_at, Referral.created_at < period.ends_before)
        .group_by(Referral.practice_id).order_by(func.count().desc(), Referral.practice_id)
        .limit(1)).one()
    return db.session.get(Practice, practice_id)


# --- one scope's measures ------------------------------------------------------------------


def _measure(app, scope: Scope, period: Period, role: Role, owner: dict, path: str, *,
             runs: int) -> dict:
    query = f"from={period.start.isoformat()}&to={period.end.isoformat()}"
    if scope.kind is ScopeKind.PRACTICE:
        query += f"&practice={scope.practice_ids[0]}"
    with app.app_context():
        statements = _statements_of(lambda: period_report.build(scope, period))
        # Issue 15: the hub's community section, one statement per figure group (they
        # are among `statements` above, so in the SQL floor too).
        community = _statements_of(lambda: community_figures.build(scope, period)) \
            if scope.kind is ScopeKind.HUB else []
        html = period_report.pdf_document(period_report.build(scope, period))
        reader = _sign_in(app, role, owner)
    from weasyprint import HTML

    from reports.pdf import stylesheet

    def build():
        with app.app_context():
            period_report.build(scope, period)
            db.session.remove()

    def sql_floor():
        with app.app_context():
            _replay(statements)

    def page():
        response = reader.get(f"{path}?{query}")
        assert response.status_code == 200, response.status_code

    def pdf():
        response = reader.get(f"{path}.pdf?{query}")
        assert response.status_code == 200 and response.data.startswith(b"%PDF-")

    def bare_weasyprint():
        HTML(string=html).write_pdf(stylesheets=[stylesheet(name) for name in
                                                 period_report.PDF_STYLESHEETS])

    label = scope.kind.value
    timings = {name: _time(f"{label} {name}", fn, runs) for name, fn in (
        ("sql floor", sql_floor), ("build", build), ("page", page), ("pdf", pdf),
        ("bare weasyprint", bare_weasyprint))}
    floor, wp = timings["sql floor"].median_ms, timings["bare weasyprint"].median_ms
    return {
        "scope": scope.label, "statements": len(statements),
        "community_statements": sum(text.lstrip().upper().startswith("SELECT")
                                    for text, _ in community),  # not SQLite's BEGIN
        **{name: t.as_dict() for name, t in timings.items()},
        "build_over_sql": ratio(timings["build"].median_ms, floor),
        "page_over_sql": ratio(timings["page"].median_ms, floor),
        "pdf_over_sql": ratio(timings["pdf"].median_ms, floor),
        "pdf_over_bare_weasyprint": ratio(timings["pdf"].median_ms, wp),
        "goal_ms": GOAL_MS,
        "goal_met": timings["page"].median_ms <= GOAL_MS and timings["pdf"].median_ms <= GOAL_MS,
    }


def _statements_of(fn) -> list[tuple[str, object]]:
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
        db.session.remove()
    return seen


def _replay(statements) -> None:
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
            cursor.fetchall()
        cursor.close()
        raw.rollback()
    finally:
        raw.close()


def _sign_in(app, role: Role, owner: dict):
    user = db.session.scalars(select(User).filter_by(role=role, active=True, **owner)
                              .order_by(User.id)).first()
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"  # the cookies are HTTPS-only
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, f"could not sign in as {user.email}"
    db.session.remove()
    return client


def _time(label: str, fn, runs: int) -> Timings:
    fn()  # warm: templates compiled, pages cached by the database
    seconds, progress = [], Progress(label, runs)
    for i in range(runs):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
        progress.update(i + 1)
    progress.done()
    return Timings.of(seconds)


# --- output ---------------------------------------------------------------------------------


def _print(results: dict) -> None:
    print(f"\nReport bench: {results['tier']} tier ({results['volumes']['referrals']:,} "
          f"referrals; {results['volumes']['referrals_in_period']:,} in {results['period']}) "
          f"on {results['database']}, {results['runs']} runs each")
    rows = []
    for name in ("practice", "hub"):
        r = results[name]
        for measure, against in (("sql floor", ""), ("build", f"{r['build_over_sql']}x SQL"),
                                 ("page", f"{r['page_over_sql']}x SQL"),
                                 ("pdf", (f"{r['pdf_over_sql']}x SQL, "
                                         f"{r['pdf_over_bare_weasyprint']}x bare WeasyPrint")),
                                 ("bare weasyprint", "")):
            t = r[measure]
            rows.append((f"{name}: {measure}", f"{t['median_ms']:.0f}", f"{t['p95_ms']:.0f}",
                         against))
        rows.append((f"{name}: goal (page and PDF <= {GOAL_MS} ms)",
                     "met" if r["goal_met"] else "NOT met", "", f"{r['statements']} statements"))
    print(table(rows, ("measure", "median ms", "p95 ms", "ratio")))


def _save(results: dict, folder: Path, started: datetime) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"reports-{started:%Y%m%dT%H%M%S}-{results['tier']}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    return path


if __name__ == "__main__":
    sys.exit(main())
