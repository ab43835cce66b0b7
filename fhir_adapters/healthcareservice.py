"""HealthcareService: an offer of the community directory (an Open Referral service).

| Offer | HealthcareService |
|---|---|
| id | id (HSDS ids are UUIDs, valid FHIR ids) |
| status | active (true only when `active`) |
| organisation | providedBy: display + identifier (directory organisations are not served) |
| categories (Kindly taxonomy) | category (CodeSystem offer-category); other taxonomies' terms as text |
| kind | type (CodeSystem offer-kind) |
| name, description | name, comment |
| contact_phone, email, url | telecom |
| sites -> location | location -> Location/<id> (served by /fhir/Location) |
| weekly schedules | availableTime; anything else (monthly, fortnightly) in availabilityExceptions |
| ages, eligibility description | eligibility.comment |
| languages (ISO 639, none = English) | communication (urn:ietf:bcp:47) |
| cost, accessibility, contact name | extraDetails |
| capacity_status | extension capacity-status (valueCode open, waiting-list, full) |
| updated_at | meta.lastUpdated (offers carry no version) |
"""
from __future__ import annotations

from fhir_adapters import codes
from fhir_adapters.common import coding, instant, reference
from referrals.directory import display, vocabulary
from referrals.models import Offer, OfferStatus, Schedule

OFFER_CATEGORY = f"{codes.KINDLY}/CodeSystem/offer-category"
OFFER_KIND = f"{codes.KINDLY}/CodeSystem/offer-kind"
DIRECTORY_ORGANISATION = f"{codes.KINDLY}/Id/directory-organisation"
# Kindly's own: the SDOHCC capacity-status extension is in a draft (FMM 0) profile and
# its codes (capacity, no-capacity, waitlist, ...) do not say "waiting list" as ours do.
CAPACITY_EXT = f"{codes.KINDLY}/StructureDefinition/capacity-status"
LANGUAGE = "urn:ietf:bcp:47"
DAYS = {"MO": "mon", "TU": "tue", "WE": "wed", "TH": "thu", "FR": "fri", "SA": "sat",
        "SU": "sun"}
# Kindly's kind and capacity taxonomies travel as Open Referral attributes too; they
# are type and the extension here, not categories.
_NOT_CATEGORIES = frozenset({vocabulary.KIND_TAXONOMY_ID, vocabulary.CAPACITY_TAXONOMY_ID})


def to_fhir(offer: Offer) -> dict:
    resource = {
        "resourceType": "HealthcareService",
        "id": offer.id,
        "meta": {"lastUpdated": instant(offer.updated_at)},
        "extension": [{"url": CAPACITY_EXT, "valueCode": offer.capacity_status.value}],
        "active": offer.status is OfferStatus.ACTIVE,
    }
    if offer.organisation is not None:
        resource["providedBy"] = {
            "identifier": {"system": DIRECTORY_ORGANISATION, "value": offer.organisation.id},
            "display": offer.organisation.name,
        }
    if categories := _categories(offer):
        resource["category"] = categories
    resource["type"] = [{"coding": [coding(OFFER_KIND, offer.kind.value, offer.kind.label)],
                         "text": offer.kind.label}]
    if offer.locations:
        resource["location"] = [reference("Location", loc.id, loc.name or None)
                                for loc in offer.locations]
    resource["name"] = offer.name
    if offer.description:
        resource["comment"] = offer.description
    if extra := _extra_details(offer):
        resource["extraDetails"] = extra
    if telecom := _telecom(offer):
        resource["telecom"] = telecom
    if eligibility := _eligibility(offer):
        resource["eligibility"] = [{"comment": eligibility}]
    resource["communication"] = [
        {"coding": [coding(LANGUAGE, code, vocabulary.LANGUAGES.get(code))]}
        for code in offer.languages or ["en"]
    ]
    weekly = [s for s in offer.schedules if _is_weekly(s)]
    if weekly:
        resource["availableTime"] = [_available_time(s) for s in weekly]
    others = [t for t in (display.schedule_text(s) for s in offer.schedules
                          if not _is_weekly(s)) if t]
    if others:
        resource["availabilityExceptions"] = "; ".join(others)
    return resource


def _categories(offer: Offer) -> list[dict]:
    found = []
    for attribute in offer.attributes:
        term = attribute.term
        category = vocabulary.CATEGORY_BY_ID.get(term.id)
        if category is not None:
            found.append({"coding": [coding(OFFER_CATEGORY, category.code, category.name)],
                          "text": category.name})
        elif term.taxonomy_id not in _NOT_CATEGORIES and term.name:
            found.append({"text": term.name})
    return found


def _telecom(offer: Offer) -> list[dict]:
    telecom = []
    for system, value in (("phone", offer.contact_phone), ("email", offer.email),
                          ("url", offer.url)):
        if value:
            telecom.append({"system": system, "value": value, "use": "work"})
    return telecom


def _eligibility(offer: Offer) -> str:
    parts = []
    if offer.minimum_age is not None or offer.maximum_age is not None:
        parts.append(display.ages_text(offer) + ".")
    if offer.eligibility_description:
        parts.append(offer.eligibility_description)
    return " ".join(parts)


def _extra_details(offer: Offer) -> str:
    lines = [f"Cost: {display.cost_text(offer)}"]
    if access := display.accessibility_labels(offer.accessibility):
        lines.append(f"Access: {', '.join(access)}")
    if offer.contact_name:
        lines.append(f"Contact: {offer.contact_name}")
    return "\n\n".join(lines)


def _is_weekly(schedule: Schedule) -> bool:
    """Every week on plain weekdays: what availableTime can say without losing anything."""
    days = [p.strip().upper() for p in schedule.byday.split(",") if p.strip()]
    return (schedule.freq == "WEEKLY" and (schedule.interval or 1) == 1 and bool(days)
            and all(day in DAYS for day in days))


def _available_time(schedule: Schedule) -> dict:
    days = [p.strip().upper() for p in schedule.byday.split(",") if p.strip()]
    entry = {"daysOfWeek": [DAYS[day] for day in days]}
    if schedule.opens_at is not None:
        entry["availableStartTime"] = schedule.opens_at.strftime("%H:%M:%S")
    if schedule.closes_at is not None:
        entry["availableEndTime"] = schedule.closes_at.strftime("%H:%M:%S")
    return entry
