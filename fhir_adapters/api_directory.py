"""/fhir reads and searches of the community directory: HealthcareService (offers) and
Location (their venues).

Directory data is public (access.scope_directory: the same offers are on /directory and
/openreferral), so any API client sees all of it, whatever its practices, and nothing is
audited: no person's record is read.
"""
from __future__ import annotations

from flask import g, request
from sqlalchemy import select

from fhir_adapters import healthcareservice as hs_map
from fhir_adapters import location as location_map
from fhir_adapters import search
from fhir_adapters.errors import FhirError, NotFound
from fhir_adapters.http import api_client_required, bp, respond
from fhir_adapters.searchset import includes_asked, keyset_page, searchset_response, unique
from referrals import access
from referrals.directory.search import offer_loading
from referrals.extensions import db
from referrals.models import Location, Offer

INCLUDE_LOCATION = "HealthcareService:location"


@bp.route("/HealthcareService/<service_id>")
@api_client_required
def read_healthcare_service(service_id: str):
    """One offer of the directory."""
    offer = db.session.scalars(access.scope_directory(select(Offer), g.api_client)
                               .where(Offer.id == service_id)
                               .options(*offer_loading())).first() \
        if search.is_fhir_id(service_id) else None
    if offer is None:
        raise NotFound(f"No HealthcareService with id {service_id!r}")
    return respond(hs_map.to_fhir(offer))


@bp.route("/HealthcareService")
@api_client_required
def search_healthcare_services():
    """Search offers by name, active, category and kind; `_include=HealthcareService:location`
    adds their venues."""
    params = request.args.to_dict(flat=False)
    count = search.count_param(request.args.get("_count"))
    after = request.args.get("_after")
    if after is not None and not search.is_fhir_id(after):
        raise FhirError("_after must be the cursor from a next link", expression=["_after"])
    includes_wanted = includes_asked(INCLUDE_LOCATION)
    query, warnings = search.apply_healthcare_service(
        access.scope_directory(select(Offer), g.api_client), params, hs_map.OFFER_CATEGORY,
        hs_map.OFFER_KIND)
    total, rows, more = keyset_page(query, Offer.id, count=count, after=after,
                                    load=lambda stmt: stmt.options(*offer_loading()))
    included = unique([location_map.to_fhir(loc) for offer in rows for loc in offer.locations]) \
        if includes_wanted else []
    return searchset_response("HealthcareService", params, total=total,
                              matches=[hs_map.to_fhir(offer) for offer in rows],
                              after=rows[-1].id if more and rows else None,
                              includes=included, warnings=warnings)


@bp.route("/Location/<location_id>")
@api_client_required
def read_location(location_id: str):
    """One venue of the directory (HealthcareService.location points here)."""
    location = db.session.scalars(access.scope_directory(select(Location), g.api_client)
                                  .where(Location.id == location_id)).first() \
        if search.is_fhir_id(location_id) else None
    if location is None:
        raise NotFound(f"No Location with id {location_id!r}")
    return respond(location_map.to_fhir(location))
