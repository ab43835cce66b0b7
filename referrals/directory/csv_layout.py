"""The directory's CSV layout (docs/openreferral.md): a folder of CSV files, one per
Open Referral table, read into the same ORUK services `importing.import_pages()` upserts.
Reads files only; nothing here touches the database.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from referrals.directory import oruk
from referrals.directory import vocabulary as v
from referrals.directory.importing import ImportFailed

CSV_FILES = ("organizations", "services", "locations", "service_at_locations", "schedules",
             "cost_options", "taxonomies", "taxonomy_terms", "attributes", "accessibility",
             "languages", "contacts", "phones")
NUMBER_COLUMNS = {"latitude", "longitude", "minimum_age", "maximum_age", "interval", "amount"}
ADDRESS_COLUMNS = ("address_1", "address_2", "city", "state_province", "postal_code",
                   "country")
# Shorthand a person can type in attributes.csv instead of one of Kindly's term ids.
SHORTHAND = {
    **{f"category:{c.code}": c.id for c in v.CATEGORIES},
    **{f"kind:{code}": t.id for code, t in v.KIND_TERMS.items()},
    **{f"capacity:{code}": t.id for code, t in v.CAPACITY_TERMS.items()},
}


@dataclass
class CsvRow:
    file: str
    line: int
    data: dict

    @property
    def where(self) -> str:
        return f"{self.file} line {self.line}"


def _number(text: str):
    try:
        number = float(text)
    except ValueError:
        return text  # the mapper names the bad value and where it is
    return int(number) if number.is_integer() and "." not in text else number


def _read(folder: Path, name: str) -> list[CsvRow]:
    path = folder / f"{name}.csv"
    if not path.exists():
        return []
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None:
                return []
            rows = []
            for line, raw in enumerate(reader, start=2):
                if None in raw:
                    raise ImportFailed(f"{path.name} line {line}: more cells than headings")
                data = {}
                for key, value in raw.items():
                    key, value = (key or "").strip(), (value or "").strip()
                    if key and value:
                        data[key] = _number(value) if key in NUMBER_COLUMNS else value
                if data:
                    rows.append(CsvRow(path.name, line, data))
            return rows
    except UnicodeDecodeError:
        raise ImportFailed(f"{path.name}: not UTF-8 text") from None
    except csv.Error as exc:
        raise ImportFailed(f"{path.name}: not a CSV file ({exc})") from None


def read_csv_folder(folder: Path) -> tuple[list[dict], list[str]]:
    """The services described by a folder of CSV files, as ORUK services, and the rows
    that could not be placed. ImportFailed if there is no services.csv."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ImportFailed(f"{folder}: not a folder")
    if not (folder / "services.csv").exists():
        raise ImportFailed(f"{folder}: no services.csv")
    tables = {name: _read(folder, name) for name in CSV_FILES}
    problems: list[str] = []

    def by(name: str, key: str) -> dict[str, list[CsvRow]]:
        grouped: dict[str, list[CsvRow]] = {}
        for row in tables[name]:
            parent = row.data.get(key)
            if parent is None:
                continue
            grouped.setdefault(parent, []).append(row)
        return grouped

    def by_id(name: str) -> dict[str, CsvRow]:
        return {row.data["id"]: row for row in tables[name] if "id" in row.data}

    organisations, locations = by_id("organizations"), by_id("locations")
    taxonomies, terms = by_id("taxonomies"), by_id("taxonomy_terms")
    phones = {key: by("phones", key) for key in ("service_id", "organization_id", "contact_id")}
    contacts, languages = by("contacts", "service_id"), by("languages", "service_id")
    accessibility, attributes = by("accessibility", "location_id"), by("attributes", "link_id")
    sites, schedules = by("service_at_locations", "service_id"), by("schedules", "service_id")
    costs = by("cost_options", "service_id")
    site_ids = {row.data.get("id") for row in tables["service_at_locations"]}
    service_ids = {row.data.get("id") for row in tables["services"]}

    for name, key, known in (("service_at_locations", "service_id", service_ids),
                             ("schedules", "service_id", service_ids),
                             ("cost_options", "service_id", service_ids),
                             ("languages", "service_id", service_ids),
                             ("contacts", "service_id", service_ids),
                             ("attributes", "link_id", service_ids),
                             ("accessibility", "location_id", set(locations))):
        for row in tables[name]:
            if row.data.get(key) not in known:
                problems.append(f"{row.where}: {key} {row.data.get(key)!r} is not in "
                                f"{'locations' if key == 'location_id' else 'services'}.csv")

    def phone_list(key: str, parent: str) -> list[dict]:
        found = [dict(r.data) for r in phones[key].get(parent, [])]
        for n, phone in enumerate(found):
            phone.setdefault("id", oruk.generated_id(parent, "phone" if n == 0 else f"phone:{n}"))
        return found

    def location(location_id: str) -> dict:
        data = dict(locations[location_id].data)
        address = {k: data.pop(k) for k in ADDRESS_COLUMNS if k in data}
        address_id = data.pop("address_id", None)
        if address:
            address = {"id": address_id or oruk.generated_id(location_id, "address"),
                       "location_id": location_id, **address}
            address.setdefault("country", "GB")
            for key in ("address_1", "city", "state_province", "postal_code"):
                address.setdefault(key, "")  # required by HSDS, so present even if empty
            address.setdefault("address_type", "physical")
            data["addresses"] = [address]
        entries = []
        for row in accessibility.get(location_id, []):
            entry = dict(row.data)
            entry.setdefault("id", oruk.generated_id(location_id,
                                                     f"accessibility:{entry.get('details')}"))
            entries.append(entry)
        if entries:
            data["accessibility"] = entries
        return data

    def term(term_id: str, where: str) -> dict | None:
        term_id = SHORTHAND.get(term_id, term_id)
        if term_id in terms:
            data = dict(terms[term_id].data)
            tax_id = data.get("taxonomy_id")
            if tax_id in taxonomies:
                data["taxonomy_detail"] = dict(taxonomies[tax_id].data)
            return data
        if term_id in v.CATEGORY_BY_ID:
            return oruk.category_term(v.CATEGORY_BY_ID[term_id])
        for known in (*v.KIND_TERMS.values(), *v.CAPACITY_TERMS.values()):
            if known.id == term_id:
                return oruk.vocabulary_term(known)
        problems.append(f"{where}: taxonomy_term_id {term_id!r} is not in "
                        "taxonomy_terms.csv or Kindly's own taxonomies")
        return None

    services = []
    for row in tables["services"]:
        service = dict(row.data)
        service_id = service.get("id", "")
        org_id = service.get("organization_id")
        if org_id in organisations:
            org = dict(organisations[org_id].data)
            if org_phones := phone_list("organization_id", org_id):
                org["phones"] = org_phones
            service["organization"] = org
        service["service_at_locations"] = []
        for site_row in sites.get(service_id, []):
            site = dict(site_row.data)
            location_id = site.get("location_id")
            if location_id in locations:
                site["location"] = location(location_id)
            elif location_id is not None:
                problems.append(f"{site_row.where}: location_id {location_id!r} is not in "
                                "locations.csv")
                continue
            service["service_at_locations"].append(site)
        service["schedules"] = [dict(r.data) for r in schedules.get(service_id, [])]
        for r in schedules.get(service_id, []):
            if r.data.get("service_at_location_id") not in (None, *site_ids):
                problems.append(f"{r.where}: service_at_location_id is not in "
                                "service_at_locations.csv")
        service["cost_options"] = [dict(r.data) for r in costs.get(service_id, [])]
        service["languages"] = []
        for r in languages.get(service_id, []):
            entry = dict(r.data)
            key = str(entry.get("code") or entry.get("name") or "").lower()
            entry.setdefault("id", oruk.generated_id(service_id, f"language:{key}"))
            service["languages"].append(entry)
        service["contacts"] = []
        for r in contacts.get(service_id, []):
            contact = dict(r.data)
            contact.setdefault("id", oruk.generated_id(service_id, "contact"))
            if contact_phones := phone_list("contact_id", contact["id"]):
                contact["phones"] = contact_phones
            service["contacts"].append(contact)
        if service_phones := phone_list("service_id", service_id):
            service["phones"] = service_phones
        service["attributes"] = []
        for r in attributes.get(service_id, []):
            attr = dict(r.data)
            if attr.get("link_entity", "service") != "service":
                problems.append(f"{r.where}: only attributes of services are imported")
                continue
            found = term(str(attr.get("taxonomy_term_id", "")), r.where)
            if found is None:
                continue
            attr["taxonomy_term_id"] = found["id"]
            attr["taxonomy_term"] = found
            attr.setdefault("id", oruk.generated_id(service_id, f"attribute:{found['id']}"))
            service["attributes"].append(attr)
        services.append(service)
    for r in tables["phones"]:
        if not any(r.data.get(k) for k in ("service_id", "organization_id", "contact_id")):
            problems.append(f"{r.where}: a phone needs a service_id, organization_id or "
                            "contact_id")
    return services, problems
