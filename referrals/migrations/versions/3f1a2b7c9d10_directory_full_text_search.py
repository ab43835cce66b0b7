"""directory full-text search: each offer's searchable text, the database's own index
over it (SQLite FTS5 with triggers; a PostgreSQL stored tsvector with a GIN index), and the
vocabulary typos are corrected against; backfilled from the offers there are

Revision ID: 3f1a2b7c9d10
Revises: effe0104b510
Create Date: 2026-12-03 15:30:00.000000

"""
import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '3f1a2b7c9d10'
down_revision = 'effe0104b510'
branch_labels = None
depends_on = None

# Porter stemming over Unicode words; the name column weighs more in bm25 (search.py).
SQLITE_UP = [
    ("CREATE VIRTUAL TABLE offer_search_fts USING fts5(name, body, "
    "content='offer_search_text', content_rowid='id', tokenize='porter unicode61')"),
    ("CREATE TRIGGER offer_search_text_ai AFTER INSERT ON offer_search_text BEGIN "
    "INSERT INTO offer_search_fts(rowid, name, body) VALUES (new.id, new.name, new.body); END"),
    ("CREATE TRIGGER offer_search_text_ad AFTER DELETE ON offer_search_text BEGIN "
    "INSERT INTO offer_search_fts(offer_search_fts, rowid, name, body) "
    "VALUES ('delete', old.id, old.name, old.body); END"),
    ("CREATE TRIGGER offer_search_text_au AFTER UPDATE ON offer_search_text BEGIN "
    "INSERT INTO offer_search_fts(offer_search_fts, rowid, name, body) "
    "VALUES ('delete', old.id, old.name, old.body); "
    "INSERT INTO offer_search_fts(rowid, name, body) VALUES (new.id, new.name, new.body); END"),
]
SQLITE_DOWN = [
    "DROP TRIGGER offer_search_text_au",
    "DROP TRIGGER offer_search_text_ad",
    "DROP TRIGGER offer_search_text_ai",
    "DROP TABLE offer_search_fts",
]
# PostgreSQL: the weighted tsvector stored beside the text (so ranking reads it rather
# than parsing every matching row again), and a GIN index on it. Only PostgreSQL has the
# column: the ORM never writes it, and referrals.directory.fulltext.PG_DOCUMENT reads it.
PG_UP = [
    ("ALTER TABLE offer_search_text ADD COLUMN document tsvector GENERATED ALWAYS AS "
     "(setweight(to_tsvector('english'::regconfig, name), 'A') || "
     "setweight(to_tsvector('english'::regconfig, body), 'B')) STORED"),
    "CREATE INDEX ix_offer_search_text_document ON offer_search_text USING gin (document)",
]
PG_DOWN = ["DROP INDEX ix_offer_search_text_document"]
WORD = re.compile(r"[^\W\d_]{3,40}")


def upgrade():
    op.create_table(
        'offer_search_text',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('offer_id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_offer_search_text')),
        sa.UniqueConstraint('offer_id', name=op.f('uq_offer_search_text_offer_id')),
    )
    op.create_table(
        'search_word',
        sa.Column('word', sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint('word', name=op.f('pk_search_word')),
    )
    bind = op.get_bind()
    for statement in SQLITE_UP if bind.dialect.name == "sqlite" else PG_UP:
        op.execute(statement)
    _backfill(bind)


def _backfill(bind):
    """Every offer's text as referrals.directory.indexing writes it."""
    categories = {}
    for offer_id, term in bind.execute(sa.text(
            "SELECT a.offer_id, t.name FROM offer_attribute a "
            "JOIN taxonomy_term t ON t.id = a.taxonomy_term_id ORDER BY a.id")):
        categories.setdefault(offer_id, []).append(term)
    rows, words = [], set()
    for offer_id, name, description, organisation in bind.execute(sa.text(
            "SELECT o.id, o.name, o.description, g.name FROM offer o "
            "LEFT JOIN directory_organisation g ON g.id = o.organisation_id ORDER BY o.id")):
        body = "\n".join([description or "", organisation or "", *categories.get(offer_id, [])])
        rows.append({"offer_id": offer_id, "name": name or "", "body": body})
        words.update(WORD.findall(f"{name or ''} {body}".lower()))
    if rows:
        bind.execute(sa.text("INSERT INTO offer_search_text (offer_id, name, body) "
                             "VALUES (:offer_id, :name, :body)"), rows)
    if words:
        bind.execute(sa.text("INSERT INTO search_word (word) VALUES (:word)"),
                     [{"word": w} for w in sorted(words)])


def downgrade():
    bind = op.get_bind()
    for statement in SQLITE_DOWN if bind.dialect.name == "sqlite" else PG_DOWN:
        op.execute(statement)
    op.drop_table('search_word')
    op.drop_table('offer_search_text')
