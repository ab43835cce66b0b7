"""FHIR `_lastUpdated` searches read by index: the plans of the statements the API really
sends (tests/explain.py), on SQLite and on PostgreSQL."""
from __future__ import annotations

import pytest

from referrals.models import Connection, ConnectionKind, ConnectionStatus, ReferralStatus
from tests.explain import analyze, captured, plans_reading, uses_index


@pytest.fixture
def referrals(db, make, practice, other_practice, offers_for_index):
    """Three of the client's referrals with a connection each, among another practice's
    forty; the planner measures the tables first (tests/explain.py analyze)."""
    made = [make.referral(practice, status=ReferralStatus.IN_PROGRESS) for _ in range(3)]
    others = [make.referral(other_practice, status=ReferralStatus.IN_PROGRESS)
              for _ in range(40)]
    for referral in made + others:
        referral.connections.append(Connection(
            offer=offers_for_index, kind=ConnectionKind.SIGNPOST,
            status=ConnectionStatus.ATTENDED))
    db.session.commit()
    analyze(db, "referral", "connection")
    return made


@pytest.fixture
def offers_for_index(db):
    from tests.referrals.directory.conftest import DirectoryBuilder
    return DirectoryBuilder(db.session).offer("Walking group")


@pytest.mark.parametrize("resource, index", [
    ("ServiceRequest", "ix_referral_practice_updated"),
    ("Task", "ix_referral_practice_updated"),
    ("Procedure", "ix_connection_referral_updated"),
])
def test_a_last_updated_search_reads_by_its_index(db, api, referrals, resource, index):
    with captured(db) as sent:
        response = api.get(f"{resource}?_lastUpdated=ge2020-01-01&_lastUpdated=lt2100-01-01")
    assert response.status_code == 200
    assert response.json["total"] == 3
    # The page and its total: each must read through the index.
    plans = plans_reading(db, sent, r"updated_at (>=|<)")
    assert len(plans) == 2
    for text in plans:
        assert uses_index(db, text, index), text
