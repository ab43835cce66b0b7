"""The Open Referral UK 3.0 API under /openreferral/: public, read-only, CORS open.

Every answer, errors and preflights included, carries `Access-Control-Allow-Origin: *`;
errors are JSON (400 for a bad parameter, 404, 405), never an HTML page. The service
filters are the directory search's (search.py), so the API, the public site and the
connectors' search agree.
"""
from __future__ import annotations

import json
import logging
import math
from datetime import time

from flask import Blueprint, Response, current_app, request
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, selectinload
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from referrals.access import public
from referrals.directory import oruk, search
from referrals.directory import vocabulary as v
from referrals.directory.importing import stored_kindly_terms
from referrals.extensions import db
from referrals.geo import Place, haversine_km, locate
from referrals.models import Location, Offer, ServiceAtLocation, Taxonomy, TaxonomyTerm
from referrals.postcode import normalise_postcode

log = logging.getLogger(__name__)
bp = Blueprint("openreferral", __name__, url_prefix="/openreferral")

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
PREFIX = "/openreferral"
DAY_NAMES = {**{code.lower(): code for code, _ in v.WEEKDAYS},
             **{name.lower(): code for code, name in v.WEEKDAYS},
             **{name[:3].lower(): code for code, name in v.WEEKDAYS}}


class BadParameter(Exception):
    def __init__(self, parameter: str, message: str):
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter


def respond(payload, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                    status=status, headers=headers or {}, mimetype="application/json")


def error(status: int, title: str, detail: str, headers: dict | None = None) -> Response:
    return respond({"status": status, "title": title, "detail": detail}, status, headers)


@bp.after_app_request
def open_to_every_origin(response: Response) -> Response:
    """CORS on everything under the prefix, including errors the app answers itself."""
    if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        if request.method == "OPTIONS":
            response.headers["Allow"] = "GET, HEAD, OPTIONS"  # read-only, whatever matched
            response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "*"
            response.headers["Access-Control-Max-Age"] = "86400"
    return response


@bp.before_request
def refuse_nul_characters():
    """No id or filter holds a NUL, and PostgreSQL refuses one in any text it is sent."""
    if "\x00" in request.path:
        raise NotFound("No such record.")
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            raise BadParameter(name.replace("\x00", ""), "must not contain a NUL character")


@bp.errorhandler(BadParameter)
def bad_parameter(exc: BadParameter):
    return error(400, "Bad Request", str(exc))


def http_error(exc: HTTPException):
    headers = {"Allow": ", ".join(exc.valid_methods)} if getattr(exc, "valid_methods", None) \
        else None
    return error(exc.code or 500, exc.name, exc.description or "", headers)


# By status code: the app's own HTML error pages are registered by code, and Flask asks
# code handlers before class handlers.
for _code in (400, 403, 404, 405, 406, 413, 414, 429, 500):
    bp.register_error_handler(_code, http_error)


@bp.errorhandler(Exception)
def unexpected(exc: Exception):
    if isinstance(exc, HTTPException):  # a status without a handler of its own above
        return http_error(exc)
    db.session.rollback()
    log.exception("Open Referral API error")
    return error(500, "Internal Server Error", "Something went wrong; try again later.")


# --- parameters ------------------------------------------------------------------------


def _int(name: str, *, default: int | None = None, low: int = 0, high: int | None = None):
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        if not raw.isascii():  # float() reads "٣" as 3; only 0-9 count, as everywhere
            raise ValueError(raw)
        number = float(raw)
    except ValueError:
        raise BadParameter(name, f"{raw!r} is not a whole number") from None
    if not math.isfinite(number) or number != int(number) or number < low or (
            high is not None and number > high):
        limits = f"from {low}" + (f" to {high}" if high is not None else " up")
        raise BadParameter(name, f"{raw!r} must be a whole number {limits}")
    return int(number)


def _time(name: str) -> time | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return oruk.parse_time(raw)
    except ValueError:
        raise BadParameter(name, f"{raw!r} is not a time (HH:MM)") from None


def _day() -> str | None:
    raw = request.args.get("day", "").strip()
    if not raw:
        return None
    code = DAY_NAMES.get(raw.lower())
    if code is None:
        raise BadParameter("day", f"{raw!r} is not a day (MO, TU, WE, TH, FR, SA, SU or "
                                  "the day's name)")
    return code


def _paging() -> tuple[int, int]:
    page = _int("page", default=1, low=1, high=1_000_000)
    per_page = _int("per_page", default=DEFAULT_PER_PAGE, low=1)
    return page, min(per_page, MAX_PER_PAGE)


def _place() -> tuple[Place | None, float | None]:
    """The searcher's postcode and the distance in km around it (from metres)."""
    raw = request.args.get("postcode", "").strip()
    metres = request.args.get("proximity", "").strip()
    km = None
    if metres:
        try:
            km = float(metres) / 1000
        except ValueError:
            raise BadParameter("proximity", f"{metres!r} is not a distance in metres") from None
        if not math.isfinite(km) or km <= 0 or km > 1000:
            raise BadParameter("proximity", "must be more than 0 and at most 1,000,000 metres")
        if not raw:
            raise BadParameter("proximity", "needs a postcode to measure from")
    if not raw:
        return None, None
    if normalise_postcode(raw) is None:
        raise BadParameter("postcode", f"{raw!r} is not a UK postcode")
    place = locate(raw)
    if place is None:
        raise BadParameter("postcode", f"{raw!r} is not a postcode Kindly knows")
    return place, km


def _query() -> search.DirectoryQuery:
    """A DirectoryQuery from the ORUK filters (distance is handled by the caller)."""
    page, per_page = _paging()
    query = search.DirectoryQuery(
        text=(request.args.get("text") or request.args.get("search") or "").strip()[:200],
        day=_day(), start_time=_time("start_time"), end_time=_time("end_time"),
        minimum_age=_int("minimum_age", high=150), maximum_age=_int("maximum_age", high=150),
        organisation_id=request.args.get("organization_id", "").strip() or None,
        page=page, per_page=per_page)
    terms = [t.strip() for t in request.args.get("taxonomy_term_id", "").split(",") if t.strip()]
    # Offer kinds and capacity are columns, not attributes: their terms narrow by column.
    kinds = {oruk.KIND_BY_TERM_ID[t] for t in terms if t in oruk.KIND_BY_TERM_ID}
    capacities = {oruk.CAPACITY_BY_TERM_ID[t] for t in terms if t in oruk.CAPACITY_BY_TERM_ID}
    query.kinds = kinds or None
    query.capacities = capacities or None
    query.categories = [t for t in terms
                        if t not in oruk.KIND_BY_TERM_ID and t not in oruk.CAPACITY_BY_TERM_ID]
    taxonomy_id = request.args.get("taxonomy_id", "").strip()
    # Every service has a kind and a capacity status, so those taxonomies filter nothing.
    if taxonomy_id and taxonomy_id not in (v.KIND_TAXONOMY_ID, v.CAPACITY_TAXONOMY_ID):
        query.taxonomy_id = taxonomy_id
    return query


def _full() -> bool:
    return request.args.get("full", "").strip().lower() in ("1", "true", "yes")


# --- routes ---------------------------------------------------------------------------


@bp.get("/")
@public
def api_info():
    """What this API is: ORUK 3.0, the profile and its OpenAPI definition."""
    return respond({"version": oruk.VERSION, "profile": oruk.PROFILE_URL,
                    "openapi_url": oruk.OPENAPI_URL})


@bp.get("/services")
@public
def list_services():
    """Active services matching the filters, a page at a time."""
    query = _query()
    place, km = _place()
    if place is not None:
        query.postcode, query.within_km = place.postcode, km
        # Within a distance means a place within it; phone and online offers have none.
        query.include_virtual = km is None
    results = search.search(query)
    offers = [hit.offer for hit in results.hits]
    if _full():
        terms = stored_kindly_terms()
        contents = [oruk.service(offer, terms) for offer in offers]
    else:
        contents = [oruk.service_summary(offer) for offer in offers]
    response = respond(oruk.page(contents, total=results.total, page_number=results.page,
                                 per_page=results.per_page))
    db.session.commit()  # a postcode looked up over HTTP is remembered
    return response


@bp.get("/services/<service_id>")
@public
def show_service(service_id: str):
    """One service, fully nested (whatever its status: the status says it)."""
    offer = db.session.scalars(
        select(Offer).where(Offer.id == service_id).options(*search.offer_loading())).first()
    if offer is None:
        raise NotFound(f"No service with id {service_id!r}.")
    return respond(oruk.service(offer, stored_kindly_terms()))


def _all_taxonomies() -> list[dict]:
    stored = {t.id: oruk.taxonomy(t) for t in db.session.scalars(select(Taxonomy))}
    for tax_id, (name, description) in oruk.KINDLY_TAXONOMIES.items():
        stored.setdefault(tax_id, {"id": tax_id, "name": name, "description": description})
    return sorted(stored.values(), key=lambda t: (t["name"].lower(), t["id"]))


def _all_terms(taxonomy_id: str | None = None) -> list[dict]:
    stmt = select(TaxonomyTerm)
    if taxonomy_id:
        stmt = stmt.where(TaxonomyTerm.taxonomy_id == taxonomy_id)
    stored = {t.id: oruk.taxonomy_term(t) for t in db.session.scalars(stmt)}
    for term in oruk.kindly_vocabulary_terms():
        if taxonomy_id in (None, term["taxonomy_id"]):
            stored.setdefault(term["id"], term)
    return sorted(stored.values(), key=lambda t: (t.get("taxonomy_id") or "",
                                                  t["name"].lower(), t["id"]))


def _paged(items: list[dict]) -> Response:
    page, per_page = _paging()
    start = (page - 1) * per_page
    return respond(oruk.page(items[start:start + per_page], total=len(items),
                             page_number=page, per_page=per_page))


@bp.get("/taxonomies")
@public
def list_taxonomies():
    """Every taxonomy Kindly holds, Kindly's own three included."""
    return _paged(_all_taxonomies())


@bp.get("/taxonomies/<taxonomy_id>")
@public
def show_taxonomy(taxonomy_id: str):
    """One taxonomy."""
    for taxonomy in _all_taxonomies():
        if taxonomy["id"] == taxonomy_id:
            return respond(taxonomy)
    raise NotFound(f"No taxonomy with id {taxonomy_id!r}.")


@bp.get("/taxonomy_terms")
@public
def list_taxonomy_terms():
    """Taxonomy terms, optionally of one taxonomy (taxonomy_id)."""
    return _paged(_all_terms(request.args.get("taxonomy_id", "").strip() or None))


@bp.get("/taxonomy_terms/<term_id>")
@public
def show_taxonomy_term(term_id: str):
    """One taxonomy term."""
    term = db.session.get(TaxonomyTerm, term_id)
    if term is not None:
        return respond(oruk.taxonomy_term(term))
    for known in oruk.kindly_vocabulary_terms():
        if known["id"] == term_id:
            return respond(known)
    raise NotFound(f"No taxonomy term with id {term_id!r}.")


def _box_around(place: Place, km: float) -> tuple:
    """Latitude/longitude bounds (indexed) a little wider than `km`; exact distance after."""
    dlat = km / search.KM_PER_DEGREE_LATITUDE * 1.01
    dlon = dlat / max(0.01, math.cos(math.radians(place.latitude)))
    return (Location.latitude.between(place.latitude - dlat, place.latitude + dlat),
            Location.longitude.between(place.longitude - dlon, place.longitude + dlon))


@bp.get("/service_at_locations")
@public
def list_service_at_locations():
    """Where active services run, a page at a time; nearest first from a postcode."""
    query = _query()
    place, km = _place()
    site_loading = (contains_eager(ServiceAtLocation.offer).selectinload(Offer.organisation),
                    contains_eager(ServiceAtLocation.offer).selectinload(Offer.verified_by),
                    contains_eager(ServiceAtLocation.location))
    stmt = (select(ServiceAtLocation).join(ServiceAtLocation.offer)
            .join(ServiceAtLocation.location)
            .where(ServiceAtLocation.offer_id.in_(search.matching_offer_ids(query))))
    start = (query.page - 1) * query.per_page
    if place is None:
        total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
        sites = db.session.scalars(
            stmt.options(*site_loading)
            .order_by(func.lower(Offer.name), Offer.id, ServiceAtLocation.id)
            .limit(query.per_page).offset(start)).all()
    else:
        if km is not None:
            stmt = stmt.where(*_box_around(place, km))
        measured = []
        for site in db.session.scalars(stmt.options(*site_loading)).all():
            loc = site.location
            distance = None
            if loc.latitude is not None and loc.longitude is not None:
                distance = haversine_km(place.latitude, place.longitude, loc.latitude,
                                        loc.longitude)
            if km is not None and (distance is None or distance > km):
                continue
            measured.append((distance, site))
        measured.sort(key=lambda m: (m[0] is None, m[0] or 0.0, m[1].offer.name.lower(),
                                     m[1].id))
        total = len(measured)
        sites = [site for _, site in measured[start:start + query.per_page]]
    contents = [oruk.service_at_location_summary(site) for site in sites]
    response = respond(oruk.page(contents, total=total, page_number=query.page,
                                 per_page=query.per_page))
    db.session.commit()  # a postcode looked up over HTTP is remembered
    return response


@bp.get("/service_at_locations/<site_id>")
@public
def show_service_at_location(site_id: str):
    """One service at one location, fully nested with its service."""
    site = db.session.scalars(
        select(ServiceAtLocation).where(ServiceAtLocation.id == site_id)
        .options(selectinload(ServiceAtLocation.offer).options(*search.offer_loading()),
                 selectinload(ServiceAtLocation.location))).first()
    if site is None:
        raise NotFound(f"No service_at_location with id {site_id!r}.")
    return respond(oruk.service_at_location_full(site, stored_kindly_terms()))


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@public
def not_here(rest: str):
    """Anything else under the prefix: a JSON 404, or 405 for a known path (read-only)."""
    adapter = current_app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(request.path, method="GET")
    except HTTPException:
        endpoint = None
    if endpoint and endpoint != "openreferral.not_here" and request.method != "GET":
        raise MethodNotAllowed(valid_methods=["GET", "HEAD", "OPTIONS"],
                               description="The Open Referral API is read-only.")
    raise NotFound(f"No Open Referral endpoint at {request.path}.")

