"""Location: a venue of the community directory (an Open Referral location).

Served as its own resource rather than contained in each HealthcareService: a venue
has its own id and is shared by many offers, and FHIR allows contained resources only
for things that cannot be identified on their own.
"""
from __future__ import annotations

from referrals.models import Location


def to_fhir(location: Location) -> dict:
    resource = {
        "resourceType": "Location",
        "id": location.id,
        "status": "active",
        "mode": "instance",
    }
    if location.name:
        resource["name"] = location.name
    if location.description:
        resource["description"] = location.description
    # Virtual venues have no address; R4's location-physical-type has no code for them.
    if location.location_type != "virtual" and (address := _address(location)):
        resource["address"] = address
    if location.latitude is not None and location.longitude is not None:
        resource["position"] = {"longitude": location.longitude, "latitude": location.latitude}
    return resource


def _address(location: Location) -> dict | None:
    address = {}
    if lines := [line for line in (location.address_1, location.address_2) if line]:
        address["line"] = lines
    for element, value in (("city", location.city), ("district", location.state_province),
                           ("postalCode", location.postal_code)):
        if value:
            address[element] = value
    if not address:
        return None
    address["use"] = "work"
    if location.country:
        address["country"] = location.country
    return address
