"""Organization: a GP practice (by ODS code) or a connector team."""
from __future__ import annotations

from fhir_adapters import codes
from fhir_adapters.common import identifier_value
from referrals.models import Practice, Team


def practice_id(practice: Practice) -> str:
    return f"p-{practice.id}"


def team_id(team: Team) -> str:
    return f"team-{team.id}"


def practice_to_fhir(practice: Practice) -> dict:
    resource = {
        "resourceType": "Organization",
        "id": practice_id(practice),
        "identifier": [{"system": codes.ODS_CODE, "value": practice.ods_code}],
        "active": True,
        "name": practice.name,
    }
    if practice.phone:
        resource["telecom"] = [{"system": "phone", "value": practice.phone, "use": "work"}]
    if practice.address or practice.postcode:
        address = {"use": "work"}
        if practice.address:
            address["line"] = [part.strip() for part in practice.address.split(",") if part.strip()]
        if practice.postcode:
            address["postalCode"] = practice.postcode
        resource["address"] = [address]
    return resource


def team_to_fhir(team: Team) -> dict:
    return {
        "resourceType": "Organization",
        "id": team_id(team),
        "identifier": [{"system": codes.TEAM_ID, "value": str(team.id)}],
        "active": True,
        "type": [{"text": "Social prescribing service"}],
        "name": team.name,
    }


def from_fhir(resource: dict) -> dict:
    """What intake needs of an Organization: its ODS code and name."""
    return {
        "ods_code": (identifier_value(resource.get("identifier"), codes.ODS_CODE) or "").upper(),
        "name": resource.get("name") or "",
    }
