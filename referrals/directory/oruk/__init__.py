"""Open Referral UK 3.0 (HSDS 3.0) to and from Kindly's directory models: pure functions,
no Flask and no session.

Export (`service()`, `service_summary()`, `service_at_location()`, `taxonomy_term()`, ...)
turns models into ORUK dicts; import (`service_record()`) turns one ORUK service dict into
plain field dicts, one per row, that `importing.py` upserts.

Nothing is lost either way:
- Fields Kindly does not model go into the row's `extra` verbatim and come back on export.
- Nested objects Kindly models only in part (addresses, contacts, phones, languages,
  accessibility entries, the kind and capacity attributes) are kept in `extra` as they came,
  unless they are exactly what export would write anyway; export writes the kept object
  with Kindly's current values on top, so every nested object gets its id back.
- A value Kindly re-formats ("10:00:00" as a time, "2.555" as an amount) is kept in
  `extra` as written and given back while Kindly's value still means the same.
- Offer kind and capacity status travel as attributes to terms of Kindly's own taxonomies
  (vocabulary.KIND_TERMS / CAPACITY_TERMS); they are columns, never OfferAttribute rows.

The modules, lowest first (each imports only those above it):
- `formats`: single values as HSDS text (times, dates, instants, amounts) and what counts
  as free.
- `reader`: `MappingError`, and reading typed values out of one ORUK object.
- `terms`: Kindly's own taxonomies and the ids Kindly invents; taxonomy terms both ways.
- `locations`, `contacts`: the nested objects Kindly models only in part, both ways, since
  reading one means comparing it with what export would write.
- `write`: services, schedules, cost options, languages, attributes and sites to ORUK; the
  page envelope.
- `read`: one ORUK service to a `ServiceRecord`; which documents hold services.

Callers import from here (`from referrals.directory import oruk`), not from the modules.
"""
from referrals.directory.oruk.contacts import (
    organisation_fields,
    organization,
    organization_summary,
)
from referrals.directory.oruk.formats import (
    FORMATS,
    is_free,
    parse_amount,
    parse_date,
    parse_instant,
    parse_time,
    says_free,
)
from referrals.directory.oruk.locations import location, location_fields
from referrals.directory.oruk.read import (
    ServiceRecord,
    describe,
    service_record,
    services_in,
)
from referrals.directory.oruk.reader import MappingError
from referrals.directory.oruk.terms import (
    CAPACITY_BY_TERM_ID,
    CAPACITY_TAXONOMY_NAME,
    KIND_BY_TERM_ID,
    KIND_TAXONOMY_NAME,
    KINDLY_TAXONOMIES,
    KINDLY_TERM_IDS,
    category_term,
    generated_id,
    kindly_vocabulary_terms,
    taxonomy,
    taxonomy_fields,
    taxonomy_term,
    term_fields,
    vocabulary_term,
)
from referrals.directory.oruk.write import (
    OPENAPI_URL,
    PROFILE_URL,
    VERSION,
    cost_option,
    page,
    schedule,
    service,
    service_at_location,
    service_at_location_full,
    service_at_location_summary,
    service_summary,
)

__all__ = [
    "CAPACITY_BY_TERM_ID",
    "CAPACITY_TAXONOMY_NAME",
    "FORMATS",
    "KINDLY_TAXONOMIES",
    "KINDLY_TERM_IDS",
    "KIND_BY_TERM_ID",
    "KIND_TAXONOMY_NAME",
    "OPENAPI_URL",
    "PROFILE_URL",
    "VERSION",
    "MappingError",
    "ServiceRecord",
    "category_term",
    "cost_option",
    "describe",
    "generated_id",
    "is_free",
    "kindly_vocabulary_terms",
    "location",
    "location_fields",
    "organisation_fields",
    "organization",
    "organization_summary",
    "page",
    "parse_amount",
    "parse_date",
    "parse_instant",
    "parse_time",
    "says_free",
    "schedule",
    "service",
    "service_at_location",
    "service_at_location_full",
    "service_at_location_summary",
    "service_record",
    "service_summary",
    "services_in",
    "taxonomy",
    "taxonomy_fields",
    "taxonomy_term",
    "term_fields",
    "vocabulary_term",
]
