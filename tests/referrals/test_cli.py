"""The flask commands, run through Flask's CLI runner inside the rolled-back `db` fixture.

The commands call db.session.commit(); inside the fixture that commits a savepoint on the
test's connection, so the outer transaction (and its rollback) survives. The first test
checks exactly that, because every other test here relies on it.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from referrals import demo
from referrals.database import read_only
from referrals.models import Patient, Practice, Referral, ReferralStatus, Role, Team, User

OPEN = [s for s in ReferralStatus if s.is_open]

DEMO_EMAILS = [
    "gp@kindly.example",
    "manager@kindly.example",
    "connector@kindly.example",
    "coordinator@kindly.example",
    "admin@kindly.example",
    "volunteer@kindly.example",  # issue 15 (volunteers)
]
PASSWORD = "a-long-enough-password"


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def seeded(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result


def count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# The demo's hand-made people and referrals (the walkthroughs rely on them): written
# before its history (referrals.demo_history), so the lowest ids.
HANDMADE = 41


def handmade_ids(db, model) -> list[int]:
    return list(db.session.scalars(select(model.id).order_by(model.id).limit(HANDMADE)))


def roles(db) -> dict[Role, int]:
    return dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())


# --- seed-demo ---------------------------------------------------------------------


def test_a_cli_commit_inside_the_db_fixture_only_releases_a_savepoint(db, seeded):
    # The command's work is visible inside the test: the staff, and two volunteers'
    # accounts that have no STAFF line (issue 15: Carol, approved, and Ron, lapsed).
    assert count(db, User) == len(demo.STAFF) + 2
    assert db.session.connection().in_transaction()
    # ...but was not really committed: another connection does not see it. (A read
    # that waits for no write lock: the test's transaction holds SQLite's.)
    with Session(db.engine) as other, read_only(other):
        assert other.scalar(select(func.count()).select_from(User)) == 0


def test_seed_demo_creates_and_prints_the_demo_accounts_everyone_uses(db, seeded):
    emails = set(db.session.scalars(select(User.email)))
    assert set(DEMO_EMAILS) <= emails
    gp = db.session.scalars(select(User).where(User.email == "gp@kindly.example")).one()
    assert gp.role is Role.REFERRER
    assert gp.practice is not None
    assert check_password_hash(gp.password_hash, "kindly-demo")
    assert "Demo accounts (password: kindly-demo)" in seeded.output
    for email in DEMO_EMAILS:
        assert email in seeded.output
    # Issue 15 (matching): a weekly call to match, and Dave to match it (one seeding, so
    # in this test rather than a new one).
    from referrals.models import Volunteer, VolunteerRequest, VolunteerStatus

    request = db.session.scalars(select(VolunteerRequest).where(
        VolunteerRequest.referral_id.is_not(None))).one()
    assert request.need.value == "befriending_calls" and request.status == "open"
    assert request.referral.connector.email == "connector@kindly.example"
    assert request.latitude is not None
    dave = db.session.scalars(select(Volunteer).where(
        Volunteer.email == "volunteer@kindly.example")).one()
    assert dave.status is VolunteerStatus.APPROVED and dave.user.role is Role.VOLUNTEER
    assert "volunteer@kindly.example" in seeded.output
    # The phone line's requests (issue 15, community) carry the note written for the
    # volunteer, never the caller's words (the hub's only).
    from referrals.models import HubCall

    for call in db.session.scalars(select(HubCall).where(HubCall.request_id.is_not(None))):
        assert call.request.notes and call.request.notes != call.need
        assert call.request.referral_id is None
    partner_has_warm_handovers(db, seeded)  # issue 15


def test_seed_demo_builds_a_small_market_town_with_referrals_in_every_status(db, seeded):
    assert count(db, Practice) == 3
    assert count(db, Team) == 1
    assert roles(db) == {Role.REFERRER: 3, Role.MANAGER: 3, Role.CONNECTOR: 3,
                         Role.COORDINATOR: 1, Role.ADMIN: 1,
                         # issue 15: Dave, Carol, Ron and Maya the champion
                         Role.VOLUNTEER: 4, Role.PARTNER: 1}
    # Forty referred by their GP, and one who asked through the public directory.
    handmade = Referral.id.in_(handmade_ids(db, Referral))
    assert count(db, Referral, handmade, Referral.source == "self") == 1
    assert count(db, Referral, handmade, Referral.source == "form") == 40
    team = db.session.scalars(select(Team)).one()
    assert count(db, Practice, Practice.team_id == team.id) == 3
    statuses = set(db.session.scalars(select(Referral.status).distinct().where(handmade)))
    assert statuses == set(ReferralStatus)


def partner_has_warm_handovers(db, seeded):
    """Issue 15: Bev answers for one organisation, with handovers shared and not (checked
    inside another seeded test: a demo build per test is too slow)."""
    from referrals.models import Connection, ConnectionKind, ConnectionStatus, Offer

    bev = db.session.scalars(select(User).where(User.email == "partner@kindly.example")).one()
    assert (bev.role, bev.organisation.name) == (Role.PARTNER, "Kindlebury Befriending Service")
    handovers = db.session.scalars(select(Connection).join(Offer).where(
        Offer.organisation_id == bev.organisation_id,
        Connection.kind == ConnectionKind.REFERRAL,
        Connection.referral_id.in_(handmade_ids(db, Referral)),
        Connection.status.in_([ConnectionStatus.SUGGESTED, ConnectionStatus.TAKEN_ON]))).all()
    shared = [c for c in handovers if c.share_with_partner]
    assert len(shared) >= 2 and any(not c.share_with_partner for c in handovers)
    assert {c.status for c in shared} == {ConnectionStatus.SUGGESTED, ConnectionStatus.TAKEN_ON}
    assert "partner@kindly.example" in seeded.output


def test_seed_demo_gives_connectors_casework_to_look_at(db, seeded):
    from referrals.models import Contact, FollowUp, FollowUpStatus

    handmade = Referral.id.in_(handmade_ids(db, Referral))
    working = db.session.scalars(
        select(Referral).where(Referral.status == ReferralStatus.IN_PROGRESS)).all()
    assert working
    for referral in working:
        # Work started with a contact that reached the person, and something is planned.
        reached = [c for c in referral.contacts if c.outcome.reached]
        assert reached and reached[0].at == referral.first_contact_at
        assert [f for f in referral.follow_ups if f.status is FollowUpStatus.SCHEDULED]
    closed_unreached = db.session.scalars(
        select(Referral).where(Referral.status == ReferralStatus.UNABLE_TO_CONTACT)).all()
    assert all(len(r.contacts) >= 3 and not any(c.outcome.reached for c in r.contacts)
               for r in closed_unreached)
    assert count(db, Contact) > len(working)
    assert count(db, FollowUp, FollowUp.referral_id.in_(handmade_ids(db, Referral))) \
        == len(working)
    # Only hand-made referrals are open: the history is all closed.
    assert count(db, Referral, ~handmade, Referral.status.in_(OPEN)) == 0


def test_seed_demo_gives_the_town_a_directory_and_connections_to_follow(db, seeded):
    from referrals.models import Connection, ConnectionStatus, Offer, OfferKind, PostcodePlace

    assert count(db, Offer) >= 60
    assert count(db, Offer, Offer.kind == OfferKind.VOLUNTEERING) >= 10
    assert count(db, PostcodePlace) > 30
    completed = db.session.scalars(
        select(Referral).where(Referral.status == ReferralStatus.COMPLETED,
                               Referral.id.in_(handmade_ids(db, Referral)))).all()
    # Every completed hand-made referral got the person to at least one offer.
    assert all(any(c.status is ConnectionStatus.ATTENDED for c in r.connections)
               for r in completed)
    assert count(db, Connection, Connection.status == ConnectionStatus.ACCEPTED) > 0


def test_seed_demo_fills_what_the_reports_need(db, seeded):
    from collections import Counter

    from referrals.demo import PRACTICES, STREET_POSTCODES
    from referrals.models import PostcodeDeprivation, UnmetNeed

    # Ethnic groups in census proportions, with some who preferred not to say and some
    # never asked; the self-referral was not asked either.
    groups = Counter(db.session.scalars(select(Patient.ethnic_category).where(
        Patient.id.in_(handmade_ids(db, Patient)))))
    assert sum(groups.values()) == 41
    assert 26 <= groups["A"] <= 28 and groups["99"] >= 3 and groups["Z"] >= 1
    assert len(set(groups) - {"A", "99", "Z"}) >= 4
    # Every postcode the demo's people and practices live at has a (synthetic) decile.
    deciles = dict(db.session.execute(
        select(PostcodeDeprivation.postcode, PostcodeDeprivation.imd_decile)).all())
    assert set(STREET_POSTCODES) | {p[3] for p in PRACTICES} <= set(deciles)
    assert set(deciles.values()) >= {1, 5, 10}
    # Needs no offer met, in more than one category and district, some met later.
    needs = db.session.scalars(select(UnmetNeed)).all()
    assert len(needs) >= 4
    assert len({n.category for n in needs}) >= 3
    assert len({n.postcode_district for n in needs}) >= 2
    assert any(n.met_at for n in needs) and any(n.met_at is None for n in needs)
    assert "synthetic IMD deciles for 33 postcodes" in seeded.output


def test_seed_demo_uses_the_password_it_is_given(db, runner):
    result = runner.invoke(args=["seed-demo", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    admin = db.session.scalars(select(User).where(User.email == "admin@kindly.example")).one()
    assert check_password_hash(admin.password_hash, PASSWORD)
    assert f"(password: {PASSWORD})" in result.output


def test_seed_demo_refuses_to_run_twice_without_force(db, runner, seeded):
    users_before = count(db, User)

    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code != 0
    assert "already holds data" in result.output
    assert "--force" in result.output
    assert count(db, User) == users_before


def test_seed_demo_refuses_a_database_holding_real_people(db, make, runner):
    make.referral()
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "already holds data" in result.output
    assert count(db, Practice) == 1


def test_seed_demo_if_empty_does_nothing_successfully_when_there_is_data(db, runner, seeded):
    users_before, patients_before = count(db, User), count(db, Patient)

    result = runner.invoke(args=["seed-demo", "--if-empty"])

    assert result.exit_code == 0, result.output
    assert "not seeding" in result.output
    assert (count(db, User), count(db, Patient)) == (users_before, patients_before)


def test_seed_demo_if_empty_seeds_an_empty_database(db, runner):
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    # Its 41 people (the history is off in tests: tests/reports/test_demo_report.py).
    assert count(db, Patient) == HANDMADE


def test_seed_demo_force_adds_the_demo_beside_other_data(db, make, runner):
    make.user(Role.ADMIN, email="root@elsewhere.example")
    result = runner.invoke(args=["seed-demo", "--force"])
    assert result.exit_code == 0, result.output
    assert count(db, User) == len(demo.STAFF) + 2 + 1  # and root
    assert count(db, Patient) == HANDMADE


def test_seed_demo_force_refuses_to_add_the_demo_a_second_time(db, runner, seeded):
    users_before = count(db, User)

    result = runner.invoke(args=["seed-demo", "--force"])

    assert result.exit_code == 1
    assert "The demo town is already in this database" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert count(db, User) == users_before


# --- create-user -------------------------------------------------------------------


def test_create_user_stores_a_hash_not_the_password(db, make, runner):
    practice = make.practice(ods_code="B82005")
    result = runner.invoke(args=[
        "create-user", "--email", "New.GP@Practice.example", "--name", "Dr New",
        "--role", "referrer", "--practice", "b82005", "--password", PASSWORD,
    ])

    assert result.exit_code == 0, result.output
    assert "Created referrer new.gp@practice.example." in result.output
    user = db.session.scalars(select(User).where(User.email == "new.gp@practice.example")).one()
    assert user.role is Role.REFERRER
    assert user.practice is practice
    assert user.password_hash != PASSWORD
    assert PASSWORD not in user.password_hash
    assert check_password_hash(user.password_hash, PASSWORD)
    assert not check_password_hash(user.password_hash, "wrong-password-entirely")


def test_create_user_puts_a_connector_in_their_team(db, make, runner):
    team = make.team(name="Vale Connectors")
    result = runner.invoke(args=[
        "create-user", "--email", "link@hub.example", "--name", "Link Worker",
        "--role", "connector", "--team", "Vale Connectors", "--capacity", "30",
        "--password", PASSWORD,
    ])
    assert result.exit_code == 0, result.output
    user = db.session.scalars(select(User).where(User.email == "link@hub.example")).one()
    assert (user.team, user.capacity) == (team, 30)


def test_create_user_rejects_an_unknown_practice_ods_code(db, make, runner):
    make.practice(ods_code="B82005")
    result = runner.invoke(args=[
        "create-user", "--email", "gp@nowhere.example", "--name", "Dr Nowhere",
        "--role", "referrer", "--practice", "Z99999", "--password", PASSWORD,
    ])
    assert result.exit_code != 0
    assert "no practice with ODS code Z99999" in result.output
    assert count(db, User, User.email == "gp@nowhere.example") == 0


def test_create_user_rejects_an_unknown_team(db, runner):
    result = runner.invoke(args=[
        "create-user", "--email", "link@hub.example", "--name", "Link Worker",
        "--role", "connector", "--team", "No Such Team", "--password", PASSWORD,
    ])
    assert result.exit_code != 0
    assert "no team called 'No Such Team'" in result.output
    assert count(db, User) == 0


def test_create_user_explains_an_account_that_breaks_the_rules(db, runner):
    result = runner.invoke(args=[
        "create-user", "--email", "gp@nowhere.example", "--name", "Dr Nowhere",
        "--role", "referrer", "--password", PASSWORD,
    ])
    assert result.exit_code == 1
    assert "A referrer must belong to a practice" in result.output
    assert "Traceback" not in result.output
    assert count(db, User) == 0


def test_create_user_rejects_an_unknown_role(db, runner):
    result = runner.invoke(args=[
        "create-user", "--email", "x@y.example", "--name", "X", "--role", "superuser",
        "--password", PASSWORD,
    ])
    assert result.exit_code == 2
    assert count(db, User) == 0

