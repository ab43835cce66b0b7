"""Casework benchmarks on a hub of eight connectors, each against a floor measured in the
same process and run.

1. My caseload: the whole `GET /caseload` for a connector holding 40 active referrals,
   against raw SQL for the rows the page is built from; and its SQL statement count for
   20 and for 40 referrals, which must be equal.
2. The referral workspace: `GET /caseload/referrals/<id>` for a referral with 12 contacts
   and 5 follow-ups, against raw SQL for that referral, person, contacts, follow-ups and
   events.
3. Routing: `routing.choose_connector` for the team, against one raw SQL aggregate
   counting open referrals per connector.
4. A scheduler pass: `scheduler.run_all` the first time in a day (it delivers, in-app
   only) and again at the same instant (everything is claimed: it must deliver nothing),
   the repeat against raw SQL of the jobs' selects.

The hub is built through the real services (create_referral, accept_referral,
close_referral, set_availability), and the measured connector's contacts and follow-ups
through record_contact, schedule_follow_up and close_follow_up. The other connectors'
~3,500 contacts and follow-ups are written with the models, one flush per referral: through
the services they cost ~5 ms of CPU each and tripled the build.
"""
from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import Flask
from sqlalchemy import func, select

from bench.timing import Progress, Timings, counting_statements, ratio, timed_pair
from bench.world import intake_request, nhs_numbers
from referrals import routing, scheduler, workdays, workflow
from referrals.auth.service import create_user
from referrals.caseload import service
from referrals.extensions import db
from referrals.hub.service import set_availability
from referrals.intake.service import create_referral
from referrals.models import (
    OPEN_STATUSES,
    Contact,
    ContactChannel,
    ContactOutcome,
    FollowUp,
    FollowUpStatus,
    Practice,
    Referral,
    ReferralStatus,
    Role,
    Team,
    utcnow,
)

PASSWORD = "bench-password-123"
# Seven full-time link workers at ~40 people each and one part-timer at 20: the part-timer
# gives the "20 referrals" statement count without a team of a different shape.
CASELOADS = (40,) * 7 + (20,)
CAPACITY = {40: 45, 20: 24}  # set once the hub is built, so routing has some room
CLOSED_PER_CONNECTOR = 20  # finished casework behind each connector: routing scans it too
QUEUE = 12  # received, unassigned; the older ones are past their first-contact deadline
WORKSPACE = {"contacts": 12, "follow_ups": 5}
SMALL_WORKSPACE = {"contacts": 6, "follow_ups": 2}
# Share of active referrals whose next follow-up is due today / overdue (1-7 days).
DUE_TODAY, OVERDUE = 0.15, 0.10
# A page meets its goal at <= 10x its raw SQL floor plus ~5 ms of fixed framework cost.
GOALS = {"page_ratio": 10.0, "page_fixed_ms": 5.0}
# Production's session cookie is Secure, so the test client must ask over https.
BASE_URL = "https://localhost"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
_REFERENCE = re.compile(r"KND-\d{4}-\d{6}")
NOTES = ["Talked about what matters to them.", "Interested in the walking group.",
         "Went to the lunch club; wants to go again.", "Sorting out a bus pass.",
         "Feeling brighter; started volunteering at the garden."]
PURPOSES = ["Check how the walking group went", "Help with the bus pass application",
            "Review goals together", "See whether the lunch club is still going well"]
METHODS = [ContactChannel.PHONE] * 4 + [ContactChannel.FACE_TO_FACE, ContactChannel.HOME_VISIT,
                                        ContactChannel.VIDEO]


@dataclass
class Hub:
    team_id: int
    emails: dict[int, str]
    full_id: int  # a connector holding 40 active referrals
    part_id: int  # the part-timer holding 20
    workspace_id: int  # 12 contacts, 5 follow-ups
    small_workspace_id: int  # 6 contacts, 2 follow-ups
    now: datetime
    today: date
    stats: dict


# --- the hub -----------------------------------------------------------------------------


def build_hub(app: Flask, *, seed: int = 2026) -> Hub:
    """Eight connectors with realistic caseloads over ~12 weeks, a coordinator, a queue."""
    rng = random.Random(seed)
    numbers = nhs_numbers(start=500_000)  # clear of the FHIR world's people
    started = time.perf_counter()
    with app.app_context():
        now = utcnow()
        today = workdays.uk_date(now)
        team = Team(name="Bench Casework Hub", first_contact_days=5, follow_up_grace_days=2)
        practices = [Practice(ods_code=f"C2000{i}", name=f"Casework Practice {i}",
                              postcode="LS1 4AP", team=team) for i in range(3)]
        db.session.add_all([team, *practices])
        db.session.flush()
        referrer = create_user(email="gp@casework.example", name="Dr Sam Reid",
                               role=Role.REFERRER, password=PASSWORD, practice=practices[0])
        coordinator = create_user(email="coordinator@casework.example", name="Hub Coordinator",
                                  role=Role.COORDINATOR, password=PASSWORD, team=team)
        # No capacity yet, so routing leaves every new referral in the team queue and
        # each connector takes theirs from it with accept_referral, as the triage queue does.
        connectors = [create_user(email=f"caseworker{i}@casework.example",
                                  name=f"Caseworker {i}", role=Role.CONNECTOR,
                                  password=PASSWORD, team=team)
                      for i in range(len(CASELOADS))]
        db.session.commit()
        total = sum(CASELOADS) + CLOSED_PER_CONNECTOR * len(connectors) + QUEUE
        progress = Progress("building the casework hub", total)
        done = 0
        special = {}
        for c, (connector, size) in enumerate(zip(connectors, CASELOADS, strict=True)):
            for j in range(CLOSED_PER_CONNECTOR):
                created = _at(now - timedelta(days=rng.randint(100, 200)), rng)
                referral = _referral(next(numbers), practices, done, referrer, created)
                _casework(referral, connector, rng, now=created + timedelta(days=70),
                          contacts=rng.randint(6, 12), follow_ups=rng.randint(1, 3))
                service.close_referral(
                    referral, "completed" if j % 5 else "declined", actor=connector,
                    note="Closing: goals reached" if j % 5 else "They no longer want support",
                    now=created + timedelta(days=71))
                done += 1
                progress.update(done)
            for j in range(size):
                shape = (WORKSPACE if j == 0 else SMALL_WORKSPACE if j == 1 else None
                         ) if c == 0 else None
                age = 84 if shape else rng.randint(14, 84)  # 6-12 contacts over ~12 weeks
                created = _at(now - timedelta(days=age), rng)
                referral = _referral(next(numbers), practices, done, referrer, created)
                _casework(referral, connector, rng, now=now,
                          contacts=shape["contacts"] if shape else rng.randint(6, 12),
                          follow_ups=shape["follow_ups"] if shape else rng.randint(2, 4),
                          next_due=_next_due(today, rng), real=c == 0)
                if shape:
                    special[shape is WORKSPACE] = referral.id
                done += 1
                progress.update(done)
            # One commit per connector: on SQLite every commit waits for the disk.
            db.session.commit()
        for j in range(QUEUE):
            created = _at(now - timedelta(days=j), rng)
            _referral(next(numbers), practices, done, referrer, min(created, now))
            done += 1
            progress.update(done)
        for connector, size in zip(connectors, CASELOADS, strict=True):
            set_availability(connector, actor=coordinator, capacity=CAPACITY[size],
                             away_from=None, away_until=None)
        db.session.commit()
        progress.done()
        stats = _stats(team.id)
        stats["build_s"] = round(time.perf_counter() - started, 1)
        hub = Hub(team.id, {u.id: u.email for u in connectors},
                  connectors[0].id, connectors[-1].id, special[True], special[False],
                  now, today, stats)
    return hub


def _at(day: datetime, rng: random.Random) -> datetime:
    """A moment in working hours (UTC) on `day`'s date."""
    return day.replace(hour=rng.randint(8, 16), minute=rng.randrange(0, 60, 5), second=0,
                       microsecond=0)


def _referral(nhs: str, practices: list[Practice], i: int, referrer, created: datetime):
    return create_referral(intake_request(nhs, practices[i % len(practices)], i),
                           actor=referrer, now=created)


def _next_due(today: date, rng: random.Random) -> date:
    """The open follow-up: a realistic share due today or overdue, the rest ahead."""
    draw = rng.random()
    if draw < DUE_TODAY:
        return today
    if draw < DUE_TODAY + OVERDUE:
        return today - timedelta(days=rng.randint(1, 7))
    return today + timedelta(days=rng.randint(1, 21))


def _casework(referral: Referral, connector, rng: random.Random, *, now: datetime,
              contacts: int, follow_ups: int, next_due: date | None = None,
              real: bool = False) -> None:
    """Accept, then `contacts` contacts spread up to `now` (the first one or two may miss),
    then past follow-ups (done or missed) and, with `next_due`, one still scheduled.

    With `real` every contact and follow-up goes through its service (a flush and an audit
    event each: ~5 ms of CPU). Otherwise the same rows are written with the models and
    flushed once, with the one rule the pages read (the first contact that reaches the
    person sets first_contact_at and moves the referral to in progress).
    """
    accepted = referral.created_at + timedelta(hours=rng.randint(2, 30))
    service.accept_referral(referral, actor=connector, now=accepted)
    span = (now - timedelta(hours=2) - accepted).total_seconds()
    times = sorted(accepted + timedelta(seconds=rng.uniform(600, span)) for _ in range(contacts))
    misses = rng.choice([0, 0, 1, 2])
    for k, at in enumerate(times):
        outcome = (rng.choice([ContactOutcome.NO_ANSWER, ContactOutcome.LEFT_MESSAGE])
                   if k < misses else ContactOutcome.SPOKE)
        fields = {"at": at, "method": rng.choice(METHODS), "outcome": outcome,
                  "duration_minutes": rng.choice([10, 20, 30, 45, 60]) if outcome.reached
                  else None, "notes": rng.choice(NOTES) if outcome.reached else ""}
        if real:
            service.record_contact(referral, actor=connector, now=at + timedelta(minutes=5),
                                   **fields)
            continue
        referral.contacts.append(Contact(**fields, recorded_by=connector,
                                         recorded_at=at + timedelta(minutes=5)))
        if outcome.reached and referral.first_contact_at is None:
            referral.first_contact_at = at
            workflow.transition(referral, ReferralStatus.IN_PROGRESS, actor=connector,
                                reason="First contact made", now=at + timedelta(minutes=5))
    past = follow_ups - (1 if next_due else 0)
    # Past follow-ups: each set at one of the later contacts (from before yesterday), due a
    # few days on but before today, and since closed.
    yesterday = workdays.uk_date(now) - timedelta(days=1)
    chances = [at for at in times[misses:] if workdays.uk_date(at) < yesterday]
    for at in sorted(rng.sample(chances, min(past, len(chances)))):
        set_on = workdays.uk_date(at)
        due = min(set_on + timedelta(days=rng.randint(2, 9)), yesterday)
        missed = rng.random() < 0.15
        status = FollowUpStatus.MISSED if missed else FollowUpStatus.DONE
        note = "No answer; will try again" if missed else ""
        closed = min(datetime.combine(due, at.timetz()) + timedelta(hours=1), now)
        fields = {"due_on": due, "method": rng.choice(METHODS),
                  "purpose": rng.choice(PURPOSES)}
        if real:
            follow_up = service.schedule_follow_up(referral, actor=connector, today=set_on,
                                                   now=at + timedelta(minutes=6), **fields)
            service.close_follow_up(referral, follow_up, actor=connector, status=status,
                                    note=note, now=closed)
        else:
            referral.follow_ups.append(FollowUp(
                **fields, status=status, created_by_id=connector.id,
                created_at=at + timedelta(minutes=6), closed_at=closed, outcome_note=note))
    if next_due:
        last = times[-1]
        fields = {"due_on": next_due, "method": rng.choice(METHODS),
                  "purpose": rng.choice(PURPOSES)}
        if real:
            service.schedule_follow_up(referral, actor=connector, now=last + timedelta(minutes=6),
                                       today=min(workdays.uk_date(last), next_due), **fields)
        else:
            referral.follow_ups.append(FollowUp(
                **fields, status=FollowUpStatus.SCHEDULED, created_by_id=connector.id,
                created_at=last + timedelta(minutes=6)))
    if not real:
        referral.version += contacts + follow_ups  # as the services' _touch would
        referral.updated_at = times[-1] + timedelta(minutes=6)
        db.session.flush()


def _stats(team_id: int) -> dict:
    in_team = select(Referral.id).where(Referral.team_id == team_id).scalar_subquery()

    def count(what, *where) -> int:
        return db.session.scalar(select(func.count()).select_from(what).where(*where)) or 0

    return {
        "built_with": "services: create_referral, accept_referral, close_referral, "
                      "set_availability; record_contact, schedule_follow_up and "
                      "close_follow_up for the measured connector's caseload, the models "
                      "(one flush per referral) for the other contacts and follow-ups",
        "connectors": len(CASELOADS),
        "caseloads": list(CASELOADS),
        "referrals_in_team": count(Referral, Referral.team_id == team_id),
        "open_referrals": count(Referral, Referral.team_id == team_id,
                                Referral.status.in_(OPEN_STATUSES)),
        "contacts": count(Contact, Contact.referral_id.in_(in_team)),
        "follow_ups": count(FollowUp, FollowUp.referral_id.in_(in_team)),
        "follow_ups_scheduled": count(FollowUp, FollowUp.referral_id.in_(in_team),
                                      FollowUp.status == FollowUpStatus.SCHEDULED),
    }


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
        "workspace_page": _workspace_page(hub, clients[hub.full_id], engine, runs=http_runs),
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


def _workspace_page(hub: Hub, client, engine, *, runs: int) -> dict:
    """GET one referral's workspace, against raw SQL for that referral and person, its
    contacts, follow-ups and events. (The page also reads reasons, team, the people who
    recorded contacts and events, and writes an audit event; the floor leaves those out.)"""
    rid = int(hub.workspace_id)

    def raw() -> list:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT referral.*, patient.* FROM referral JOIN patient ON patient.id = "
                f"referral.patient_id WHERE referral.id = {rid}").fetchall()
            conn.exec_driver_sql(
                f"SELECT * FROM contact WHERE referral_id = {rid} ORDER BY at, id").fetchall()
            conn.exec_driver_sql(
                f"SELECT * FROM follow_up WHERE referral_id = {rid} ORDER BY due_on, id"
            ).fetchall()
            conn.exec_driver_sql(
                f"SELECT * FROM referral_event WHERE referral_id = {rid} ORDER BY at, id"
            ).fetchall()
            return rows

    with engine.connect() as conn:
        shape = {table: conn.exec_driver_sql(
            f"SELECT COUNT(*) FROM {table} WHERE referral_id = {rid}").scalar_one()
            for table in ("contact", "follow_up")}
    if shape != {"contact": WORKSPACE["contacts"], "follow_up": WORKSPACE["follow_ups"]}:
        raise RuntimeError(f"the workspace referral has {shape}, not {WORKSPACE}")
    url = f"/caseload/referrals/{rid}"
    get = _getter(client, url)
    get()
    statements = {}
    for which, shape in ((hub.small_workspace_id, SMALL_WORKSPACE), (rid, WORKSPACE)):
        with counting_statements(engine) as seen:
            _getter(client, f"/caseload/referrals/{which}")()
        statements[f"{shape['contacts']} contacts, {shape['follow_ups']} follow-ups"] = seen[0]
    subject, floor = timed_pair(get, raw, runs=runs, warmup=min(5, runs),
                                label="GET workspace vs raw SQL")
    result = _page_result(url, get(), statements, subject, floor)
    result.update(WORKSPACE)
    return result


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
                     for table in ("notification", "delivery_claim")}

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
