"""Small building blocks shared by the resource mappers."""
from __future__ import annotations

from datetime import date, datetime, timezone


def instant(value: datetime) -> str:
    """A FHIR instant/dateTime in UTC with a Z."""
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def fhir_date(value: date) -> str:
    return value.isoformat()


def meta(version: int, updated: datetime) -> dict:
    return {"versionId": str(version), "lastUpdated": instant(updated)}


def coding(system: str, code: str, display: str | None = None) -> dict:
    entry = {"system": system, "code": code}
    if display:
        entry["display"] = display
    return entry


def concept(system: str, code: str, display: str | None = None, text: str | None = None) -> dict:
    value = {"coding": [coding(system, code, display)]}
    if text:
        value["text"] = text
    return value


def reference(resource_type: str, resource_id: str | int, display: str | None = None,
              identifier: dict | None = None) -> dict:
    ref = {"reference": f"{resource_type}/{resource_id}"}
    if identifier:
        ref["identifier"] = identifier
    if display:
        ref["display"] = display
    return ref


def split_reference(value: str | None) -> tuple[str, str] | None:
    """'Patient/12' -> ('Patient', '12'); absolute URLs keep their last two segments."""
    if not value or "/" not in value:
        return None
    parts = value.rstrip("/").split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) < 2:
        return None
    return parts[-2], parts[-1]


def identifier_value(identifiers: list[dict] | None, system: str) -> str | None:
    for ident in identifiers or []:
        if ident.get("system") == system and ident.get("value"):
            return ident["value"]
    return None
