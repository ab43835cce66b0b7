"""The data generator (referrals/generate): the PCN tier, generated once per backend, has
the tier's volumes and realistic shares, every history follows the state machines, and
the same seed gives the same rows. The command refuses a database in use and the
production configuration."""
from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from referrals import create_app, workdays, workflow
from referrals.extensions import db
from referrals.generate.build import now_on
from referrals.matching.service import CONNECTION_MOVES
from referrals.models import (
    AuditEvent,
    Connection,
    ConnectionEvent,
    Contact,
    DirectoryOrganisation,
    FollowUp,
    Measurement,
    Offer,
    Patient,
    PostcodeDeprivation,
    Practice,
    Referral,
    ReferralChange,
    ReferralEvent,
    ReferralReason,
    ReferralStatus,
    Role,
    Team,
    UnmetNeed,
    User,
)
from referrals.outcomes import instruments as registry
from referrals.outcomes.scoring import score
from tests.conftest import fresh_database, migrated_app
from tests.generated import PASSWORD, SEED, TODAY, pcn_tier

S = ReferralStatus
NOW = now_on(TODAY)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def pcn(request, tmp_path_factory):
    with pcn_tier(request, tmp_path_factory.mktemp("pcn")) as (app, result):
        yield app, result, request.param


@pytest.fixture
def session(pcn):
    app, _, _ = pcn
    with app.app_context():
        yield db.session
        db.session.rollback()
        db.session.remove()


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def shares(values) -> dict:
    counts = Counter(values)
    total = sum(counts.values())
    return {key: n / total for key, n in counts.items()}


# --- volumes -------------------------------------------------------------------------


def test_the_pcn_tier_has_its_volumes(session, pcn):
    _, result, _ = pcn
    assert count(session, Practice) == 5
    assert len({p for p in session.scalars(select(Practice.pcn_name))}) == 1
    assert count(session, Team) == 1
    roles = Counter(session.scalars(select(User.role)))
    assert roles[Role.REFERRER] == 25 and roles[Role.MANAGER] == 5
    assert roles[Role.CONNECTOR] == 3 and roles[Role.COORDINATOR] == 1
    assert count(session, Referral) == 1000
    assert 850 <= count(session, Patient) <= 1000
    assert 6000 <= count(session, Contact) <= 8000
    assert 2500 <= count(session, FollowUp) <= 3600
    assert 2500 <= count(session, Connection) <= 3600
    assert 1200 <= count(session, Measurement) <= 1800
    status_events = count(session, ReferralEvent, ReferralEvent.kind == "status")
    assert 3300 <= status_events <= 4500
    assert count(session, Offer) == 500 and count(session, DirectoryOrganisation) == 200
    assert result.rows["referral"] == 1000 and result.rows["contact"] == count(session, Contact)
    # Every referral is in its year, none after "now".
    first, last = session.execute(select(func.min(Referral.created_at),
                                         func.max(Referral.created_at))).one()
    assert NOW - timedelta(days=366) <= first and last < NOW
    for moment in (Contact.at, ReferralEvent.at, ConnectionEvent.at, FollowUp.closed_at,
                   Measurement.recorded_at, AuditEvent.at, UnmetNeed.recorded_at):
        assert session.scalar(select(func.max(moment))) <= NOW, moment


def test_statuses_are_mostly_completed_with_some_of_every_kind(session):
    share = shares(session.scalars(select(Referral.status)))
    assert 0.5 <= share[S.COMPLETED] <= 0.7
    assert 0.04 <= share[S.DECLINED] <= 0.15 and 0.04 <= share[S.UNABLE_TO_CONTACT] <= 0.15
    assert 0.01 <= share[S.REJECTED] <= 0.06 and 0.005 <= share[S.CANCELLED] <= 0.05
    open_share = sum(share.get(s, 0) for s in (S.RECEIVED, S.ACCEPTED, S.IN_PROGRESS))
    assert 0.08 <= open_share <= 0.22  # §A4: ~150 open of 1,000
    assert share[S.RECEIVED] > 0
    # Still waiting for triage means arrived lately.
    oldest = session.scalar(select(func.min(Referral.created_at))
                            .where(Referral.status == S.RECEIVED))
    assert NOW - oldest < timedelta(days=60)


def test_people_are_mostly_women_older_and_of_every_ethnic_category(session):
    sexes = shares(p.value for p in session.scalars(select(Patient.sex)))
    assert 0.55 <= sexes["female"] <= 0.65
    ages = [(TODAY - born).days / 365.25 for born in session.scalars(select(Patient.birth_date))]
    assert min(ages) >= 18 and statistics.median(ages) >= 55
    ethnic = shares(session.scalars(select(Patient.ethnic_category)))
    assert 0.55 <= ethnic["A"] <= 0.75
    assert 0.08 <= ethnic["99"] <= 0.2 and 0.01 <= ethnic["Z"] <= 0.08
    assert len(ethnic) >= 12
    # Someone referring themselves may not give an NHS number; everyone else has one.
    missing = session.scalars(select(Referral.source).join(Patient).where(
        Patient.nhs_number.is_(None))).all()
    assert missing and set(missing) == {"self"}
    assert all(n.startswith("999") for n in session.scalars(
        select(Patient.nhs_number).where(Patient.nhs_number.is_not(None))))


def test_referrals_come_by_every_route_mostly_routine_and_skewed_by_practice(session):
    sources = shares(session.scalars(select(Referral.source)))
    assert set(sources) == {"form", "fhir", "self"} and sources["form"] > 0.6
    assert shares(session.scalars(select(Referral.urgency)))["routine"] >= 0.85
    per_practice = session.scalars(select(func.count()).select_from(Referral)
                                   .group_by(Referral.practice_id)).all()
    assert max(per_practice) >= 1.5 * min(per_practice)
    # Practices send referrals on working days; a person may write at the weekend.
    for source, created in session.execute(select(Referral.source, Referral.created_at)):
        assert source == "self" or workdays.is_working_day(workdays.uk_date(created))
    codes = shares(session.scalars(select(ReferralReason.code)))
    assert max(codes, key=codes.get) in ("social-isolation", "loneliness")
    from referrals.reasons import BY_CODE
    assert set(codes) <= set(BY_CODE)


def test_first_contact_is_mostly_within_the_target_with_a_tail(session):
    rows = session.execute(select(Referral.first_contact_at, Referral.first_contact_due)
                           .where(Referral.first_contact_at.is_not(None))).all()
    within = sum(workdays.uk_date(at) <= due for at, due in rows) / len(rows)
    assert 0.6 <= within <= 0.95


def test_connections_reach_an_activity_for_about_two_in_five(session):
    statuses = Counter(session.scalars(select(Connection.status)))
    for status in ("attended", "did_not_attend", "no_capacity", "declined"):
        assert statuses[status] > 50, status
    reached = count(session, Referral, Referral.id.in_(
        select(Connection.referral_id).where(Connection.status == "attended")))
    assert 0.3 <= reached / 1000 <= 0.5
    # Each connection's offer is active and its started date is when it was attended.
    assert count(session, Connection, Connection.offer_id.in_(
        select(Offer.id).where(Offer.status != "active"))) == 0
    assert count(session, Connection, Connection.status == "attended",
                 Connection.started_on.is_(None)) == 0


def test_measures_score_by_their_instrument_and_improve_a_little(session):
    by_referral = defaultdict(dict)
    for m in session.scalars(select(Measurement)):
        instrument = registry.get(m.instrument)
        assert m.scores == score(instrument, m.answers), m.id
        assert m.instrument_version == instrument.version
        by_referral[(m.referral_id, m.instrument)][m.timepoint.value] = m
    changes = defaultdict(list)
    for pair in by_referral.values():
        later = pair.get("follow-up") or pair.get("closing")
        assert "baseline" in pair
        if later is None:
            continue
        assert later.completed_on >= pair["baseline"].completed_on
        for rule, before in pair["baseline"].scores.items():
            if before is not None and later.scores[rule] is not None:
                changes[rule].append(later.scores[rule] - before)
    assert 0.3 <= statistics.mean(changes["life_satisfaction"]) <= 2.0
    assert statistics.mean(changes["anxiety"]) < 0
    assert statistics.mean(changes["loneliness"]) < 0  # UCLA: lower is less lonely
    # Not everyone improves.
    assert min(changes["life_satisfaction"]) < 0
    engaged = count(session, Referral, Referral.first_contact_at.is_not(None))
    with_baseline = len({referral for referral, _ in by_referral})
    assert with_baseline >= 0.75 * engaged


def test_unmet_needs_and_deprivation_cover_the_generated_places(session):
    unmet = session.scalars(select(UnmetNeed)).all()
    assert 0.01 * 1000 <= len(unmet) <= 0.08 * 1000
    from referrals.directory.vocabulary import CATEGORY_BY_CODE
    assert all(n.category in CATEGORY_BY_CODE and n.postcode_district for n in unmet)
    assert len({n.reason for n in unmet}) >= 4
    # Every person's postcode has a decile; deciles differ by district.
    assert count(session, Patient, Patient.postcode.not_in(
        select(PostcodeDeprivation.postcode))) == 0
    deciles = defaultdict(list)
    for postcode, decile in session.execute(select(PostcodeDeprivation.postcode,
                                                   PostcodeDeprivation.imd_decile)):
        deciles[postcode.split()[0]].append(decile)
    means = [statistics.mean(d) for d in deciles.values()]
    assert max(means) - min(means) >= 2


# --- consistency ---------------------------------------------------------------------


def test_every_referral_history_follows_the_state_machine(session):
    events = defaultdict(list)
    for e in session.scalars(select(ReferralEvent).order_by(ReferralEvent.at,
                                                            ReferralEvent.id)):
        events[e.referral_id].append(e)
    versions = defaultdict(list)
    for referral_id, version in session.execute(select(ReferralChange.referral_id,
                                                       ReferralChange.version)):
        versions[referral_id].append(version)
    for r in session.scalars(select(Referral)):
        history = [e for e in events[r.id] if e.kind == "status"]
        assert history[0].from_status is None and history[0].to_status is S.RECEIVED
        assert history[0].at == r.created_at
        for before, after in itertools.pairwise(history):
            assert after.from_status is before.to_status, r.reference
            assert after.to_status in workflow.TRANSITIONS[before.to_status], r.reference
        assert history[-1].to_status is r.status, r.reference
        assert sorted(versions[r.id]) == list(range(1, r.version + 1))
        assert len(events[r.id]) == r.version
        assert all(e.at <= NOW for e in events[r.id])
        reached = r.first_contact_at is not None
        moved_on = any(e.to_status is S.IN_PROGRESS for e in history)
        assert reached == moved_on, r.reference
        if r.status in (S.ACCEPTED, S.IN_PROGRESS, S.COMPLETED):
            assert r.connector_id is not None


def test_unable_to_contact_only_after_the_teams_attempts(session):
    for r in session.scalars(select(Referral).where(Referral.status == S.UNABLE_TO_CONTACT)):
        assert r.first_contact_at is None
        failed = [c for c in r.contacts if not c.outcome.reached]
        assert len(failed) >= r.team.max_contact_attempts and len(failed) == len(r.contacts)


def test_every_connection_history_follows_its_moves(session):
    events = defaultdict(list)
    for e in session.scalars(select(ConnectionEvent).order_by(ConnectionEvent.at,
                                                              ConnectionEvent.id)):
        events[e.connection_id].append(e)
    for c in session.scalars(select(Connection)):
        history = events[c.id]
        assert history[0].from_status is None
        for before, after in itertools.pairwise(history):
            assert after.from_status is before.to_status
            assert after.to_status in CONNECTION_MOVES[before.to_status]
        assert history[-1].to_status is c.status and c.version == len(history)


def test_nobody_has_two_open_referrals_and_some_people_came_back(session):
    per_patient = defaultdict(list)
    for r in session.scalars(select(Referral).order_by(Referral.created_at)):
        per_patient[r.patient_id].append(r)
    assert any(len(rs) > 1 for rs in per_patient.values())
    for referrals in per_patient.values():
        assert sum(r.status.is_open for r in referrals) <= 1
        for earlier, later in itertools.pairwise(referrals):
            closed = max(e.at for e in earlier.events)
            assert not earlier.status.is_open and closed < later.created_at


def test_follow_ups_link_their_replacements_and_none_stay_open_on_a_closed_referral(session):
    rows = session.execute(select(FollowUp, Referral.status).join(
        Referral, Referral.id == FollowUp.referral_id)).all()
    by_id = {f.id: f for f, _ in rows}
    for f, status in rows:
        if f.replaces_id is not None:
            assert by_id[f.replaces_id].status.value == "rescheduled"
            assert by_id[f.replaces_id].referral_id == f.referral_id
        if f.status.value == "scheduled":
            assert status.is_open
    statuses = Counter(f.status.value for f, _ in rows)
    assert statuses["done"] > statuses["missed"] > 0 and statuses["rescheduled"] > 0


def test_the_application_can_add_rows_after_it(pcn, session):
    """Explicit ids must not leave PostgreSQL's sequences behind."""
    team = Team(name="Added after generating")
    session.add(team)
    session.flush()
    assert team.id > 1


def test_generated_accounts_share_the_printed_password(session):
    hashes = set(session.scalars(select(User.password_hash)))
    assert len(hashes) == 1 and check_password_hash(hashes.pop(), PASSWORD)


# --- the command and reproducibility ---------------------------------------------------

SAMPLE = (Referral, Patient, ReferralEvent, Contact, Connection, Measurement, Offer,
          FollowUp, UnmetNeed)
SECRETS = {"password_hash", "session_token"}


def snapshot(session, model, limit: int = 400) -> list[tuple]:
    columns = [c for c in model.__table__.columns if c.name not in SECRETS]
    return [tuple(row) for row in session.execute(
        select(*columns).order_by(model.__table__.primary_key.columns.values()[0])
        .limit(limit))]


def test_the_command_reproduces_the_same_rows_and_another_seed_differs(pcn, request,
                                                                       tmp_path_factory):
    app, _, backend = pcn
    with app.app_context():
        expected = {model.__name__: snapshot(db.session, model) for model in SAMPLE}
        db.session.remove()
    with fresh_database(_Backend(request, backend), tmp_path_factory.mktemp("again"),
                        "again") as url, migrated_app(url) as other:
        runner = other.test_cli_runner()
        # Without the audit trail of every change (quicker): the audit draws nothing
        # from the seed, so every other row is still the same.
        result = runner.invoke(args=["generate-data", "--tier", "pcn", "--seed", str(SEED),
                                     "--today", TODAY.isoformat(), "--password", PASSWORD,
                                     "--no-audit"])
        assert result.exit_code == 0, result.output
        assert "Rows written" in result.output and PASSWORD in result.output
        # Not a terminal: progress is a line at every tenth.
        assert "referrals 1,000/1,000" in result.output
        with other.app_context():
            for model in SAMPLE:
                assert snapshot(db.session, model) == expected[model.__name__], model
            # Only the creation and each status move are audited then.
            assert count(db.session, AuditEvent) == count(
                db.session, ReferralEvent, ReferralEvent.kind == "status",
                ReferralEvent.to_status != S.IN_PROGRESS)
            db.session.remove()
        # The database now holds data: refused, unless cleared first.
        refused = runner.invoke(args=["generate-data", "--tier", "pcn"])
        assert refused.exit_code != 0 and "--clear" in refused.output
        result = runner.invoke(args=["generate-data", "--tier", "pcn", "--seed", "14",
                                     "--today", TODAY.isoformat(), "--clear", "--no-audit"])
        assert result.exit_code == 0, result.output
        with other.app_context():
            assert count(db.session, Referral) == 1000
            assert snapshot(db.session, Patient) != expected["Patient"]
            assert snapshot(db.session, Referral) != expected["Referral"]
            db.session.remove()


class _Backend:
    """What fresh_database needs of a request: which backend, and the fixtures."""

    def __init__(self, request, param: str):
        self.param, self._request = param, request

    def getfixturevalue(self, name: str):
        return self._request.getfixturevalue(name)


def test_the_command_never_runs_in_production(tmp_path):
    app = create_app({"ENV_NAME": "production", "SECRET_KEY": "not-secret-" * 4,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'live.db'}",
                      "SMTP_HOST": "smtp.invalid", "MAIL_FROM": "kindly@live.invalid"})
    result = app.test_cli_runner().invoke(args=["generate-data", "--tier", "pcn", "--clear"])
    assert result.exit_code != 0 and "production" in result.output
    assert not (tmp_path / "live.db").exists() or (tmp_path / "live.db").stat().st_size == 0


@pytest.mark.parametrize(("clock", "day"), [
    (datetime(2026, 11, 30, 9, 0, tzinfo=UTC), date(2026, 11, 29)),
    (datetime(2026, 11, 30, 12, 0, tzinfo=UTC), date(2026, 11, 30)),
    # 11:30 UTC is 12:30 in British Summer Time: that midday has passed.
    (datetime(2026, 7, 1, 11, 30, tzinfo=UTC), date(2026, 7, 1)),
])
def test_without_a_day_the_data_ends_at_the_last_midday_that_has_passed(monkeypatch, clock,
                                                                       day):
    from referrals.generate import cli

    monkeypatch.setattr(cli, "utcnow", lambda: clock)
    assert cli._last_midday() == day
