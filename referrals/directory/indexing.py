"""Keeping the search index current: after every flush that creates, edits, retires or
deletes an offer, or renames its organisation or one of its categories, the offer's row
of searchable text is rewritten (the database's own full-text index follows it: FTS5
triggers on SQLite, a generated tsvector column on PostgreSQL) and new words join the
vocabulary that typos are corrected against.

A session hook rather than calls in each service: the directory service, the importer,
the demo and the bench all change offers through the ORM, and none can forget it.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import Connection, delete, event, insert, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from referrals.models import (
    DirectoryOrganisation,
    Offer,
    OfferAttribute,
    OfferSearchText,
    SearchWord,
    TaxonomyTerm,
)

WORD = re.compile(r"[^\W\d_]{3,40}")
CHUNK = 500
# Offer columns whose change alters what the index reads.
_OFFER_TEXT = ("name", "description", "organisation", "organisation_id")


def words_of(text: str) -> set[str]:
    """The words worth correcting a typo to (three letters or more)."""
    return set(WORD.findall(text.lower()))


@event.listens_for(Session, "after_flush")
def _reindex_after_flush(session: Session, _context) -> None:
    offer_ids, organisation_ids, term_ids = set(), set(), set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Offer):
            if obj in session.dirty and not _changed(obj, _OFFER_TEXT):
                continue
            offer_ids.add(obj.id)
        elif isinstance(obj, OfferAttribute):
            offer_ids.add(obj.offer_id)
        elif isinstance(obj, DirectoryOrganisation) and _changed(obj, ("name",)):
            organisation_ids.add(obj.id)
        elif isinstance(obj, TaxonomyTerm) and obj not in session.new \
                and _changed(obj, ("name",)):
            term_ids.add(obj.id)
    if not (offer_ids or organisation_ids or term_ids):
        return
    connection = session.connection()
    for ids in _chunks(sorted(organisation_ids)):
        offer_ids.update(connection.scalars(
            select(Offer.id).where(Offer.organisation_id.in_(ids))))
    for ids in _chunks(sorted(term_ids)):
        offer_ids.update(connection.scalars(
            select(OfferAttribute.offer_id).where(OfferAttribute.taxonomy_term_id.in_(ids))))
    offer_ids.discard(None)
    reindex(connection, offer_ids)


def _changed(obj, attributes: Iterable[str]) -> bool:
    state = inspect(obj)
    return obj in state.session.new or any(
        state.attrs[name].history.has_changes() for name in attributes)


def _chunks(ids: list, size: int = CHUNK):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def reindex(connection: Connection, offer_ids: Iterable[str]) -> None:
    """Rewrite the searchable text of these offers (those deleted lose theirs)."""
    for ids in _chunks(sorted(offer_ids)):
        documents = documents_for(connection, ids)
        connection.execute(delete(OfferSearchText).where(OfferSearchText.offer_id.in_(ids)))
        if documents:
            connection.execute(insert(OfferSearchText), documents)
        _add_words(connection, set().union(
            *(words_of(f"{d['name']} {d['body']}") for d in documents)))


def documents_for(connection: Connection, ids: list[str]) -> list[dict]:
    """Name, and the rest: description, organisation and category names."""
    categories: dict[str, list[str]] = {}
    for offer_id, term in connection.execute(
            select(OfferAttribute.offer_id, TaxonomyTerm.name)
            .join(TaxonomyTerm, TaxonomyTerm.id == OfferAttribute.taxonomy_term_id)
            .where(OfferAttribute.offer_id.in_(ids)).order_by(OfferAttribute.id)):
        categories.setdefault(offer_id, []).append(term)
    return [
        {"offer_id": offer_id, "name": name or "",
         "body": "\n".join([description or "", organisation or "",
                            *categories.get(offer_id, [])])}
        for offer_id, name, description, organisation in connection.execute(
            select(Offer.id, Offer.name, Offer.description, DirectoryOrganisation.name)
            .outerjoin(DirectoryOrganisation, DirectoryOrganisation.id == Offer.organisation_id)
            .where(Offer.id.in_(ids)))
    ]


def _add_words(connection: Connection, words: set[str]) -> None:
    # Two editors may add the same new word at once: the second insert does nothing.
    dialect_insert = postgresql.insert if connection.dialect.name == "postgresql" \
        else sqlite.insert
    for chunk in _chunks(sorted(words)):
        connection.execute(dialect_insert(SearchWord).on_conflict_do_nothing(),
                           [{"word": w} for w in chunk])
