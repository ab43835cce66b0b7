"""Casework benchmarks on a hub of eight connectors, each against a floor measured in the
same process and run.

1. My caseload: the whole `GET /caseload` for a connector holding 40 active referrals,
   against raw SQL for the rows the page is built from; and its SQL statement count for
   20 and for 40 referrals, which must be equal.
2. The referral workspace, section by section (`GET /caseload/referrals/<id>` is the
   summary; then /contacts, /follow-ups, /sharing-and-risks, /history) for a referral with
   12 contacts and 5 follow-ups, each against raw SQL for the rows that section shows.
3. Routing: `routing.choose_connector` for the team, against one raw SQL aggregate
   counting open referrals per connector.
4. A scheduler pass: `scheduler.run_all` the first time in a day (it delivers, in-app
   only) and again at the same instant (everything is claimed: it must deliver nothing),
   the repeat against raw SQL of the jobs' selects.

The hub they run on is built in bench/hub.py.
"""
from __future__ import annotations

import re
import time
from datetime import date

from flask import Flask

from bench.hub import CASELOADS, PASSWORD, SMALL_WORKSPACE, WORKSPACE, Hub
from bench.timing import Progress, Timings, counting_statements, ratio, timed_pair
from referrals import routing, scheduler
from referrals.extensions import db
from referrals.models import OPEN_STATUSES, FollowUpStatus, ReferralStatus, Role

# A page meets its goal at <= 10x its raw SQL floor plus ~5 ms of fixed framework cost.
GOALS = {"page_ratio": 10.0, "page_fixed_ms": 5.0}
# Production's session cookie is Secure, so the test client must ask over https.
BASE_URL = "https://localhost"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
_REFERENCE = re.compile(r"KND-\d{4}-\d{6}")


# --- signing in --------------------------------------------------------------------------


def signed_in(app: Flask, email: str):
    """A test client signed in through the real login form (CSRF token and all)."""
    client = app.test_client()
    html = client.get("/login", base_url=BASE_URL).get_data(as_text=True)
    match = _CSRF.search(html)
    if match is None:
        raise RuntimeError("no CSRF token on /login")
    # Over https Flask-WTF also wants a same-site Referer, as a browser would send.
    response = client.post("/login", base_url=BASE_URL, headers={"Referer": f"{BASE_URL}/login"},
                           data={"email": email, "password": PASSWORD,
                                 "csrf_token": match.group(1) or match.group(2)})
    if response.status_code != 302:
        raise RuntimeError(f"signing in as {email} answered {response.status_code}")
    return client


def _getter(client, url: str):
    def get():
        response = client.get(url, base_url=BASE_URL)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}: "
                               f"{response.get_data(as_text=True)[:800]}")
        return response
    return get


# --- the measurements --------------------------------------------------------------------


def bench(app: Flask, hub: Hub, *, runs: int, http_runs: int) -> dict:
    """The four measures; `http_runs` for the pages and scheduler passes, `runs` for routing."""
    with app.app_context():
        engine = db.engine
    clients = {cid: signed_in(app, hub.emails[cid]) for cid in (hub.full_id, hub.part_id)}
    return {
        "hub": hub.stats,
        "caseload_page": _caseload_page(hub, clients, engine, runs=http_runs),
        "workspace_sections": _workspace_sections(hub, clients[hub.full_id], engine,
                                                  runs=http_runs),
        "routing": _routing(app, hub, engine, runs=runs),
        "scheduler": _scheduler(app, hub, engine, runs=http_runs),
    }


def _page_result(url, response, statements, subject, floor) -> dict:
    subject_t, floor_t = Timings.of(subject), Timings.of(floor)
    goal_ms = GOALS["page_ratio"] * floor_t.median_ms + GOALS["page_fixed_ms"]
    return {
        "url": url,
        "response_bytes": len(response.get_data()),
        "sql_statements_per_request": statements,
        "sql_statements_constant": len(set(statements.values())) == 1,
        "request": subject_t.as_dict(),
        "raw_sql_floor": floor_t.as_dict(),
        "ratio_median": ratio(subject_t.median_ms, floor_t.median_ms),
        "ratio_p95": ratio(subject_t.p95_ms, floor_t.p95_ms),
        "goal_ms": round(goal_ms, 3),
        "goal_met": subject_t.median_ms <= goal_ms,
    }


_ACTIVE = ", ".join(f"'{s.value}'" for s in sorted((ReferralStatus.ACCEPTED,
                                                    ReferralStatus.IN_PROGRESS)))
_OPEN = ", ".join(f"'{s.value}'" for s in sorted(OPEN_STATUSES))
_AWAITING = ", ".join(f"'{s.value}'" for s in scheduler.AWAITING_FIRST_CONTACT)
_SCHEDULED = f"'{FollowUpStatus.SCHEDULED.value}'"


def _caseload_page(hub: Hub, clients: dict, engine, *, runs: int) -> dict:
    """GET /caseload for 40 referrals, against raw SQL for its rows: the referrals with
    their people, the next scheduled follow-up of each and the latest contact of each.
    (The page also reads the user, counts unread notifications and routed referrals, and
    writes an audit event; the floor leaves those out.)"""
    first_rows = (
        "SELECT referral.*, patient.* FROM referral JOIN patient ON patient.id = "
        f"referral.patient_id WHERE referral.team_id = {int(hub.team_id)} AND "
        f"referral.connector_id = {int(hub.full_id)} AND referral.status IN ({_ACTIVE}) "
        "ORDER BY referral.created_at, referral.id LIMIT 200"
    )

    def raw() -> list:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(first_rows).fetchall()
            ids = ",".join(str(int(row[0])) for row in rows)
            conn.exec_driver_sql(
                f"SELECT referral_id, MIN(due_on) FROM follow_up WHERE referral_id IN ({ids}) "
                f"AND status = {_SCHEDULED} GROUP BY referral_id").fetchall()
            conn.exec_driver_sql(
                f"SELECT referral_id, MAX(at) FROM contact WHERE referral_id IN ({ids}) "
                "GROUP BY referral_id").fetchall()
            return rows

    get = _getter(clients[hub.full_id], "/caseload")
    shown = len(set(_REFERENCE.findall(get().get_data(as_text=True))))
    if shown != len(raw()) or shown != CASELOADS[0]:
        raise RuntimeError(f"/caseload shows {shown} referrals; raw SQL finds {len(raw())}")
    statements = {}
    for cid, size in ((hub.part_id, CASELOADS[-1]), (hub.full_id, CASELOADS[0])):
        fetch = _getter(clients[cid], "/caseload")
        fetch()  # the first request of a session may read more
        with counting_statements(engine) as seen:
            fetch()
        statements[f"{size} referrals"] = seen[0]
    subject, floor = timed_pair(get, raw, runs=runs, warmup=min(5, runs),
                                label="GET /caseload vs raw SQL")
    result = _page_result("/caseload", get(), statements, subject, floor)
    result["referrals_shown"] = shown
    return result


# Each section of the workspace (referrals/caseload/workspace.py) against raw SQL for the
# rows that section shows: every section shows the referral and its person; then its own.
_REFERRAL_AND_PERSON = ("SELECT referral.*, patient.* FROM referral JOIN patient ON "
                        "patient.id = referral.patient_id WHERE referral.id = {rid}")
# The summary reads the contacts only while nobody has been reached (it counts the failed
# attempts, referrals.caseload.service.failed_attempts); its floor reads them likewise.
_ATTEMPTS = "SELECT * FROM contact WHERE referral_id = {rid} ORDER BY at, id"
WORKSPACE_SECTIONS = {
    "summary": ("", [
        "SELECT * FROM referral_reason WHERE referral_id = {rid}",
        _ATTEMPTS]),
    "contacts": ("/contacts", [
        "SELECT contact.*, user_account.name FROM contact LEFT JOIN user_account ON "
        "user_account.id = contact.recorded_by_id WHERE contact.referral_id = {rid} "
        "ORDER BY contact.at, contact.id"]),
    "follow-ups": ("/follow-ups", [
        "SELECT * FROM follow_up WHERE referral_id = {rid} ORDER BY due_on, id"]),
    "sharing-and-risks": ("/sharing-and-risks", []),
    "history": ("/history", [
        "SELECT referral_event.*, user_account.name FROM referral_event LEFT JOIN "
        "user_account ON user_account.id = referral_event.actor_id "
        "WHERE referral_event.referral_id = {rid} ORDER BY referral_event.at, "
        "referral_event.id",
        "SELECT connection.*, offer.name FROM connection JOIN offer ON offer.id = "
        "connection.offer_id WHERE connection.referral_id = {rid}"]),
}


def _workspace_sections(hub: Hub, client, engine, *, runs: int) -> dict:
    """GET each section of one referral's workspace, against raw SQL for the rows that
    section shows. (Each page also reads the user, the person's details to check, counts
    notifications and writes an audit event; the floors leave those out.)"""
    rid = int(hub.workspace_id)
    with engine.connect() as conn:
        shape = {table: conn.exec_driver_sql(
            f"SELECT COUNT(*) FROM {table} WHERE referral_id = {rid}").scalar_one()
            for table in ("contact", "follow_up")}
        reached = conn.exec_driver_sql(
            f"SELECT first_contact_at IS NOT NULL FROM referral WHERE id = {rid}").scalar_one()
    if shape != {"contact": WORKSPACE["contacts"], "follow_up": WORKSPACE["follow_ups"]}:
        raise RuntimeError(f"the workspace referral has {shape}, not {WORKSPACE}")
    results = {}
    for section, (tail, own) in WORKSPACE_SECTIONS.items():
        own = [sql for sql in own if not (reached and sql == _ATTEMPTS)]
        queries = [sql.format(rid=rid) for sql in (_REFERRAL_AND_PERSON, *own)]

        def raw(queries=queries) -> list:
            with engine.connect() as conn:
                rows = conn.exec_driver_sql(queries[0]).fetchall()
                for sql in queries[1:]:
                    conn.exec_driver_sql(sql).fetchall()
                return rows

        url = f"/caseload/referrals/{rid}{tail}"
        get = _getter(client, url)
        get()
        statements = {}
        for which, size in ((hub.small_workspace_id, SMALL_WORKSPACE), (rid, WORKSPACE)):
            with counting_statements(engine) as seen:
                _getter(client, f"/caseload/referrals/{which}{tail}")()
            statements[f"{size['contacts']} contacts, {size['follow_ups']} follow-ups"] = (
                seen[0])
        subject, floor = timed_pair(get, raw, runs=runs, warmup=min(5, runs),
                                    label=f"GET workspace {section} vs raw SQL")
        results[section] = _page_result(url, get(), statements, subject, floor)
        results[section]["floor_queries"] = len(queries)
        results[section].update(WORKSPACE)
    return results


def _routing(app: Flask, hub: Hub, engine, *, runs: int) -> dict:
    """choose_connector for the team (what every new referral's intake asks), against one
    raw aggregate counting open referrals per connector. (Routing also reads the
    connectors and, for fairness, recent and latest assignments in the same query.)"""
    aggregate = (
        "SELECT u.id, COUNT(r.id) FROM user_account u LEFT JOIN referral r ON "
        f"r.connector_id = u.id AND r.status IN ({_OPEN}) WHERE u.team_id = "
        f"{int(hub.team_id)} AND u.role = '{Role.CONNECTOR.value}' AND u.active GROUP BY u.id"
    )

    def raw() -> list:
        with engine.connect() as conn:
            return conn.exec_driver_sql(aggregate).fetchall()

    with app.app_context():
        def choose():
            chosen = routing.choose_connector(hub.team_id, on=hub.today, now=hub.now)
            db.session.rollback()  # a request ends here; the next call loads afresh
            return chosen

        chosen = choose()
        if chosen is None or len(raw()) != len(CASELOADS):
            raise RuntimeError("routing found nobody with room, or raw SQL other connectors")
        with counting_statements(engine) as seen:
            choose()
        subject, floor = timed_pair(choose, raw, runs=runs, warmup=min(20, runs),
                                    label="choose_connector vs raw SQL")
        db.session.remove()
    subject_t, floor_t = Timings.of(subject), Timings.of(floor)
    return {
        "connectors": len(CASELOADS),
        "referrals_in_team": hub.stats["referrals_in_team"],
        "sql_statements_per_call": seen[0],
        "call": subject_t.as_dict(),
        "raw_sql_floor": floor_t.as_dict(),
        "ratio_median": ratio(subject_t.median_ms, floor_t.median_ms),
        "ratio_p95": ratio(subject_t.p95_ms, floor_t.p95_ms),
        "goal_ms": round(GOALS["page_ratio"] * floor_t.median_ms + GOALS["page_fixed_ms"], 3),
        "goal_met": subject_t.median_ms <= GOALS["page_ratio"] * floor_t.median_ms
        + GOALS["page_fixed_ms"],
    }


def _scheduler_selects(day: date) -> list[str]:
    """The jobs' own selects, as raw SQL: what a pass must read whatever it sends."""
    d = f"'{day.isoformat()}'"
    coordinators = (
        "SELECT id, team_id FROM user_account WHERE role = "
        f"'{Role.COORDINATOR.value}' AND active AND team_id IN ({{teams}}) ORDER BY id")
    return [
        ("SELECT r.connector_id, r.reference, f.due_on, f.method, f.purpose FROM follow_up f "
        "JOIN referral r ON f.referral_id = r.id JOIN user_account u ON r.connector_id = u.id "
        f"WHERE f.status = {_SCHEDULED} AND f.due_on <= {d} AND r.status IN ({_OPEN}) "
        "AND u.active ORDER BY f.due_on, r.reference"),
        ("SELECT r.connector_id, r.reference, r.first_contact_due FROM referral r "
        "JOIN user_account u ON r.connector_id = u.id WHERE r.status IN "
        f"({_AWAITING}) AND r.first_contact_at IS NULL AND r.first_contact_due < {d} "
        "AND u.active ORDER BY r.first_contact_due, r.reference"),
        ("SELECT r.id, r.reference, r.team_id, r.first_contact_due, u.name FROM referral r "
        "LEFT JOIN user_account u ON r.connector_id = u.id WHERE r.status IN "
        f"({_AWAITING}) AND r.first_contact_at IS NULL AND r.first_contact_due < {d} "
        "AND r.team_id IS NOT NULL ORDER BY r.first_contact_due, r.id"),
        coordinators,
        ("SELECT f.id, f.due_on, r.id, r.reference, r.team_id, t.follow_up_grace_days, u.name "
        "FROM follow_up f JOIN referral r ON f.referral_id = r.id JOIN team t ON "
        "r.team_id = t.id LEFT JOIN user_account u ON r.connector_id = u.id "
        f"WHERE f.status = {_SCHEDULED} AND f.due_on < {d} AND r.status IN ({_OPEN}) "
        "ORDER BY f.due_on, f.id"),
        coordinators,
    ]


def _scheduler(app: Flask, hub: Hub, engine, *, runs: int) -> dict:
    """run_all at one instant: first passes (each from a clean slate: the claims and
    notifications of the previous one deleted, untimed) and then repeat passes, which find
    everything claimed. Delivery is in-app only (the bench sets no SMTP host)."""
    now = hub.now
    with app.app_context():
        if scheduler.local_day(now) != hub.today:
            raise RuntimeError("the scheduler's day is not the day the hub was built for")
        with engine.connect() as conn:
            marks = {table: conn.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {table}"
                                                 ).scalar_one()
                     # "job": the monthly-reports run enqueues a job per practice once
                     # a month; left in place, the next first pass would enqueue none.
                     for table in ("notification", "delivery_claim", "job")}

        def reset() -> None:
            db.session.remove()
            with engine.begin() as conn:
                for table, mark in marks.items():
                    conn.exec_driver_sql(f"DELETE FROM {table} WHERE id > {int(mark)}")

        first_runs = max(1, min(5, runs // 10))
        progress = Progress("scheduler first pass", first_runs)
        first, first_statements, delivered, clock = [], [], None, time.perf_counter
        for i in range(first_runs):
            if i:
                reset()
            with counting_statements(engine) as seen:
                start = clock()
                sent = scheduler.run_all(now=now)
                first.append(clock() - start)
            first_statements.append(seen[0])
            if delivered not in (None, sent) or not sum(sent.values()):
                raise RuntimeError(f"first pass delivered {sent}, before {delivered}")
            delivered = sent
            progress.update(i + 1)
        progress.done()
        messages = sum(delivered.values())

        def repeat() -> dict:
            again = scheduler.run_all(now=now)
            if any(again.values()):
                raise RuntimeError(f"a repeat pass at the same instant delivered {again}")
            return again

        team_ids = ",".join(str(int(t)) for t in _team_ids(engine))
        selects = [sql.replace("{teams}", team_ids) for sql in _scheduler_selects(hub.today)]

        def raw() -> None:
            with engine.connect() as conn:
                for sql in selects:
                    conn.exec_driver_sql(sql).fetchall()

        with counting_statements(engine) as repeat_statements:
            repeat()
        subject, floor = timed_pair(repeat, raw, runs=max(1, runs // 2), warmup=min(2, runs),
                                    label="scheduler repeat pass vs raw SQL")
        db.session.remove()
    first_t, subject_t, floor_t = Timings.of(first), Timings.of(subject), Timings.of(floor)
    return {
        "now": now.isoformat(timespec="seconds"),
        "first_pass": {
            "delivered": delivered,
            "messages": messages,
            "ms_per_message": round(first_t.median_ms / messages, 3),
            "sql_statements": first_statements[-1],
            "sql_statements_per_run": first_statements,
            "timing": first_t.as_dict(),
        },
        "repeat_pass": {
            "delivered": {name: 0 for name in delivered},
            "sql_statements": repeat_statements[0],
            "timing": subject_t.as_dict(),
            "raw_sql_floor": floor_t.as_dict(),
            "ratio_median": ratio(subject_t.median_ms, floor_t.median_ms),
            "ratio_p95": ratio(subject_t.p95_ms, floor_t.p95_ms),
        },
    }


def _team_ids(engine) -> list[int]:
    with engine.connect() as conn:
        return [row[0] for row in conn.exec_driver_sql("SELECT id FROM team ORDER BY id")]
