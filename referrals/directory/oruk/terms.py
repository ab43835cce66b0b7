"""Taxonomies and taxonomy terms, both ways, and the ids Kindly invents.

Kindly's own three taxonomies (categories, offer kinds, capacity status) as ORUK terms;
stored terms and taxonomies to ORUK dicts, and ORUK term and taxonomy objects to field
dicts.
"""
from __future__ import annotations

import uuid

from referrals.directory import vocabulary as v
from referrals.directory.oruk.formats import _extra_out, _put
from referrals.directory.oruk.reader import _Reader
from referrals.models import CapacityStatus, OfferKind, Taxonomy, TaxonomyTerm

# Names the demo file and every export give Kindly's three taxonomies.
KIND_TAXONOMY_NAME = "Kindly offer kinds"
CAPACITY_TAXONOMY_NAME = "Kindly capacity status"
KINDLY_TAXONOMIES = {
    v.TAXONOMY_ID: (v.TAXONOMY_NAME, v.TAXONOMY_DESCRIPTION),
    v.KIND_TAXONOMY_ID: (KIND_TAXONOMY_NAME, "What kind of offer a service is (Kindly)."),
    v.CAPACITY_TAXONOMY_ID: (CAPACITY_TAXONOMY_NAME,
                             "Whether a service is taking new people (Kindly)."),
}
KIND_BY_TERM_ID = {term.id: OfferKind(code) for code, term in v.KIND_TERMS.items()}
CAPACITY_BY_TERM_ID = {term.id: CapacityStatus(code) for code, term in v.CAPACITY_TERMS.items()}
KINDLY_TERM_IDS = frozenset(KIND_BY_TERM_ID) | frozenset(CAPACITY_BY_TERM_ID)


# Ids for nested objects Kindly has to invent (a phone typed into Kindly, say): uuid5 of the
# parent's id and the object's role, so every export gives the same id.
_GENERATED = uuid.uuid5(v.TAXONOMY_NAMESPACE, "kindly-open-referral-export")


def generated_id(parent_id: str, role: str) -> str:
    return str(uuid.uuid5(_GENERATED, f"{parent_id}:{role}"))


# --- export: Kindly's terms and stored ones to Open Referral --------------------------


def vocabulary_term(term: v.Term) -> dict:
    taxonomy_id = v.KIND_TAXONOMY_ID if term.taxonomy == v.KIND_TAXONOMY else v.CAPACITY_TAXONOMY_ID
    return {"id": term.id, "name": term.name, "description": term.name,
            "taxonomy_id": taxonomy_id, "taxonomy": KINDLY_TAXONOMIES[taxonomy_id][0]}


def category_term(category: v.Category) -> dict:
    return {"id": category.id, "name": category.name, "description": category.description,
            "taxonomy_id": v.TAXONOMY_ID, "taxonomy": v.TAXONOMY_NAME}


def kindly_vocabulary_terms() -> list[dict]:
    """Every term of Kindly's own taxonomies, as ORUK taxonomy terms."""
    return ([category_term(c) for c in v.CATEGORIES]
            + [vocabulary_term(t) for t in v.KIND_TERMS.values()]
            + [vocabulary_term(t) for t in v.CAPACITY_TERMS.values()])


_TERM_HANDLED = frozenset({"id", "name", "description", "parent_id", "taxonomy_id", "term_uri"})


def taxonomy_term(term: TaxonomyTerm) -> dict:
    out = _extra_out(term.extra, _TERM_HANDLED)
    out.update(id=term.id, name=term.name, description=term.description or "")
    _put(out, "parent_id", term.parent_id)
    _put(out, "taxonomy_id", term.taxonomy_id)
    _put(out, "term_uri", term.term_uri)
    return out


def taxonomy(tax: Taxonomy) -> dict:
    out = {"id": tax.id, "name": tax.name, "description": tax.description or ""}
    _put(out, "uri", tax.uri)
    _put(out, "version", tax.version)
    return out


# --- import: Open Referral terms and taxonomies to plain field dicts -------------------


def term_fields(data, where: str) -> dict:
    r = _Reader(data, where)
    term = {"id": r.id(), "name": r.text("name", required=True),
            "description": r.text("description"), "parent_id": r.id("parent_id", required=False),
            "taxonomy_id": r.id("taxonomy_id", required=False), "term_uri": r.text("term_uri"),
            "extra": r.rest(_TERM_HANDLED)}
    detail = r.data.get("taxonomy_detail")
    if term["taxonomy_id"] is None and isinstance(detail, dict) and detail.get("id"):
        term["taxonomy_id"] = str(detail["id"])
    category = v.CATEGORY_BY_ID.get(term["id"])
    # Only Kindly's categories carry a `code` column: the matcher reads it as a category.
    term["code"] = category.code if category else ""
    return term


def _taxonomies_of(data: dict, term: dict) -> list[dict]:
    detail = data.get("taxonomy_detail")
    if isinstance(detail, dict):
        r = _Reader(detail, "taxonomy_term.taxonomy_detail")
        return [{"id": r.id(), "name": r.text("name", required=True),
                 "description": r.text("description"), "uri": r.text("uri"),
                 "version": r.text("version"), "complete": True}]
    if term["taxonomy_id"]:
        name, description = KINDLY_TAXONOMIES.get(term["taxonomy_id"], ("", ""))
        named = data.get("taxonomy") if isinstance(data.get("taxonomy"), str) else ""
        return [{"id": term["taxonomy_id"], "name": name or named or term["taxonomy_id"],
                 "description": description, "uri": "", "version": "", "complete": False}]
    return []


def taxonomy_fields(data, where: str) -> dict:
    r = _Reader(data, where)
    return {"id": r.id(), "name": r.text("name", required=True),
            "description": r.text("description"), "uri": r.text("uri"),
            "version": r.text("version"), "complete": True}
