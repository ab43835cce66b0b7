"""Practitioner and PractitionerRole: referrers and connectors."""
from __future__ import annotations

from fhir_adapters import codes
from fhir_adapters.common import identifier_value, reference, split_reference
from fhir_adapters.organization import practice_id, team_id
from referrals.models import User

PROFESSIONAL_SYSTEMS = (codes.GMC_NUMBER, codes.NMC_NUMBER)


def practitioner_id(user: User) -> str:
    return f"u-{user.id}"


def role_id(user: User) -> str:
    return f"pr-{user.id}"


def _human_name(full: str) -> dict:
    parts = full.split()
    prefixes = [p for p in parts[:1] if p.rstrip(".") in {"Dr", "Nurse", "Mr", "Mrs", "Ms", "Miss"}]
    rest = parts[len(prefixes):]
    name = {"text": full}
    if rest:
        name["family"] = rest[-1]
        if rest[:-1]:
            name["given"] = rest[:-1]
    if prefixes:
        name["prefix"] = prefixes
    return name


def practitioner_to_fhir(user: User) -> dict:
    resource = {
        "resourceType": "Practitioner",
        "id": practitioner_id(user),
        "identifier": [{"system": codes.USER_ID, "value": str(user.id)}],
        "active": user.active,
        "name": [_human_name(user.name)],
    }
    if user.phone:
        resource["telecom"] = [{"system": "phone", "value": user.phone, "use": "work"}]
    return resource


def role_to_fhir(user: User) -> dict:
    resource = {
        "resourceType": "PractitionerRole",
        "id": role_id(user),
        "active": user.active,
        "practitioner": reference("Practitioner", practitioner_id(user), user.name),
        "code": [{"text": user.role.label}],
    }
    if user.practice is not None:
        resource["organization"] = reference("Organization", practice_id(user.practice),
                                             user.practice.name)
    elif user.team is not None:
        resource["organization"] = reference("Organization", team_id(user.team), user.team.name)
    if user.role.holds_caseload and user.phone:
        resource["telecom"] = [{"system": "phone", "value": user.phone, "use": "work"}]
    return resource


def practitioner_from_fhir(resource: dict) -> dict:
    """The referring clinician as the sending system describes them."""
    names = resource.get("name") or [{}]
    name = names[0]
    text = name.get("text") or " ".join(
        [*name.get("prefix", []), *name.get("given", []), name.get("family", "")]
    ).strip()
    identifier = None
    for system in PROFESSIONAL_SYSTEMS:
        if value := identifier_value(resource.get("identifier"), system):
            identifier = (system, value)
            break
    return {"name": text, "identifier": identifier}


def role_from_fhir(resource: dict) -> dict:
    return {
        "practitioner": split_reference((resource.get("practitioner") or {}).get("reference")),
        "organization": split_reference((resource.get("organization") or {}).get("reference")),
        "role": ((resource.get("code") or [{}])[0]).get("text", ""),
    }
