"""FHIR `_lastUpdated` searches read by index: the plans of the statements the API really
sends (tests/explain.py), on SQLite and on PostgreSQL."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from referrals.models import (
    Connection,
    ConnectionKind,
    ConnectionStatus,
    Referral,
    ReferralStatus,
)
from tests.explain import analyze, captured, plans_reading, uses_index


@pytest.fixture
def referrals(db, make, practice, other_practice, offers_for_index):
    """The client's practice has forty referrals last changed in 2024 and three changed
    today, each with a connection; another practice has twenty. On PostgreSQL the planner
    measures the tables first (tests/explain.py analyze)."""
    made = [make.referral(practice, status=ReferralStatus.IN_PROGRESS) for _ in range(43)]
    others = [make.referral(other_practice, status=ReferralStatus.IN_PROGRESS)
              for _ in range(20)]
    for referral in made + others:
        referral.connections.append(Connection(
            offer=offers_for_index, kind=ConnectionKind.SIGNPOST,
            status=ConnectionStatus.ATTENDED))
    db.session.flush()
    long_ago = datetime(2024, 1, 1, tzinfo=UTC)
    settled = [r.id for r in made[3:] + others]
    db.session.execute(update(Referral).where(Referral.id.in_(settled))
                       .values(updated_at=long_ago))
    db.session.execute(update(Connection).where(Connection.referral_id.in_(settled))
                       .values(updated_at=long_ago))
    db.session.commit()
    analyze(db, "referral", "connection")
    return made[:3]


@pytest.fixture
def offers_for_index(db):
    from tests.referrals.directory.conftest import DirectoryBuilder
    return DirectoryBuilder(db.session).offer("Walking group")


@pytest.mark.parametrize("resource", ["ServiceRequest", "Task", "Procedure"])
def test_a_last_updated_search_reads_by_its_index(db, api, referrals, resource):
    since = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
    with captured(db) as sent:
        response = api.get(f"{resource}?_lastUpdated=ge{since}&_lastUpdated=lt2100-01-01")
    assert response.status_code == 200
    assert response.json["total"] == 3
    # The page and its total: each must read through the index.
    plans = plans_reading(db, sent, r"updated_at (>=|<)")
    assert len(plans) == 2
    sqlite = db.session.connection().dialect.name == "sqlite"
    for text in plans:
        if resource != "Procedure":
            assert uses_index(db, text, "ix_referral_practice_updated"), text
        elif not sqlite:
            assert uses_index(db, text, "ix_connection_updated_at"), text
        else:
            # SQLite plans without statistics and starts from the client's practice (by
            # index), then reads each referral's few connections by referral: no scan.
            assert uses_index(db, text, "ix_referral_practice_updated"), text
            assert uses_index(db, text, "ix_connection_referral"), text
            assert "SCAN" not in text, text
