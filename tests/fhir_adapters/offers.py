"""Directory offers and connections for the FHIR tests, made with the models directly."""
from __future__ import annotations

import itertools
import uuid
from datetime import date, time

from referrals.directory import vocabulary
from referrals.models import (
    Connection,
    ConnectionKind,
    ConnectionStatus,
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
)

_seq = itertools.count(1)


def new_id() -> str:
    return str(uuid.uuid4())


def category_term(session, code: str) -> TaxonomyTerm:
    """Kindly's category term (fixed id), created with its taxonomy when missing."""
    if session.get(Taxonomy, vocabulary.TAXONOMY_ID) is None:
        session.add(Taxonomy(id=vocabulary.TAXONOMY_ID, name=vocabulary.TAXONOMY_NAME))
    category = vocabulary.CATEGORY_BY_CODE[code]
    term = session.get(TaxonomyTerm, category.id)
    if term is None:
        term = TaxonomyTerm(id=category.id, taxonomy_id=vocabulary.TAXONOMY_ID, code=code,
                            name=category.name)
        session.add(term)
        session.flush()
    return term


def organisation(session, name: str = "Kindly Walkers") -> DirectoryOrganisation:
    org = DirectoryOrganisation(id=new_id(), name=name, phone="01632 960000")
    session.add(org)
    session.flush()
    return org


def offer(session, *, name: str | None = None, org: DirectoryOrganisation | None = None,
          categories=("physical-activity",), schedules=(("TU", time(10), time(12)),),
          location: Location | None = None, **fields) -> Offer:
    """An active weekly group at one venue, with Kindly categories; override any field."""
    org = org if org is not None else organisation(session)
    defaults = {"description": "A gentle walk round the park, then tea.",
                "kind": OfferKind.GROUP, "is_free": True, "contact_phone": "01632 960001",
                "email": "walks@example.org", "url": "https://walks.example.org",
                "languages": ["en"]}
    defaults.update(fields)
    made = Offer(id=new_id(), name=name or f"Park walk {next(_seq)}", organisation=org,
                 **defaults)
    session.add(made)
    venue = location if location is not None else Location(
        id=new_id(), name="Riverside Park Café", address_1="1 Park Road",
        city="Kindleton", postal_code="KB1 1AA", latitude=52.1, longitude=-1.2,
        accessibility=["step-free", "seating"])
    made.sites.append(ServiceAtLocation(id=new_id(), location=venue))
    for byday, opens, closes in schedules:
        made.schedules.append(Schedule(id=new_id(), freq="WEEKLY" if byday[0].isalpha()
                                       else "MONTHLY", byday=byday, opens_at=opens,
                                       closes_at=closes))
    for code in categories:
        made.attributes.append(OfferAttribute(id=new_id(), term=category_term(session, code)))
    if not made.is_free:
        made.cost_options.append(CostOption(id=new_id(), option="per session", amount=3))
    session.flush()
    return made


def connection(session, referral, on_offer: Offer, status=ConnectionStatus.ATTENDED, *,
               kind=ConnectionKind.REFERRAL, started_on: date | None = date(2024, 3, 12),
               notes: str = "") -> Connection:
    made = Connection(referral_id=referral.id, offer=on_offer, kind=kind, status=status,
                      started_on=started_on, notes=notes)
    session.add(made)
    session.flush()
    session.expire(referral, ["connections"])
    return made
