"""Loading the directory from Open Referral UK data, and exporting it back.

`import_pages()` upserts ORUK services by id (ORUK JSON pages, single services or lists);
`csv_layout.read_csv_folder()` turns the documented CSV layout (docs/openreferral.md) into
the same services; `export_page()` writes the whole directory as one ORUK page. Both flush
and never commit: the CLI command or the demo seeder that calls them commits.

Each service is upserted inside its own savepoint, so one bad service is reported and
skipped without losing the others.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import String, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from referrals.directory import oruk
from referrals.directory import vocabulary as v
from referrals.directory.search import offer_loading
from referrals.extensions import db
from referrals.models import (
    CapacityStatus,
    CostOption,
    DirectoryOrganisation,
    Location,
    Offer,
    OfferAttribute,
    OfferKind,
    Schedule,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
    utcnow,
)

ENTITIES = ("organizations", "taxonomies", "taxonomy_terms", "locations", "services",
            "service_at_locations", "schedules", "cost_options", "attributes")


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0


@dataclass
class ImportReport:
    """What an import did: counts per entity, a line per change, a line per problem."""

    counts: dict[str, Tally] = field(default_factory=lambda: {e: Tally() for e in ENTITIES})
    changes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    services_read: int = 0

    def add(self, other: ImportReport) -> None:
        for entity, tally in other.counts.items():
            mine = self.counts[entity]
            for outcome in ("created", "updated", "unchanged", "removed"):
                setattr(mine, outcome, getattr(mine, outcome) + getattr(tally, outcome))
        self.changes += other.changes
        self.errors += other.errors
        self.services_read += other.services_read

    @property
    def changed(self) -> bool:
        return any(t.created or t.updated or t.removed for t in self.counts.values())

    def summary(self) -> list[str]:
        lines = []
        for entity, t in self.counts.items():
            if t.created or t.updated or t.unchanged or t.removed:
                removed = f", {t.removed} removed" if t.removed else ""
                lines.append(f"{entity}: {t.created} created, {t.updated} updated, "
                             f"{t.unchanged} unchanged{removed}")
        return lines


class ImportFailed(ValueError):
    """A whole file or folder Kindly cannot read."""


# --- importing Open Referral services ----------------------------------------------


def import_pages(pages: Iterable, *, progress: Callable[[int], object] | None = None,
                 source: str = "") -> ImportReport:
    """Upsert every service in these ORUK documents (page envelopes with `contents`,
    single services, or lists of services). Problems with one service are reported in
    `errors` and the rest go on; a document that holds no services raises ImportFailed."""
    importer = _Importer(source)
    for document in pages:
        try:
            services = oruk.services_in(document)
        except oruk.MappingError as exc:
            raise ImportFailed(f"{source}: {exc}" if source else str(exc)) from None
        importer.run(services, progress)
    return importer.report


def services_in_documents(documents: Iterable) -> int:
    """How many services these documents hold (for a progress bar's length)."""
    total = 0
    for document in documents:
        try:
            total += len(oruk.services_in(document))
        except oruk.MappingError:
            pass
    return total


class _Importer:
    def __init__(self, source: str):
        self.source = source
        self.report = ImportReport()
        # (model, id) -> the fields applied this run, so an organisation or location
        # nested in many services is counted once.
        self.seen: dict[tuple[type, str], dict] = {}
        # Rows read up front, a page at a time, and ids known not to be stored yet: one
        # query per table per page instead of one per row.
        self.rows: dict[tuple[type, str], object] = {}
        self.missing: set[tuple[type, str]] = set()

    def where(self, number: int, data) -> str:
        prefix = f"{self.source}: " if self.source else ""
        return f"{prefix}item {number}, {oruk.describe(data)}"

    def run(self, services: list, progress) -> None:
        records = []
        for number, data in enumerate(services, start=1):
            self.report.services_read += 1
            try:
                records.append((self.where(number, data), oruk.service_record(data)))
            except oruk.MappingError as exc:
                self.report.errors.append(f"{self.where(number, data)}: {exc}")
                if progress is not None:
                    progress(1)
        self._preload([record for _, record in records])
        for where, record in records:
            step = _Step(self, where)
            try:
                with db.session.begin_nested():
                    step.apply(record)
            except oruk.MappingError as exc:
                self.report.errors.append(f"{where}: {exc}")
            except SQLAlchemyError as exc:
                detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
                self.report.errors.append(f"{where}: the database refused it ({detail})")
            else:
                self.report.add(step.report)
                self.seen.update(step.seen)
                self.rows.update(step.rows)
                self.missing -= set(step.rows)
            if progress is not None:
                progress(1)

    def _preload(self, records: list[oruk.ServiceRecord]) -> None:
        wanted: dict[type, set[str]] = {model: set() for model in (
            DirectoryOrganisation, Taxonomy, TaxonomyTerm, Location, Offer, ServiceAtLocation,
            Schedule, CostOption, OfferAttribute)}
        for record in records:
            if record.organisation:
                wanted[DirectoryOrganisation].add(record.organisation["id"])
            if record.offer["organisation_id"]:
                wanted[DirectoryOrganisation].add(record.offer["organisation_id"])
            wanted[Taxonomy].update(t["id"] for t in record.taxonomies)
            wanted[TaxonomyTerm].update(t["id"] for t in record.terms)
            wanted[TaxonomyTerm].update(record.term_refs)
            wanted[Location].update(loc["id"] for loc in record.locations)
            wanted[Location].update(site["location_id"] for site in record.sites)
            wanted[DirectoryOrganisation].update(
                loc["organisation_id"] for loc in record.locations if loc["organisation_id"])
            wanted[Offer].add(record.offer["id"])
            for model, rows in ((ServiceAtLocation, record.sites), (Schedule, record.schedules),
                                (CostOption, record.cost_options),
                                (OfferAttribute, record.attributes)):
                wanted[model].update(row["id"] for row in rows)
        for model, ids in wanted.items():
            ids -= {i for (m, i) in self.rows if m is model}
            ids = sorted(ids)
            options = _OFFER_CHILDREN if model is Offer else ()
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                found = {row.id: row for row in db.session.scalars(
                    select(model).where(model.id.in_(chunk)).options(*options))}
                for ident in chunk:
                    if ident in found:
                        self.rows[(model, ident)] = found[ident]
                    else:
                        self.missing.add((model, ident))


_OFFER_CHILDREN = (selectinload(Offer.sites), selectinload(Offer.schedules),
                   selectinload(Offer.cost_options), selectinload(Offer.attributes),
                   selectinload(Offer.verified_by))


class _Step:
    """One service's upsert; its counts and `seen` join the run's only if it succeeds."""

    def __init__(self, importer: _Importer, where: str):
        self.importer, self.where = importer, where
        self.report = ImportReport()
        self.seen: dict[tuple[type, str], dict] = {}
        self.rows: dict[tuple[type, str], object] = {}

    def get(self, model: type, ident: str):
        key = (model, ident)
        if key in self.rows:
            return self.rows[key]
        if key in self.importer.rows:
            return self.importer.rows[key]
        if key in self.importer.missing:
            return None
        return db.session.get(model, ident)

    # -- bookkeeping

    def _already(self, model: type, fields: dict) -> bool:
        key = (model, fields["id"])
        done = self.seen.get(key, self.importer.seen.get(key))
        return done is not None and done == fields

    def _note(self, entity: str, outcome: str, label: str, changed: list[str] = ()) -> None:
        tally = self.report.counts[entity]
        setattr(tally, outcome, getattr(tally, outcome) + 1)
        if outcome == "created":
            self.report.changes.append(f"created {label}")
        elif outcome == "updated":
            self.report.changes.append(f"updated {label}: {', '.join(changed)}")
        elif outcome == "removed":
            self.report.changes.append(f"removed {label}")

    def upsert(self, model: type, fields: dict, entity: str, label: str, *,
               create_only: bool = False):
        """Create or update one row by id; returns it."""
        fields = dict(fields)
        _check_lengths(model, fields, label)
        row = self.get(model, fields["id"])
        if self._already(model, fields):
            return row
        self.seen[(model, fields["id"])] = fields
        if row is None:
            row = model(**fields)
            db.session.add(row)
            self.rows[(model, fields["id"])] = row
            self._note(entity, "created", label)
            return row
        if create_only:
            self._note(entity, "unchanged", label)
            return row
        changed = [k for k, val in fields.items() if k != "id" and getattr(row, k) != val]
        for key in changed:
            setattr(row, key, fields[key])
        if changed and "updated_at" in fields and "updated_at" not in changed:
            # The source's last_modified, not the import's clock, or the next run of the
            # same file would find updated_at changed.
            row.updated_at = fields["updated_at"]
        self._note(entity, "updated" if changed else "unchanged", label, changed)
        return row

    # -- one service

    def apply(self, record: oruk.ServiceRecord) -> None:
        if record.organisation is not None:
            org = record.organisation
            self.upsert(DirectoryOrganisation, org, "organizations",
                        f"organisation {org['id']} ({org['name']!r})")
        for tax in record.taxonomies:
            complete = tax.pop("complete")
            self.upsert(Taxonomy, tax, "taxonomies", f"taxonomy {tax['id']} ({tax['name']!r})",
                        create_only=not complete)
        for term in record.terms:
            self.upsert(TaxonomyTerm, term, "taxonomy_terms",
                        f"taxonomy term {term['id']} ({term['name']!r})")
        db.session.flush()
        for term_id in record.term_refs:
            self._known_term(term_id)
        offer_fields = record.offer
        org_id = offer_fields["organisation_id"]
        if org_id and self.get(DirectoryOrganisation, org_id) is None:
            raise oruk.MappingError("organization_id",
                                    f"{org_id} is not in this file or the directory")
        for loc in record.locations:
            if loc["organisation_id"] and \
                    self.get(DirectoryOrganisation, loc["organisation_id"]) is None:
                # Kept as data, not as a link Kindly could not follow.
                loc["extra"] = {**loc["extra"], "organization_id": loc["organisation_id"]}
                loc["organisation_id"] = None
            self.upsert(Location, loc, "locations",
                        f"location {loc['id']} ({loc['name'] or loc['postal_code']!r})")
        db.session.flush()
        for site in record.sites:
            if self.get(Location, site["location_id"]) is None:
                raise oruk.MappingError("service_at_locations.location_id",
                                        f"{site['location_id']} is not in this file or the "
                                        "directory")
        offer = self._offer(offer_fields)
        db.session.flush()
        label = f"service {offer.id} ({offer.name!r})"
        self._children(offer, "sites", ServiceAtLocation, record.sites,
                       "service_at_locations", label)
        self._children(offer, "schedules", Schedule, record.schedules, "schedules", label)
        self._children(offer, "cost_options", CostOption, record.cost_options,
                       "cost_options", label)
        self._children(offer, "attributes", OfferAttribute, record.attributes,
                       "attributes", label)
        db.session.flush()
        db.session.expire(offer, ["sites", "schedules", "cost_options", "attributes"])

    def _known_term(self, term_id: str) -> None:
        if self.get(TaxonomyTerm, term_id) is not None:
            return
        data = None
        if term_id in v.CATEGORY_BY_ID:
            data = oruk.category_term(v.CATEGORY_BY_ID[term_id])
        for term in (*v.KIND_TERMS.values(), *v.CAPACITY_TERMS.values()):
            if term.id == term_id:
                data = oruk.vocabulary_term(term)
        if data is None:
            raise oruk.MappingError("attributes.taxonomy_term_id",
                                    f"{term_id} is not in this file or the directory")
        fields = oruk.term_fields(data, "taxonomy_term")
        name, description = oruk.KINDLY_TAXONOMIES[fields["taxonomy_id"]]
        self.upsert(Taxonomy, {"id": fields["taxonomy_id"], "name": name,
                               "description": description, "uri": "", "version": ""},
                    "taxonomies", f"taxonomy {fields['taxonomy_id']} ({name!r})",
                    create_only=True)
        self.upsert(TaxonomyTerm, fields, "taxonomy_terms",
                    f"taxonomy term {term_id} ({fields['name']!r})")
        db.session.flush()

    def _offer(self, fields: dict) -> Offer:
        fields = dict(fields)
        row = self.get(Offer, fields["id"])
        if fields["updated_at"] is None:
            del fields["updated_at"]
        if row is None:
            fields["kind"] = fields["kind"] or OfferKind.SERVICE
            fields["capacity_status"] = fields["capacity_status"] or CapacityStatus.OPEN
        else:
            for key in ("kind", "capacity_status"):
                if fields[key] is None:  # the source does not say: Kindly's value stands
                    del fields[key]
            current = row.verified_by_email or (row.verified_by.email if row.verified_by else "")
            if fields["verified_by_email"] == current:
                del fields["verified_by_email"]
            else:
                fields["verified_by_id"] = None
            if "capacity_status" in fields and fields["capacity_status"] != row.capacity_status:
                fields["capacity_updated_at"] = fields.get("updated_at") or utcnow()
        offer = self.upsert(Offer, fields, "services",
                            f"service {fields['id']} ({fields['name']!r})")
        if row is None:
            # A new offer's collections start empty here, so reading them later costs no
            # query.
            offer.sites, offer.schedules, offer.cost_options, offer.attributes = [], [], [], []
        return offer

    def _children(self, offer: Offer, collection: str, model: type, rows: list[dict],
                  entity: str, label: str) -> None:
        current = {row.id: row for row in getattr(offer, collection)}
        wanted = set()
        for fields in rows:
            wanted.add(fields["id"])
            self.upsert(model, fields, entity, f"{entity[:-1]} {fields['id']} of {label}")
        for row_id, row in current.items():
            if row_id not in wanted:
                db.session.delete(row)
                self._note(entity, "removed", f"{entity[:-1]} {row_id} of {label}")


def _check_lengths(model: type, fields: dict, label: str) -> None:
    """Refuse text longer than its column on every database (SQLite would keep it)."""
    for key, value in fields.items():
        column = model.__table__.columns.get(key)
        if column is None or not isinstance(value, str):
            continue
        if "\x00" in value:  # PostgreSQL refuses it; SQLite would keep it
            raise oruk.MappingError(f"{label}: {key}", "contains a NUL character")
        length = getattr(column.type, "length", None)
        if isinstance(column.type, String) and length and len(value) > length:
            raise oruk.MappingError(f"{label}: {key}",
                                    f"is {len(value)} characters long; Kindly keeps at most "
                                    f"{length}")


# --- export -------------------------------------------------------------------------


def stored_kindly_terms() -> dict[str, TaxonomyTerm]:
    """The kind and capacity terms as stored (one query), for oruk.service()."""
    return {t.id: t for t in db.session.scalars(
        select(TaxonomyTerm).where(TaxonomyTerm.id.in_(sorted(oruk.KINDLY_TERM_IDS))))}


def export_page() -> dict:
    """The whole directory (every status) as one ORUK page of fully nested services."""
    offers = db.session.scalars(
        select(Offer).options(*offer_loading()).order_by(Offer.name, Offer.id)).all()
    terms = stored_kindly_terms()
    contents = [oruk.service(offer, terms) for offer in offers]
    return oruk.page(contents, total=len(contents), page_number=1,
                     per_page=max(1, len(contents)))
