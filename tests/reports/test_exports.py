"""Row-level CSV exports: pseudonymised by default, identifiable only with the permission
(and audited), never free text, safe to open in a spreadsheet, scoped like the reports."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import select

from referrals.models import AuditEvent, ConnectionStatus, ContactOutcome, Role, Timepoint
from reports import exports
from tests.reports.exports_world import (
    PERSON_ROSE,
    S,
    build_world,
    connect,
    contact,
    imd,
    measure,
    refer,
    utc,
)

APRIL = "from=2026-04-01&to=2026-04-30"
SECRET = "Worried about her son"  # free text that must never leave in a CSV


def permitted(login_as, db, **kwargs):
    """Sign in as a manager given identifiable exports (by an administrator)."""
    user = login_as(Role.MANAGER, **kwargs)
    user.identifiable_exports = True
    db.session.commit()
    return user


def rows_of(response) -> tuple[list[str], list[dict]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    reader = csv.DictReader(io.StringIO(response.get_data(as_text=True)))
    return list(reader.fieldnames), list(reader)


@pytest.fixture
def world(make):
    return build_world(make)


@pytest.fixture
def april(make, world):
    """Practice A: Rose (completed, every figure known) and Sam (received) in April; one
    in March; practice B: one in April."""
    rose = refer(make, world.practice_a, world.referrer_a, at=utc(2026, 4, 10),
                 status=S.COMPLETED, person=PERSON_ROSE, reasons=("loneliness", "bereavement"),
                 what_matters=SECRET)
    contact(make, rose, utc(2026, 4, 11), ContactOutcome.NO_ANSWER, notes=SECRET)
    contact(make, rose, utc(2026, 4, 13), notes=SECRET)
    connect(make, rose, ConnectionStatus.ATTENDED)
    connect(make, rose, ConnectionStatus.DECLINED)
    measure(make, rose, Timepoint.BASELINE, date(2026, 4, 13), {"loneliness": 8})
    measure(make, rose, Timepoint.FOLLOW_UP, date(2026, 5, 20), {"loneliness": 6})
    measure(make, rose, Timepoint.CLOSING, date(2026, 6, 1), {"loneliness": 5})
    imd(make, "KB1 1AA", 3)
    sam = refer(make, world.practice_a, world.referrer_a, at=utc(2026, 4, 30, 22),
                person={"given_name": "Sam", "family_name": "Jones", "postcode": "KB9 9ZZ",
                        "birth_date": date(2001, 1, 1)})
    march = refer(make, world.practice_a, world.referrer_a, at=utc(2026, 3, 31, 12))
    other = refer(make, world.practice_b, world.referrer_b, at=utc(2026, 4, 15))
    return {"rose": rose, "sam": sam, "march": march, "other": other}


def test_the_practice_csv_has_one_pseudonymised_row_per_referral_received_in_the_period(
        client, login_as, world, april):
    login_as(Role.MANAGER, practice=world.practice_a)

    header, rows = rows_of(client.get(f"/reports/practice.csv?{APRIL}"))

    assert header[:15] == list(exports.COLUMNS)
    assert "ucla3_loneliness_change" in header and "ons4_life_satisfaction_change" in header
    assert not set(header) & set(exports.IDENTIFIABLE_COLUMNS)
    # Sam was referred at 23:00 on 30 April UK time (22:00 UTC): still April.
    rose, sam = rows
    assert [rose["pseudonym"], sam["pseudonym"]] == [
        exports.pseudonym(april["rose"].id), exports.pseudonym(april["sam"].id)]
    assert {k: rose[k] for k in header if not k.endswith("_change") or k.startswith("ucla3")} \
        == {"pseudonym": exports.pseudonym(april["rose"].id), "practice_ods": "A81001",
            "received_on": "2026-04-10", "source": "form", "urgency": "routine",
            "reasons": "loneliness;bereavement", "status": "completed",
            "first_contact_days": "3", "contacts": "2", "connections_made": "2",
            "connections_attended": "1", "age_band": "75-84", "sex": "female",
            "ethnic_category": "A", "imd_decile": "3", "ucla3_loneliness_change": "-3"}
    assert rose["ons4_life_satisfaction_change"] == ""
    assert (sam["received_on"], sam["imd_decile"], sam["first_contact_days"], sam["age_band"],
            sam["ethnic_category"]) == ("2026-04-30", "", "", "25-49", "99")


def test_a_pseudonymised_csv_holds_no_identifier_and_no_free_text(client, login_as, world,
                                                                   april):
    login_as(Role.MANAGER, practice=world.practice_a)

    body = client.get(f"/reports/practice.csv?{APRIL}").get_data(as_text=True)

    rose = april["rose"]
    for identifier in (rose.patient.nhs_number, rose.reference, "Rose", "Tyler", "KB1 1AA",
                       "1948-06-15", SECRET, "Jones", "KB9 9ZZ"):
        assert identifier not in body


def test_the_pseudonym_is_a_keyed_hash_stable_in_one_install_and_not_in_another(app, db):
    first = exports.pseudonym(42)
    assert first == exports.pseudonym(42) and first != exports.pseudonym(43)
    key = app.config["SECRET_KEY"]
    try:
        app.config["SECRET_KEY"] = "another install"
        assert exports.pseudonym(42) != first
    finally:
        app.config["SECRET_KEY"] = key


def test_identifiable_rows_need_the_extra_permission(client, login_as, world, april):
    login_as(Role.MANAGER, practice=world.practice_a)

    assert client.get(f"/reports/practice.csv?{APRIL}&identifiable=1").status_code == 403
    assert client.get(f"/reports/practice.csv?{APRIL}&identifiable=yes").status_code == 400


def test_an_identifiable_export_names_people_and_is_audited_with_their_referrals(
        client, login_as, db, world, april):
    manager = permitted(login_as, db, practice=world.practice_a)

    header, rows = rows_of(client.get(f"/reports/practice.csv?{APRIL}&identifiable=1"))

    assert header[-5:] == list(exports.IDENTIFIABLE_COLUMNS)
    rose = rows[0]
    assert (rose["given_name"], rose["family_name"], rose["nhs_number"], rose["birth_date"],
            rose["postcode"]) == ("Rose", "Tyler", april["rose"].patient.nhs_number,
                                  "1948-06-15", "KB1 1AA")
    assert SECRET not in "".join(rose.values())
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.actor_id == manager.id, AuditEvent.action == "export")).one()
    assert event.detail["identifiable"] is True
    assert event.detail["referral_ids"] == [april["rose"].id, april["sam"].id]


def test_a_pseudonymised_export_is_audited_without_naming_anyone(client, login_as, db, world,
                                                                 april):
    manager = login_as(Role.MANAGER, practice=world.practice_a)
    client.get(f"/reports/practice.csv?{APRIL}").get_data()

    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.actor_id == manager.id, AuditEvent.action == "export")).one()
    assert event.detail["rows"] == 2 and "referral_ids" not in event.detail


def test_cells_a_spreadsheet_would_run_as_formulas_are_defused(client, login_as, db, make,
                                                               world):
    refer(make, world.practice_a, world.referrer_a, at=utc(2026, 4, 2),
          person={"given_name": "@SUM(A1)", "family_name": '=HYPERLINK("http://x.example")'})
    permitted(login_as, db, practice=world.practice_a)

    _, rows = rows_of(client.get(f"/reports/practice.csv?{APRIL}&identifiable=1"))

    assert rows[0]["family_name"] == '\'=HYPERLINK("http://x.example")'
    assert rows[0]["given_name"] == "'@SUM(A1)"


@pytest.mark.parametrize("value, written", [
    ("=1+2", "'=1+2"), ("+44", "'+44"), ("-x", "'-x"), ("@a", "'@a"), ("\tx", "'\tx"),
    ("plain", "plain"), (-3, -3), (-1.5, -1.5), (None, ""),
])
def test_safe_cell(value, written):
    assert exports.safe_cell(value) == written


def test_a_manager_gets_only_their_own_practice(client, login_as, world, april):
    login_as(Role.MANAGER, practice=world.practice_a)

    other = world.practice_b.id
    assert client.get(f"/reports/practice.csv?{APRIL}&practice={other}").status_code == 404
    assert client.get(f"/reports/practice.csv?{APRIL}&practice=x").status_code == 404
    # A PCN or the hub is never a manager's: those exports are for coordinators.
    assert client.get(f"/reports/hub.csv?{APRIL}").status_code == 403
    assert client.get(f"/reports/pcn.csv?{APRIL}&pcn=North").status_code == 403


def test_a_coordinator_exports_the_hub_a_pcn_or_one_practice_of_it(client, login_as, world,
                                                                     april):
    login_as(Role.COORDINATOR, team=world.team)

    def practices(url):
        return sorted(row["practice_ods"] for row in rows_of(client.get(url))[1])

    assert practices(f"/reports/hub.csv?{APRIL}") == ["A81001", "A81001", "B82002"]
    assert practices(f"/reports/pcn.csv?{APRIL}&pcn=North") == ["A81001", "A81001", "B82002"]
    assert practices(f"/reports/practice.csv?{APRIL}&practice={world.practice_b.id}") \
        == ["B82002"]
    assert client.get(f"/reports/pcn.csv?{APRIL}&pcn=Nowhere").status_code == 404
    other = world.practice_other.id
    assert client.get(f"/reports/practice.csv?{APRIL}&practice={other}").status_code == 404


def test_others_may_not_export(client, login_as, world):
    login_as(Role.REFERRER, practice=world.practice_a)

    assert client.get(f"/reports/practice.csv?{APRIL}").status_code == 403


@pytest.mark.parametrize("query, message", [
    ("from=2026-04-31&to=2026-05-01", "from: Enter the start date as a real date"),
    ("from=2026-05-01&to=2026-04-01", "to: The end date must be the same as or after"),
    ("from=2026-04-01", "to: Enter the end date"),
])
def test_a_bad_period_is_a_400_with_a_plain_sentence(client, login_as, world, query, message):
    login_as(Role.MANAGER, practice=world.practice_a)

    response = client.get(f"/reports/practice.csv?{query}")

    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert message in response.get_data(as_text=True)


def test_the_csv_is_streamed_not_built_whole(client, login_as, world, april, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 1)
    login_as(Role.MANAGER, practice=world.practice_a)

    response = client.get(f"/reports/practice.csv?{APRIL}")

    assert response.is_streamed
    assert len(rows_of(response)[1]) == 2  # two chunks, one row each


def test_an_administrator_grants_and_revokes_identifiable_exports(app, db, make):
    manager = make.user(Role.MANAGER)
    db.session.commit()
    runner = app.test_cli_runner()

    granted = runner.invoke(args=["grant-identifiable-exports", manager.email])
    assert granted.exit_code == 0, granted.output
    assert manager.identifiable_exports is True
    revoked = runner.invoke(args=["grant-identifiable-exports", manager.email, "--revoke"])
    assert revoked.exit_code == 0, revoked.output
    assert manager.identifiable_exports is False
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_type == "user", AuditEvent.entity_id == manager.id,
        AuditEvent.action.in_(("grant", "revoke"))).order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_label) for e in events] == [("grant", "cli"), ("revoke", "cli")]
    unknown = runner.invoke(args=["grant-identifiable-exports", "nobody@test.example"])
    assert unknown.exit_code != 0 and "No account" in unknown.output


def test_the_statements_an_export_sends_do_not_grow_with_its_rows(db, make, world):
    from referrals.scopes import Period, Scope, ScopeKind
    from tests.counting import reads

    scope = Scope(ScopeKind.PRACTICE, "A", (world.practice_a.id,))
    april = Period(date(2026, 4, 1), date(2026, 4, 30))

    def statements() -> int:
        with reads(db) as found:
            _, lines = exports.referral_csv(scope, april, identifiable=True)
            assert len(list(lines)) == 1 + rows
        return len(found.statements)

    for day in (1, 2):
        refer(make, world.practice_a, world.referrer_a, at=utc(2026, 4, day))
    rows = 2
    few = statements()
    for day in range(3, 23):
        refer(make, world.practice_a, world.referrer_a, at=utc(2026, 4, day))
    rows = 22
    assert statements() == few
