"""Directory benchmarks on a county-sized directory (2,000 offers from 800 organisations),
each against a floor measured in the same process and run.

1. `search()` for a public query (postcode, within 5 km, Tuesday, one category) and for
   words only, against raw SQL selecting the same offers and their venues with the same
   filters (bounding box, day, category; or the words), the distances worked out in
   Python with the same haversine.
2. The whole public `GET /directory` for the postcode query, against the floor of (1);
   and its SQL statement count for 10 and for 20 results a page, which must be equal.
3. Open Referral: `GET /openreferral/services?per_page=50` and `/services/<id>`, against
   raw SQL for the same rows plus `json.dumps` of the parsed response; statements for
   per_page 10 and 50 must be equal.

The directory is built in bench/county.py. A page or API that does not exist yet is
recorded as not available and the rest still runs.
"""
from __future__ import annotations

import json
import math
from urllib.parse import urlencode

from flask import Flask
from sqlalchemy import bindparam, text

from bench.county import CENTRE_POSTCODE, DirectoryWorld
from bench.timing import Timings, counting_statements, ratio, timed_pair
from referrals import geo
from referrals.directory import fulltext, views, vocabulary
from referrals.directory.search import KM_PER_DEGREE_LATITUDE, DirectoryQuery, search
from referrals.extensions import db
from referrals.models import OfferStatus

# The public query: a Tuesday walking group within 5 km of the town centre surgery.
POSTCODE, WITHIN_KM, DAY, CATEGORY = CENTRE_POSTCODE, 5.0, "TU", "physical-activity"
WORDS = "walking"
PER_PAGE = 20
ORUK_PER_PAGE = 50
GOALS = {"page_ratio": 10.0, "page_fixed_ms": 5.0}  # scale-and-speed.md B5.1
BASE_URL = "https://localhost"  # production's cookies are Secure; ask as a browser would


# --- the measurements --------------------------------------------------------------------


def bench(app: Flask, world: DirectoryWorld, *, runs: int, http_runs: int) -> dict:
    """The measures; `runs` for search(), `http_runs` for each GET. A page or API not yet
    in the app is recorded as not available."""
    with app.app_context():
        engine = db.engine
    client = app.test_client()
    return {
        "directory": world.stats,
        "search_postcode": _search_postcode(app, engine, runs=runs),
        "search_words": _search_words(app, engine, runs=runs),
        "public_page": _public_page(app, client, engine, runs=http_runs),
        "openreferral_services": _oruk_services(app, client, engine, runs=http_runs),
        "openreferral_service": _oruk_service(app, client, engine, world, runs=http_runs),
    }


def _measured(subject: list[float], floor: list[float], **extra) -> dict:
    subject_t, floor_t = Timings.of(subject), Timings.of(floor)
    goal_ms = GOALS["page_ratio"] * floor_t.median_ms + GOALS["page_fixed_ms"]
    return {
        **extra,
        "timing": subject_t.as_dict(),
        "raw_sql_floor": floor_t.as_dict(),
        "ratio_median": ratio(subject_t.median_ms, floor_t.median_ms),
        "ratio_p95": ratio(subject_t.p95_ms, floor_t.p95_ms),
        "goal_ms": round(goal_ms, 3),
        "goal_met": subject_t.median_ms <= goal_ms,
    }


def _unavailable(what: str) -> dict:
    return {"available": False, "reason": f"{what} is not in the app yet"}


def _has_rule(app: Flask, rule: str) -> bool:
    return any(r.rule == rule for r in app.url_map.iter_rules())


_ACTIVE = f"'{OfferStatus.ACTIVE.value}'"
_NEAR_SQL = text(
    # The sort key and distance inputs first; then every column of the offer and its venue,
    # as the ORM reads them. From the category's offers (the narrowest filter, indexed).
    "SELECT o.id, lower(o.name), l.latitude, l.longitude, o.*, l.* FROM offer_attribute a "
    "JOIN offer o ON o.id = a.offer_id "
    "JOIN service_at_location s ON s.offer_id = o.id "
    "JOIN directory_location l ON l.id = s.location_id "
    f"WHERE a.taxonomy_term_id = :term AND o.status = {_ACTIVE} "
    "AND l.latitude BETWEEN :south AND :north AND l.longitude BETWEEN :west AND :east "
    "AND EXISTS (SELECT 1 FROM schedule sc WHERE sc.offer_id = o.id AND sc.byday LIKE :day)")
_PLACE_SQL = text("SELECT latitude, longitude FROM postcode_place WHERE postcode = :postcode")


def _near_floor(engine, per_page: int):
    """Raw SQL for the postcode query: the postcode's place, then the offers with a venue in
    the bounding box, a Tuesday session and the category, with those venues; the nearest
    venue of each by haversine in Python, within the distance, nearest first."""
    term = vocabulary.term_id(CATEGORY)

    def floor() -> tuple[int, list[str]]:
        with engine.connect() as conn:
            lat, lon = conn.execute(_PLACE_SQL, {"postcode": POSTCODE}).one()
            dlat = WITHIN_KM / KM_PER_DEGREE_LATITUDE
            dlon = WITHIN_KM / (KM_PER_DEGREE_LATITUDE * max(0.01, math.cos(math.radians(lat))))
            rows = conn.execute(_NEAR_SQL, {
                "south": lat - dlat, "north": lat + dlat, "west": lon - dlon,
                "east": lon + dlon, "day": f"%{DAY}%", "term": term}).fetchall()
        nearest: dict[str, tuple] = {}
        for row in rows:
            km = geo.haversine_km(lat, lon, row[2], row[3])
            if km <= WITHIN_KM and (row[0] not in nearest or km < nearest[row[0]][0]):
                nearest[row[0]] = (km, row[1], row[0], row)
        ordered = sorted(nearest.values(), key=lambda hit: hit[:3])
        return len(ordered), [hit[2] for hit in ordered[:per_page]]

    return floor


def _timed_search(app: Flask, engine, query: DirectoryQuery, floor, *, runs: int,
                  label: str) -> dict:
    """search(query) as a request would call it (a fresh session each time) against the
    floor; the two must find the same offers in the same order."""
    with app.app_context():
        def call():
            found = search(query)
            db.session.rollback()  # a request ends here; the next call loads afresh
            return found

        found = search(query)
        ids = [hit.offer.id for hit in found.hits]
        total = found.total
        db.session.rollback()
        if floor() != (total, ids):
            raise RuntimeError(f"{label}: search() found {total} {ids[:3]}..., raw SQL "
                               f"{floor()[0]} {floor()[1][:3]}...")
        statements = {}
        for per_page in (10, 20):
            query.per_page = per_page
            call()
            with counting_statements(engine) as seen:
                call()
            statements[f"per_page={per_page}"] = seen[0]
        query.per_page = PER_PAGE
        subject, floor_times = timed_pair(call, floor, runs=runs, warmup=min(20, runs),
                                          label=label)
        db.session.remove()
    result = _measured(subject, floor_times, found=total, shown=len(ids),
                       sql_statements_per_call=statements,
                       sql_statements_constant=len(set(statements.values())) == 1)
    result["call"] = result.pop("timing")
    return result


def _postcode_query() -> DirectoryQuery:
    return DirectoryQuery(postcode=POSTCODE, within_km=WITHIN_KM, day=DAY,
                          categories=[CATEGORY], per_page=PER_PAGE)


def _search_postcode(app: Flask, engine, *, runs: int) -> dict:
    result = _timed_search(app, engine, _postcode_query(), _near_floor(engine, PER_PAGE),
                           runs=runs, label="search() by postcode vs raw SQL")
    result["query"] = {"postcode": POSTCODE, "within_km": WITHIN_KM, "day": DAY,
                       "category": CATEGORY, "per_page": PER_PAGE}
    return result


# The words go through the database's full-text index, as search() plans them (stop words,
# synonyms, typos: referrals/directory/fulltext.py); the floor runs the planned query.
_SQLITE_MATCH = (
    "SELECT t.offer_id AS offer_id, "
    f"bm25(offer_search_fts, {fulltext.SQLITE_WEIGHTS}) - CASE WHEN t.id IN "
    "(SELECT rowid FROM offer_search_fts WHERE offer_search_fts MATCH :typed) "
    f"THEN {fulltext.ORIGINAL_BOOST} ELSE 0 END AS score "
    "FROM offer_search_fts JOIN offer_search_text t ON t.id = offer_search_fts.rowid "
    "WHERE offer_search_fts MATCH :q")
_PG_MATCH = (
    f"SELECT offer_id, -(ts_rank({fulltext.PG_DOCUMENT}, to_tsquery('english', :q)) "
    f"+ CASE WHEN {fulltext.PG_DOCUMENT} @@ to_tsquery('english', :typed) "
    f"THEN {fulltext.ORIGINAL_BOOST} ELSE 0 END) AS score "
    f"FROM offer_search_text WHERE {fulltext.PG_DOCUMENT} @@ to_tsquery('english', :q)")


def _words_sql(dialect: str) -> tuple:
    match = _PG_MATCH if dialect == "postgresql" else _SQLITE_MATCH
    count = text(f"SELECT COUNT(*) FROM ({match}) m JOIN offer o ON o.id = m.offer_id "
                 f"WHERE o.status = {_ACTIVE}")
    page = text(f"SELECT o.id, o.* FROM ({match}) m JOIN offer o ON o.id = m.offer_id "
                f"WHERE o.status = {_ACTIVE} ORDER BY m.score, lower(o.name), o.id "
                "LIMIT :per_page")
    return count, page


_VENUES_SQL = text(
    "SELECT s.offer_id, l.* FROM service_at_location s JOIN directory_location l "
    "ON l.id = s.location_id WHERE s.offer_id IN :ids ORDER BY s.offer_id, s.id"
).bindparams(bindparam("ids", expanding=True))


def _search_words(app: Flask, engine, *, runs: int) -> dict:
    """Words only: no place, so a count and a page in name order, with their venues."""
    with app.app_context():
        planned = fulltext.plan(WORDS)
        db.session.remove()
    if engine.dialect.name == "postgresql":
        words = {"q": planned.tsquery(every=True),
                 "typed": planned.tsquery(every=True, typed_only=True)}
    else:
        words = {"q": planned.fts5(every=True), "typed": planned.fts5(every=True, typed_only=True)}
    count_sql, page_sql = _words_sql(engine.dialect.name)

    def floor() -> tuple[int, list[str]]:
        with engine.connect() as conn:
            total = conn.execute(count_sql, words).scalar_one()
            ids = [row[0] for row in conn.execute(page_sql,
                                                  {**words, "per_page": PER_PAGE})]
            conn.execute(_VENUES_SQL, {"ids": ids}).fetchall()
        return total, ids

    result = _timed_search(app, engine, DirectoryQuery(text=WORDS, per_page=PER_PAGE), floor,
                           runs=runs, label="search() by words vs raw SQL")
    result["query"] = {"text": WORDS, "per_page": PER_PAGE}
    return result


def _getter(client, url: str):
    def get():
        response = client.get(url, base_url=BASE_URL)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}: "
                               f"{response.get_data(as_text=True)[:800]}")
        return response
    return get


def _public_page(app: Flask, client, engine, *, runs: int) -> dict:
    """The whole public search page for the postcode query, against the floor of the
    search; statements for 10 and 20 results a page (the page's own size, patched)."""
    if "directory.search" not in app.view_functions:
        return _unavailable("the public search page (directory.search)")

    url = "/directory?" + urlencode({"postcode": POSTCODE, "distance": f"{WITHIN_KM:g}",
                                     "day": DAY, "category": CATEGORY})
    get = _getter(client, url)
    per_page = getattr(views, "PER_PAGE", PER_PAGE)
    floor = _near_floor(engine, per_page)
    total, ids = floor()
    html = get().get_data(as_text=True)
    shown = [i for i in ids if i in html]
    statements, shown_at = {}, {}
    if hasattr(views, "PER_PAGE"):
        # The page takes no page size from the query string: its constant is patched for
        # the count, and put back.
        try:
            for size in (10, 20):
                views.PER_PAGE = size
                get()
                with counting_statements(engine) as seen:
                    body = get().get_data(as_text=True)
                statements[f"{size} a page"] = seen[0]
                shown_at[f"{size} a page"] = sum(i in body for i in _near_floor(engine, size)()[1])
        finally:
            views.PER_PAGE = per_page
    subject, floor_times = timed_pair(get, floor, runs=runs, warmup=min(5, runs),
                                      label="GET /directory vs raw SQL")
    result = _measured(subject, floor_times, url=url, found=total, per_page=per_page,
                       shown=len(shown), same_offers_as_floor=len(shown) == min(per_page, total),
                       shown_at_each_size=shown_at,
                       response_bytes=len(get().get_data()),
                       sql_statements_per_request=statements,
                       sql_statements_constant=len(set(statements.values())) == 1)
    result["request"] = result.pop("timing")
    return result


_ORUK_PAGE_SQL = text(f"SELECT o.id, o.organisation_id, o.* FROM offer o WHERE o.status = "
                      f"{_ACTIVE} ORDER BY lower(o.name), o.id LIMIT :per_page")
_ORUK_COUNT_SQL = text(f"SELECT COUNT(*) FROM offer o WHERE o.status = {_ACTIVE}")
_ORUK_ONE_SQL = text("SELECT o.id, o.organisation_id, o.* FROM offer o WHERE o.id = :id")
_ORGANISATIONS_SQL = text("SELECT * FROM directory_organisation WHERE id IN :orgs"
                          ).bindparams(bindparam("orgs", expanding=True))
_NESTED_SQL = [text(sql).bindparams(bindparam("ids", expanding=True)) for sql in (
    ("SELECT s.*, l.* FROM service_at_location s JOIN directory_location l "
     "ON l.id = s.location_id WHERE s.offer_id IN :ids ORDER BY s.offer_id, s.id"),
    "SELECT * FROM schedule WHERE offer_id IN :ids ORDER BY offer_id, id",
    "SELECT * FROM cost_option WHERE offer_id IN :ids ORDER BY offer_id, id",
    ("SELECT a.*, t.*, x.* FROM offer_attribute a JOIN taxonomy_term t "
     "ON t.id = a.taxonomy_term_id LEFT JOIN taxonomy x ON x.id = t.taxonomy_id "
     "WHERE a.offer_id IN :ids ORDER BY a.offer_id, a.id"),
)]


def _nested(conn, offers: list, *, summary: bool = False) -> None:
    """What an Open Referral service shows: its organisation, and unless it is a list's
    summary, its venues, schedules, cost options, and categories with their taxonomy."""
    conn.execute(_ORGANISATIONS_SQL, {"orgs": sorted({row[1] for row in offers if row[1]})}
                 ).fetchall()
    if summary:
        return
    ids = [row[0] for row in offers]
    for sql in _NESTED_SQL:
        conn.execute(sql, {"ids": ids}).fetchall()


def _oruk_result(url, response, statements, subject, floor, **extra) -> dict:
    result = _measured(subject, floor, url=url, response_bytes=len(response.get_data()),
                       sql_statements_per_request=statements,
                       sql_statements_constant=len(set(statements.values())) == 1, **extra)
    result["request"] = result.pop("timing")
    return result


def _oruk_services(app: Flask, client, engine, *, runs: int) -> dict:
    """GET /openreferral/services?per_page=50 (the paged envelope of service summaries:
    one-to-one fields and the organisation) against raw SQL for the count, the page of 50
    active offers and their organisations, plus json.dumps of the parsed response;
    statements for per_page 10 and 50."""
    if not _has_rule(app, "/openreferral/services"):
        return _unavailable("GET /openreferral/services")
    url = f"/openreferral/services?per_page={ORUK_PER_PAGE}"
    get = _getter(client, url)
    parsed = get().get_json()
    contents = parsed.get("contents") or []
    listed = [service.get("id") for service in contents]

    def floor() -> list:
        with engine.connect() as conn:
            conn.execute(_ORUK_COUNT_SQL).scalar_one()
            offers = conn.execute(_ORUK_PAGE_SQL, {"per_page": ORUK_PER_PAGE}).fetchall()
            _nested(conn, offers, summary=True)
        json.dumps(parsed)
        return offers

    statements = {}
    for size in (10, ORUK_PER_PAGE):
        fetch = _getter(client, f"/openreferral/services?per_page={size}")
        fetch()
        with counting_statements(engine) as seen:
            fetch()
        statements[f"per_page={size}"] = seen[0]
    subject, floor_times = timed_pair(get, floor, runs=runs, warmup=min(5, runs),
                                      label="GET /openreferral/services vs raw SQL")
    return _oruk_result(url, get(), statements, subject, floor_times, services=len(contents),
                        total_items=parsed.get("total_items"),
                        same_rows_as_floor=listed == [row[0] for row in floor()])


def _oruk_service(app: Flask, client, engine, world: DirectoryWorld, *, runs: int) -> dict:
    """GET /openreferral/services/<id>, fully nested, against raw SQL for that offer and
    everything it nests, plus json.dumps of the parsed response."""
    if not any(r.rule.startswith("/openreferral/services/<") for r in app.url_map.iter_rules()):
        return _unavailable("GET /openreferral/services/<id>")
    url = f"/openreferral/services/{world.detail_offer_id}"
    get = _getter(client, url)
    parsed = get().get_json()

    def floor() -> list:
        with engine.connect() as conn:
            offers = conn.execute(_ORUK_ONE_SQL, {"id": world.detail_offer_id}).fetchall()
            _nested(conn, offers)
        json.dumps(parsed)
        return offers

    statements = {}
    for offer_id, shape in ((world.small_offer_id, "1 venue, 1 session, 1 category"),
                            (world.detail_offer_id, "2 venues, 2 sessions, 3 categories")):
        fetch = _getter(client, f"/openreferral/services/{offer_id}")
        fetch()
        with counting_statements(engine) as seen:
            fetch()
        statements[shape] = seen[0]
    subject, floor_times = timed_pair(get, floor, runs=runs, warmup=min(5, runs),
                                      label="GET /openreferral/services/<id> vs raw SQL")
    return _oruk_result(url, get(), statements, subject, floor_times,
                        venues=2, schedules=2, categories=3)


# --- the printed table -------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def rows(result: dict | None) -> list[tuple]:
    """Rows for bench.timing.table: measure, runs, median ms, p95 ms, floor, floor median
    ms, ratio median, ratio p95, goal."""
    if result is None:
        return []

    def row(label, entry, timing_key, floor_label):
        if not entry.get("available", True):
            return (label, "-", "-", "-", floor_label, "-", "-", "-", "not available")
        timing, floor = entry[timing_key], entry["raw_sql_floor"]
        goal = f"<= 10x + 5 = {entry['goal_ms']:.1f} ms: {_verdict(entry['goal_met'])}"
        counts = entry.get("sql_statements_per_call") or entry.get("sql_statements_per_request")
        if counts and len(counts) > 1:
            goal += (f"; SQL statements {' = '.join(map(str, counts.values()))}: "
                     f"{_verdict(entry['sql_statements_constant'])}")
        return (label, timing["runs"], f"{timing['median_ms']:.2f}", f"{timing['p95_ms']:.2f}",
                floor_label, f"{floor['median_ms']:.2f}", f"{entry['ratio_median']:.1f}x",
                f"{entry['ratio_p95']:.1f}x", goal)

    near, words = result["search_postcode"], result["search_words"]
    page = result["public_page"]
    offers = result["directory"]["offers"]
    floor_near = "raw SQL + haversine, same rows"
    page_label = "GET /directory, postcode + 5 km + day + category (whole request)"
    if page.get("available", True):
        page_label = (f"GET /directory, postcode + 5 km + day + category, {page['shown']} of "
                      f"{page['found']} shown (whole request)")
    return [
        row(f"search(): postcode + 5 km + Tuesday + category, {near['found']} of {offers} "
            "offers", near, "call", floor_near),
        row(f"search(): words only ('{WORDS}'), {words['found']} found", words, "call",
            "raw SQL, count + page + venues"),
        row(page_label, page, "request", floor_near),
        row(f"GET /openreferral/services?per_page={ORUK_PER_PAGE}, service summaries "
            "(whole request)",
            result["openreferral_services"], "request", "raw SQL, same rows + json.dumps"),
        row("GET /openreferral/services/<id>, fully nested: 2 venues, 2 sessions, "
            "3 categories (whole request)",
            result["openreferral_service"], "request", "raw SQL, same rows + json.dumps"),
    ]
