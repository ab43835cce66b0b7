"""The national SNOMED CT counts per practice per month, and the PRSB minimum dataset."""
from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest

from referrals.models import ConnectionStatus, Role, Timepoint
from referrals.scopes import Period, Scope, ScopeKind
from reports import exports, national
from tests.reports.exports_world import (
    PERSON_ROSE,
    S,
    build_world,
    connect,
    measure,
    refer,
    utc,
)

SPRING = "from=2026-04-01&to=2026-05-31"
TOOK_UP, DECLINED = "871731000000106", "871711000000103"


@pytest.fixture
def world(make):
    return build_world(make)


@pytest.fixture
def spring(make, world):
    """Practice A, April and May 2026 (UK summer time from 29 March):
    - took: accepted 30 March, in progress 2 April, completed in May: took up, April;
    - midnight: in progress at 23:30 UTC on 30 April, which is 00:30 on 1 May in the UK:
      took up, May;
    - accepted: accepted in April, never reached in progress: NOT counted;
    - declined: accepted then declined on 20 April: declined, April;
    - changed_mind: in progress 5 April, declined 3 May: declined, May (as its letter
      codes it), not took up;
    - unable: accepted, unable to contact: nothing;
    - late: in progress 1 June: outside the period.
    Practice B: one declined in May. The other hub's practice: one took up in April."""
    a, ra = world.practice_a, world.referrer_a
    made = {
        "took": refer(make, a, ra, at=utc(2026, 3, 28), status=S.COMPLETED,
                      steps_at=(utc(2026, 3, 30), utc(2026, 4, 2), utc(2026, 5, 10)),
                      person=PERSON_ROSE),
        "midnight": refer(make, a, ra, at=utc(2026, 4, 28), status=S.IN_PROGRESS,
                          steps_at=(utc(2026, 4, 29), utc(2026, 4, 30, 23).replace(minute=30))),
        "accepted": refer(make, a, ra, at=utc(2026, 4, 3), status=S.ACCEPTED),
        "declined": refer(make, a, ra, at=utc(2026, 4, 6), status=S.DECLINED,
                          steps_at=(utc(2026, 4, 7), utc(2026, 4, 20))),
        "changed_mind": refer(make, a, ra, at=utc(2026, 4, 1),
                              path=(S.ACCEPTED, S.IN_PROGRESS, S.DECLINED),
                              steps_at=(utc(2026, 4, 2), utc(2026, 4, 5), utc(2026, 5, 3))),
        "unable": refer(make, a, ra, at=utc(2026, 4, 8), status=S.UNABLE_TO_CONTACT),
        "late": refer(make, a, ra, at=utc(2026, 5, 25), status=S.IN_PROGRESS,
                      steps_at=(utc(2026, 5, 26), utc(2026, 6, 1))),
        "b_declined": refer(make, world.practice_b, world.referrer_b, at=utc(2026, 5, 1),
                            status=S.DECLINED, steps_at=(utc(2026, 5, 2), utc(2026, 5, 4))),
        "other_hub": refer(make, world.practice_other,
                           make.user(Role.REFERRER, practice=world.practice_other),
                           at=utc(2026, 4, 1), status=S.IN_PROGRESS),
    }
    return made


def hub(world) -> Scope:
    return Scope(ScopeKind.HUB, "Hub", (world.practice_a.id, world.practice_b.id),
                 world.team.id)


def test_counts_follow_the_letters_rule_per_practice_per_month(world, spring):
    rows = national.national_counts(hub(world), Period(date(2026, 4, 1), date(2026, 5, 31)))

    got = {(r.ods_code, f"{r.month.start:%Y-%m}"): (r.took_up, r.declined) for r in rows}
    assert got == {
        ("A81001", "2026-04"): (1, 1),  # took; declined (accepted-only is not counted)
        ("A81001", "2026-05"): (1, 1),  # midnight (1 May in the UK); changed_mind
        ("B82002", "2026-04"): (0, 0),  # zeros are reported too
        ("B82002", "2026-05"): (0, 1),
    }


def test_a_person_accepted_but_never_in_progress_is_not_counted_as_taking_up(make, world):
    refer(make, world.practice_a, world.referrer_a, at=utc(2026, 4, 3), status=S.ACCEPTED)
    refer(make, world.practice_a, world.referrer_a, at=utc(2026, 4, 3),
          status=S.UNABLE_TO_CONTACT)

    rows = national.national_counts(hub(world), Period(date(2026, 4, 1), date(2026, 4, 30)))

    assert [(r.ods_code, r.took_up, r.declined) for r in rows] == [
        ("A81001", 0, 0), ("B82002", 0, 0)]


def test_months_are_cut_to_the_period():
    cut = national.months(Period(date(2026, 3, 15), date(2026, 5, 10)))

    assert cut == [Period(date(2026, 3, 15), date(2026, 3, 31)),
                   Period(date(2026, 4, 1), date(2026, 4, 30)),
                   Period(date(2026, 5, 1), date(2026, 5, 10))]
    assert national.months(Period(date(2026, 12, 1), date(2027, 1, 31)))[-1] \
        == Period(date(2027, 1, 1), date(2027, 1, 31))


def test_the_counts_page_and_csv_for_a_coordinator(client, login_as, world, spring):
    login_as(Role.COORDINATOR, team=world.team)

    page = client.get(f"/reports/national-counts?{SPRING}")
    assert page.status_code == 200
    # Without each cell's column heading (aria-hidden, shown only on a small screen).
    html = re.sub(r'<span class="nhsuk-table__heading".*?</span>', "", page.get_data(as_text=True))
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Alder Surgery (A81001) April 2026 1 1" in text
    assert "Birch Practice (B82002) May 2026 0 1" in text
    assert "Cedar" not in text

    body = client.get(f"/reports/national-counts.csv?{SPRING}").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 8  # 2 practices x 2 months x 2 codes
    assert {(r["practice_ods"], r["month"], r["snomed_code"]): r["count"] for r in rows}[
        ("A81001", "2026-05", DECLINED)] == "1"


def test_a_manager_sees_only_their_practice_counts(client, login_as, world, spring):
    login_as(Role.MANAGER, practice=world.practice_a)

    body = client.get(f"/reports/national-counts.csv?{SPRING}").get_data(as_text=True)

    assert {r["practice_ods"] for r in csv.DictReader(io.StringIO(body))} == {"A81001"}
    other = world.practice_b.id
    assert client.get(f"/reports/national-counts?{SPRING}&practice={other}").status_code == 404
    assert client.get(f"/reports/national-counts?{SPRING}&pcn=North").status_code == 404


def test_a_bad_period_is_shown_beside_its_field(client, login_as, world):
    login_as(Role.MANAGER, practice=world.practice_a)

    page = client.get("/reports/national-counts?from=2026-13-01&to=2026-05-31")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'href="#from"' in html and "Enter the start date as a real date" in html
    assert client.get("/reports/national-counts.csv?from=x&to=y").status_code == 400


def test_others_may_not_see_the_counts(client, login_as, world):
    login_as(Role.CONNECTOR, team=world.team)

    assert client.get(f"/reports/national-counts?{SPRING}").status_code == 403


def test_the_national_dataset_is_pseudonymised_and_coded(client, login_as, make, world,
                                                         spring):
    took = spring["took"]
    connect(make, took, ConnectionStatus.ATTENDED)
    measure(make, took, Timepoint.BASELINE, date(2026, 4, 2), {"loneliness": 7})
    measure(make, took, Timepoint.CLOSING, date(2026, 5, 10), {"loneliness": 4})
    login_as(Role.MANAGER, practice=world.practice_a)

    response = client.get(f"/reports/national-dataset.csv?{SPRING}")

    assert response.status_code == 200
    body = response.get_data(as_text=True)
    reader = csv.DictReader(io.StringIO(body))
    assert reader.fieldnames[:len(national.DATASET_COLUMNS)] == list(national.DATASET_COLUMNS)
    assert not set(reader.fieldnames) & set(exports.IDENTIFIABLE_COLUMNS)
    rows = {r["pseudonym"]: r for r in reader}
    # Received in April or May at practice A: all but "took" (March) and the others.
    assert len(rows) == 6
    for identifier in ("Rose", "Tyler", "KB1 1AA", took.reference, took.patient.nhs_number):
        assert identifier not in body
    by = {name: rows.get(exports.pseudonym(spring[name].id)) for name in spring}
    assert by["took"] is None  # received in March
    assert by["changed_mind"]["snomed_code"] == DECLINED
    assert by["midnight"]["snomed_code"] == TOOK_UP
    assert by["accepted"]["snomed_code"] == ""
    assert by["declined"]["closed_on"] == "2026-04-20"


def test_the_national_dataset_row_of_a_person_who_took_up_the_referral(client, login_as, make,
                                                                      world):
    rose = refer(make, world.practice_a, world.referrer_a, at=utc(2026, 4, 1),
                 status=S.COMPLETED, person=PERSON_ROSE,
                 steps_at=(utc(2026, 4, 2), utc(2026, 4, 3), utc(2026, 5, 10)))
    connect(make, rose, ConnectionStatus.ATTENDED)
    connect(make, rose, ConnectionStatus.NO_CAPACITY)
    measure(make, rose, Timepoint.BASELINE, date(2026, 4, 3), {"loneliness": 7})
    measure(make, rose, Timepoint.CLOSING, date(2026, 5, 10), {"loneliness": 4})
    login_as(Role.MANAGER, practice=world.practice_a)

    body = client.get(f"/reports/national-dataset.csv?{SPRING}").get_data(as_text=True)

    row = next(csv.DictReader(io.StringIO(body)))
    assert {k: row[k] for k in (
        "practice_ods", "age_band", "sex", "ethnic_category", "referral_date",
        "referral_method", "needs", "signposts", "referrals_to_services", "support_offered",
        "connections_attended", "snomed_code", "status", "closed_on",
        "ucla3_loneliness_baseline", "ucla3_loneliness_latest", "ucla3_loneliness_change",
    )} == {
        "practice_ods": "A81001", "age_band": "75-84", "sex": "female",
        "ethnic_category": "A", "referral_date": "2026-04-01", "referral_method": "form",
        "needs": "loneliness", "signposts": "2", "referrals_to_services": "0",
        "support_offered": "signpost::attended;signpost::no_capacity",
        "connections_attended": "1", "snomed_code": TOOK_UP, "status": "completed",
        "closed_on": "2026-05-10", "ucla3_loneliness_baseline": "7",
        "ucla3_loneliness_latest": "4", "ucla3_loneliness_change": "-3",
    }


def test_the_identifiable_national_dataset_needs_the_permission(client, login_as, db, world,
                                                                spring):
    manager = login_as(Role.MANAGER, practice=world.practice_a)
    assert client.get(f"/reports/national-dataset.csv?{SPRING}&identifiable=1").status_code \
        == 403

    manager.identifiable_exports = True
    db.session.commit()
    body = client.get(f"/reports/national-dataset.csv?{SPRING}&identifiable=1")
    reader = csv.DictReader(io.StringIO(body.get_data(as_text=True)))
    assert reader.fieldnames[-5:] == list(exports.IDENTIFIABLE_COLUMNS)


def test_a_hub_counts_a_referral_routed_to_it_from_a_practice_it_does_not_serve(make, world):
    other = world.practice_other
    routed = refer(make, other, make.user(Role.REFERRER, practice=other), at=utc(2026, 4, 1),
                   status=S.IN_PROGRESS)
    routed.team_id = world.team.id
    make.session.flush()

    rows = national.national_counts(hub(world), Period(date(2026, 4, 1), date(2026, 4, 30)))

    assert [(r.ods_code, r.took_up) for r in rows] == [
        ("A81001", 0), ("B82002", 0), ("C83003", 1)]
