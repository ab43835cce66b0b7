"""The PCN tier of generated data (referrals/generate), in a database of its own, for any
test module that wants realistic volumes: one generation per module and backend costs a
few seconds.

    @pytest.fixture(scope="module", params=["sqlite", "postgresql"])
    def pcn(request, tmp_path_factory):
        with pcn_tier(request, tmp_path_factory.mktemp("pcn")) as (app, result):
            yield app, result
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from referrals.auth.service import hash_password
from referrals.extensions import db
from referrals.generate.build import Result, generate
from referrals.generate.tiers import TIERS
from tests.conftest import fresh_database, migrated_app

SEED = 13
TODAY = date(2026, 11, 30)  # a Monday; "now" is midday on it
PASSWORD = "kindly-generated"


@contextmanager
def pcn_tier(request, folder: Path, *, seed: int = SEED, today: date = TODAY, **config
             ) -> Iterator[tuple]:
    """(app, Result): an app on a fresh database holding the PCN tier."""
    with fresh_database(request, folder, "generated") as url, \
            migrated_app(url, **config) as app:
        with app.app_context():
            result: Result = generate(db.engine, TIERS["pcn"], seed=seed, today=today,
                                      password_hash=hash_password(PASSWORD))
        yield app, result
