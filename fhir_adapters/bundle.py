"""Bundles we answer with: searchsets and transaction responses (plain dicts)."""
from __future__ import annotations

from fhir_adapters.common import instant
from referrals.models import utcnow


def searchset(*, base: str, self_url: str, next_url: str | None, total: int,
              matches: list[dict], includes: list[dict] = (), warnings: list[dict] = ()) -> dict:
    entries = [_entry(base, resource, "match") for resource in matches]
    entries += [_entry(base, resource, "include") for resource in includes]
    if warnings:
        entries.append({"resource": {"resourceType": "OperationOutcome", "issue": list(warnings)},
                        "search": {"mode": "outcome"}})
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "meta": {"lastUpdated": instant(utcnow())},
        "total": total,
        "link": links,
    }
    if entries:
        bundle["entry"] = entries
    return bundle


def _entry(base: str, resource: dict, mode: str) -> dict:
    return {
        "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": mode},
    }


def transaction_response(responses: list[dict]) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "meta": {"lastUpdated": instant(utcnow())},
        "entry": responses,
    }


def response_entry(base: str, resource: dict, status: str) -> dict:
    location = f"{resource['resourceType']}/{resource['id']}"
    version = (resource.get("meta") or {}).get("versionId")
    response = {"status": status, "location": f"{location}/_history/{version}" if version
                else location}
    if version:
        response["etag"] = f'W/"{version}"'
        response["lastModified"] = resource["meta"]["lastUpdated"]
    return {"fullUrl": f"{base}/{location}", "resource": resource, "response": response}
