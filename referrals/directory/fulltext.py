"""Words search over the database's own full-text engine: SQLite FTS5 (porter stemming,
bm25) or PostgreSQL text search ('english' stemming, ts_rank).

A search is planned in Python first, the same on both databases: the words (PostgreSQL's
stop words dropped), each mistyped word corrected against the index's vocabulary, and
each word or run of words widened by its synonyms (data/synonyms.csv) into one group of
alternatives. Every group must match; `search` falls back to any group when that finds
nothing. The words as typed rank above their synonyms.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from rapidfuzz.distance import OSA
from rapidfuzz.process import extract
from sqlalchemy import Float, String, func, select, text

from referrals.directory import indexing  # noqa: F401 (its hook keeps the index current)
from referrals.extensions import db
from referrals.models import SearchWord

TOKEN = re.compile(r"[^\W_]+")
MAX_WORDS = 10
# Shorter words have too many neighbours one letter away to guess which was meant.
SHORTEST_CORRECTED = 4
# What the words as typed weigh against any number of synonyms in the ranking.
ORIGINAL_BOOST = 1000.0
# PostgreSQL's stored, GIN-indexed tsvector of the name (weighted A) and the rest (B):
# a generated column the migration (3f1a2b7c9d10) adds on PostgreSQL only.
PG_DOCUMENT = "document"
# bm25 weights of the name and body columns of the FTS5 table.
SQLITE_WEIGHTS = "10.0, 1.0"

Words = tuple[str, ...]


@cache
def stop_words() -> frozenset[str]:
    lines = files("referrals.directory").joinpath("data/stopwords.txt").read_text("utf-8")
    return frozenset(w.strip() for w in lines.splitlines() if w.strip()
                     and not w.startswith("#"))


def tokens(phrase: str) -> Words:
    """Lower-case words, stop words and single letters dropped (both engines skip them)."""
    return tuple(w for w in TOKEN.findall(phrase.lower())
                 if len(w) > 1 and w not in stop_words())


@cache
def synonym_groups() -> dict[Words, tuple[Words, ...]]:
    """Each entry (as words) -> every entry of its group, itself first."""
    source = files("referrals.directory").joinpath("data/synonyms.csv").read_text("utf-8")
    groups: dict[Words, tuple[Words, ...]] = {}
    for row in csv.reader(line for line in source.splitlines()
                          if line.strip() and not line.startswith("#")):
        entries = [t for t in dict.fromkeys(tokens(cell) for cell in row) if t]
        for entry in entries:
            # A word in two groups (rarely) is widened by both.
            groups[entry] = tuple(dict.fromkeys((*groups.get(entry, (entry,)), *entries)))
    return groups


@cache
def synonym_words() -> frozenset[str]:
    return frozenset(w for entry in synonym_groups() for w in entry)


@dataclass(frozen=True)
class Group:
    """Words as typed (corrected), and the alternatives that also match them."""

    typed: Words
    alternatives: tuple[Words, ...]


@dataclass(frozen=True)
class Plan:
    groups: tuple[Group, ...]
    # The search as it was run, when a word was corrected; None when not.
    corrected: str | None = None

    def fts5(self, *, every: bool, typed_only: bool = False) -> str:
        """An FTS5 query: each word quoted (no operators from the user)."""
        def alternatives(group: Group) -> str:
            options = [group.typed] if typed_only else group.alternatives
            return "(" + " OR ".join(
                "(" + " AND ".join(f'"{w}"' for w in words) + ")" for words in options) + ")"
        return (" AND " if every else " OR ").join(alternatives(g) for g in self.groups)

    def tsquery(self, *, every: bool, typed_only: bool = False) -> str:
        """A to_tsquery('english', …) string; tokens are letters and digits only."""
        def alternatives(group: Group) -> str:
            options = [group.typed] if typed_only else group.alternatives
            return "(" + " | ".join(
                "(" + " & ".join(words) + ")" for words in options) + ")"
        return (" & " if every else " | ").join(alternatives(g) for g in self.groups)


def plan(phrase: str, *, correct: bool = True) -> Plan | None:
    """The search for these words, or None when there is no word to search for."""
    words = list(tokens(phrase)[:MAX_WORDS])
    if not words:
        return None
    corrected = False
    if correct:
        for i, word in enumerate(words):
            if (better := correction(word)) is not None:
                words[i], corrected = better, True
    groups, synonyms, i = [], synonym_groups(), 0
    while i < len(words):
        # The longest run of words from here that is a synonym entry, else one word.
        for end in range(len(words), i, -1):
            entry = tuple(words[i:end])
            if entry in synonyms or end == i + 1:
                groups.append(Group(entry, synonyms.get(entry, (entry,))))
                i = end
                break
    return Plan(tuple(groups), " ".join(words) if corrected else None)


def correction(word: str) -> str | None:
    """The word of the index's vocabulary (or of the synonyms) nearest a word that
    matches nothing; None when it is fine as it is or nothing is near enough."""
    if len(word) < SHORTEST_CORRECTED or word.isdigit() or word in synonym_words() \
            or _in_index(word):
        return None
    limit = 1 if len(word) <= 5 else 2
    vocabulary = set(db.session.scalars(
        select(SearchWord.word)
        .where(func.length(SearchWord.word).between(len(word) - limit, len(word) + limit))))
    vocabulary |= {w for w in synonym_words() if abs(len(w) - len(word)) <= limit}
    vocabulary.discard(word)
    near = extract(word, sorted(vocabulary), scorer=OSA.distance, score_cutoff=limit,
                   limit=None)
    if not near:
        return None
    # Fewest edits; then the same first letter (people rarely mistype it); then the
    # same length, then alphabetical so the answer never varies.
    best = min(near, key=lambda m: (m[1], m[0][0] != word[0], abs(len(m[0]) - len(word)),
                                    m[0]))
    return best[0]


def _in_index(word: str) -> bool:
    """Some offer has the word, or another form of it (stemmed as the index does)."""
    if db.session.get_bind().dialect.name == "postgresql":
        sql = text(f"SELECT 1 FROM offer_search_text WHERE {PG_DOCUMENT} "
                   "@@ to_tsquery('english', :q) LIMIT 1")
        return db.session.execute(sql, {"q": word}).first() is not None
    sql = text("SELECT 1 FROM offer_search_fts WHERE offer_search_fts MATCH :q LIMIT 1")
    return db.session.execute(sql, {"q": f'"{word}"'}).first() is not None


def matches(search: Plan, *, every: bool):
    """(offer_id, score) of the offers matching; lower scores rank first."""
    if db.session.get_bind().dialect.name == "postgresql":
        sql = text(
            f"SELECT offer_id, -(ts_rank({PG_DOCUMENT}, to_tsquery('english', :q)) "
            f"+ CASE WHEN {PG_DOCUMENT} @@ to_tsquery('english', :typed) "
            f"THEN {ORIGINAL_BOOST} ELSE 0 END) AS score "
            f"FROM offer_search_text WHERE {PG_DOCUMENT} @@ to_tsquery('english', :q)"
        ).bindparams(q=search.tsquery(every=every),
                     typed=search.tsquery(every=every, typed_only=True))
    else:
        sql = text(
            f"SELECT t.offer_id AS offer_id, bm25(offer_search_fts, {SQLITE_WEIGHTS}) "
            "- CASE WHEN t.id IN (SELECT rowid FROM offer_search_fts "
            f"WHERE offer_search_fts MATCH :typed) THEN {ORIGINAL_BOOST} ELSE 0 END AS score "
            "FROM offer_search_fts JOIN offer_search_text t ON t.id = offer_search_fts.rowid "
            "WHERE offer_search_fts MATCH :q"
        ).bindparams(q=search.fts5(every=every),
                     typed=search.fts5(every=every, typed_only=True))
    return sql.columns(offer_id=String, score=Float).subquery("text_match")

