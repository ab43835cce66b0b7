"""FHIR benchmarks, each against a floor measured in the same process and run.

1. Searchset serialisation: 100 ServiceRequests + 100 Tasks through the mappers,
   `bundle.searchset` and `json.dumps`, against `json.dumps` of the same dicts.
2. The whole search request (GET /fhir/ServiceRequest and /fhir/Task with
   _count=100 and _include, bearer token, Flask test client) against raw SQL
   fetching the rows the response is built from.
3. Bundle intake: POST /fhir with a transaction Bundle per referral, one after
   another, for throughput and latency percentiles.
"""
from __future__ import annotations

import json
import time

from flask import Flask
from sqlalchemy import func, select

from bench.timing import Progress, Timings, counting_statements, ratio, timed_pair
from bench.world import World, referral_bundle
from fhir_adapters import bundle as bundles
from fhir_adapters import codes
from fhir_adapters import servicerequest as sr_map
from fhir_adapters import task as task_map
from fhir_adapters.http import referral_options
from referrals.extensions import db
from referrals.models import Referral

BASE = "https://kindly.example/fhir"
SEARCHSET_SIZE = 100
INTAKE_WARMUP = 10
GOALS = {"searchset_ratio": 5.0, "intake_p95_ms": 250.0}


# --- measurements ------------------------------------------------------------------------


def bench_searchset(app: Flask, world: World, *, runs: int) -> dict:
    """Mappers + searchset + json.dumps for 100 ServiceRequests and 100 Tasks, against the
    json.dumps floor of the same, already built, dicts."""
    with app.app_context():
        rows = list(db.session.scalars(referral_options(
            select(Referral).where(Referral.practice_id.in_([p[0] for p in world.practices]))
            .order_by(Referral.id).limit(SEARCHSET_SIZE))))
        if len(rows) != SEARCHSET_SIZE:
            raise RuntimeError(f"expected {SEARCHSET_SIZE} referrals, found {len(rows)}")

        def build_bundle() -> dict:
            resources = [sr_map.to_fhir(r) for r in rows] + [task_map.to_fhir(r) for r in rows]
            return bundles.searchset(base=BASE, self_url=f"{BASE}/ServiceRequest?_count=100",
                                     next_url=None, total=len(resources), matches=resources)

        def serialise() -> str:
            return json.dumps(build_bundle(), separators=(",", ":"))

        built = build_bundle()

        def floor() -> str:
            return json.dumps(built, separators=(",", ":"))

        with counting_statements(db.engine) as statements:
            body = serialise()
        full, dumps = timed_pair(serialise, floor, runs=runs, warmup=min(runs, max(5, runs // 20)),
                                 label="searchset vs json.dumps")
        mapping, _ = timed_pair(build_bundle, lambda: None, runs=max(20, runs // 4), warmup=5,
                                label="mappers and bundle, no json.dumps")
    full_t, dumps_t, mapping_t = Timings.of(full), Timings.of(dumps), Timings.of(mapping)
    return {
        "resources": len(built["entry"]),
        "json_bytes": len(body.encode()),
        "sql_statements_while_mapping": statements[0],
        "mappers_searchset_json": full_t.as_dict(),
        "json_dumps_floor": dumps_t.as_dict(),
        "mappers_and_bundle_only": mapping_t.as_dict(),
        "ratio_median": ratio(full_t.median_ms, dumps_t.median_ms),
        "ratio_p95": ratio(full_t.p95_ms, dumps_t.p95_ms),
        "goal_ratio": GOALS["searchset_ratio"],
    }


SEARCHES = {
    "ServiceRequest": "/fhir/ServiceRequest?_count={n}&_include=ServiceRequest:patient",
    "Task": "/fhir/Task?_count={n}&_include=Task:focus",
}


def bench_http(app: Flask, world: World, *, runs: int) -> dict:
    """Whole GET searches through Flask (auth, query, mappers, audit, commit, JSON) against
    raw SQL for the rows they are built from: 100 referrals joined to their patients, and
    those referrals' reasons and events. (The API also reads a handful of practice, team
    and user rows and counts the matches; the floor leaves those out.)"""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {world.token}", "Accept": codes.MEDIA_TYPE}
    practice_ids = ",".join(str(int(p[0])) for p in world.practices)
    first_rows = (
        "SELECT referral.*, patient.* FROM referral JOIN patient ON patient.id = "
        f"referral.patient_id WHERE referral.practice_id IN ({practice_ids}) "
        f"ORDER BY referral.id LIMIT {SEARCHSET_SIZE + 1}"
    )
    with app.app_context():
        engine = db.engine

    def raw() -> list:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(first_rows).fetchall()
            ids = ",".join(str(int(row[0])) for row in rows[:SEARCHSET_SIZE])
            for table in ("referral_reason", "referral_event"):
                conn.exec_driver_sql(
                    f"SELECT * FROM {table} WHERE referral_id IN ({ids}) ORDER BY referral_id, id"
                ).fetchall()
            return rows

    if len(raw()) != SEARCHSET_SIZE:
        raise RuntimeError(f"raw SQL found a different number of referrals than {SEARCHSET_SIZE}")
    results = {}
    for kind, template in SEARCHES.items():
        url = template.format(n=SEARCHSET_SIZE)

        def get(url=url):
            response = client.get(url, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} answered {response.status_code}: "
                                   f"{response.get_data(as_text=True)[:800]}")
            return response

        first = get()
        entries = len(first.get_json()["entry"])
        statements = {}
        for n in (10, SEARCHSET_SIZE):
            with counting_statements(engine) as seen:
                get(template.format(n=n))
            statements[n] = seen[0]
        request_times, sql_times = timed_pair(get, raw, runs=runs, warmup=min(5, runs),
                                              label=f"GET {kind} search vs raw SQL")
        request_t, sql_t = Timings.of(request_times), Timings.of(sql_times)
        results[kind] = {
            "url": url,
            "entries": entries,
            "response_bytes": len(first.get_data()),
            "sql_statements_per_request": {f"_count={n}": s for n, s in statements.items()},
            "request": request_t.as_dict(),
            "raw_sql_floor": sql_t.as_dict(),
            "ratio_median": ratio(request_t.median_ms, sql_t.median_ms),
            "ratio_p95": ratio(request_t.p95_ms, sql_t.p95_ms),
        }
    return results


def bench_intake(app: Flask, world: World, *, count: int) -> dict:
    """POST /fhir, one transaction Bundle per referral (distinct people), one at a time."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {world.token}", "Accept": codes.MEDIA_TYPE}
    bodies = []
    for i in range(count + INTAKE_WARMUP):
        _, ods, name = world.practices[i % len(world.practices)]
        bodies.append(json.dumps(referral_bundle(next(world.numbers), ods, name, i)))
    clock = time.perf_counter
    for body in bodies[:INTAKE_WARMUP]:  # first requests fill caches; not counted
        _post_bundle(client, body, headers, "warm-up")
    bodies = bodies[INTAKE_WARMUP:]
    latencies = []
    progress = Progress("POST /fhir Bundle intake", count)
    started = clock()
    for i, body in enumerate(bodies):
        start = clock()
        _post_bundle(client, body, headers, i)
        latencies.append(clock() - start)
        progress.update(i + 1)
    elapsed = clock() - started
    progress.done()
    timings = Timings.of(latencies)
    with app.app_context():
        stored = db.session.scalar(select(func.count()).select_from(Referral).where(
            Referral.source == "fhir"))
    return {
        "referrals": count,
        "warmup_not_counted": INTAKE_WARMUP,
        "stored": stored,
        "bundle_bytes_median": sorted(len(b) for b in bodies)[len(bodies) // 2],
        "wall_s": round(elapsed, 3),
        "referrals_per_s": round(count / elapsed, 1),
        "latency": timings.as_dict(),
        "goal_p95_ms": GOALS["intake_p95_ms"],
    }


def _post_bundle(client, body: str, headers: dict, which) -> None:
    response = client.post("/fhir", data=body, headers=headers, content_type=codes.MEDIA_TYPE)
    if response.status_code != 200:
        raise RuntimeError(f"intake {which} answered {response.status_code}: "
                           f"{response.get_data(as_text=True)[:800]}")
