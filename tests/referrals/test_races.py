"""Two people change one referral at the same moment: exactly one wins, the loser is told,
the event log tells the truth, and there is at most one outcome letter.

Real threads, each with its own HTTP client and database session, released together by
a barrier, against a committed database (a temp SQLite file, or a fresh PostgreSQL
database), round after round: 50 rounds on PostgreSQL, fewer on SQLite, where every
write transaction queues on the database lock anyway (KINDLY_RACE_ROUNDS overrides).
"""
from __future__ import annotations

import os
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from fhir_adapters.api_write import REVOCATION_EXT
from referrals import jobs
from referrals.admin.service import create_api_client
from referrals.extensions import db
from referrals.models import (
    Contact,
    Job,
    JobStatus,
    OutcomeLetter,
    Referral,
    ReferralChange,
    ReferralEvent,
    ReferralStatus,
    Role,
)
from reports import readiness
from tests.builders import Builders
from tests.conftest import Client, fresh_database, migrated_app

S = ReferralStatus
PASSWORD = "correct horse battery"


def rounds(backend: str) -> int:
    if override := os.environ.get("KINDLY_RACE_ROUNDS"):
        return int(override)
    return 50 if backend == "postgresql" else 10


# --- a committed database and the people who race on it ------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def race_app(request, tmp_path_factory):
    """An app on its own committed database, migrated once for the module. Letters are
    jobs: the test runs them itself, after the rounds, to count them."""
    with fresh_database(request, tmp_path_factory.mktemp("races"), "races") as url, \
            migrated_app(url, LETTERS_ON_CLOSE=True, JOBS_RUN="") as app:
        app.backend = request.param
        yield app


class Hub:
    """A practice, its team (two connectors, two coordinators), a referrer and a GP system,
    all committed; clients signed in as each."""

    def __init__(self, app):
        self.app = app
        with app.app_context():
            make = Builders(db.session)
            self.practice = make.practice()
            team = self.practice.team
            # No capacity: routing leaves every new referral in the team queue.
            users = {
                "connector": make.user(Role.CONNECTOR, team=team, email=_email("c1")),
                "connector2": make.user(Role.CONNECTOR, team=team, email=_email("c2")),
                "coordinator": make.user(Role.COORDINATOR, team=team, email=_email("k1")),
                "coordinator2": make.user(Role.COORDINATOR, team=team, email=_email("k2")),
                "referrer": make.user(Role.REFERRER, practice=self.practice,
                                      email=_email("gp")),
            }
            _, self.token = create_api_client(f"GP system {uuid.uuid4().hex[:6]}",
                                              [self.practice], actor=None)
            db.session.commit()
            self.ids = {name: user.id for name, user in users.items()}
            self.emails = {name: user.email for name, user in users.items()}
            self.practice_id = self.practice.id
            db.session.remove()
        self.make_state = {"seq": 0}

    def client(self, who: str) -> Client:
        client = Client(self.app.test_client())
        response = client.submit("/login", {"email": self.emails[who], "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        client.token = client.csrf_token("/notifications")  # one token serves the session
        return client

    def referral(self, *, status=S.RECEIVED, holder: str | None = None) -> tuple[int, int]:
        """A new committed referral; returns (id, version)."""
        with self.app.app_context():
            make = Builders(db.session)
            # Distinct NHS numbers across rounds: skip those used before.
            for _ in range(self.make_state["seq"]):
                make.nhs_number()
            self.make_state["seq"] += 1
            from referrals.models import Practice, User
            practice = db.session.get(Practice, self.practice_id)
            referrer = db.session.get(User, self.ids["referrer"])
            connector = db.session.get(User, self.ids[holder]) if holder else None
            referral = make.referral(practice, referrer=referrer, connector=connector,
                                     status=status)
            db.session.commit()
            result = referral.id, referral.version
            db.session.remove()
        return result


def _email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@race.example"


@pytest.fixture(scope="module")
def hub(race_app):
    return Hub(race_app)


@pytest.fixture(scope="module")
def clients(hub):
    return {who: hub.client(who) for who in hub.ids}


def race(*calls):
    """Run each call in its own thread, released together; their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return [future.result() for future in [pool.submit(run, call) for call in calls]]


def post(client: Client, url: str, data: dict):
    return lambda: client.post(url, data={**data, "csrf_token": client.token})


def state(app, referral_id: int):
    """The referral's status, holder, and its events as (kind, from, to, actor_id)."""
    with app.app_context():
        referral = db.session.get(Referral, referral_id)
        events = [(e.kind, e.from_status, e.to_status, e.actor_id) for e in
                  db.session.scalars(select(ReferralEvent)
                                     .where(ReferralEvent.referral_id == referral_id)
                                     .order_by(ReferralEvent.id))]
        versions = list(db.session.scalars(
            select(ReferralChange.version).where(ReferralChange.referral_id == referral_id)
            .order_by(ReferralChange.version)))
        result = referral.status, referral.connector_id, events, referral.version, versions
        db.session.remove()
    return result


def assert_versions_tell_the_truth(version: int, versions: list[int]):
    """One logged change per version, none skipped and none twice."""
    assert versions == list(range(1, version + 1))


def won(response, success_path: str) -> bool:
    return response.status_code == 302 and response.headers["Location"].endswith(success_path)


# --- the races -----------------------------------------------------------------------


def test_two_connectors_accept_the_same_referral_exactly_one_gets_it(hub, clients):
    a, b = clients["connector"], clients["connector2"]
    for _ in range(rounds(hub.app.backend)):
        rid, version = hub.referral()
        url = f"/caseload/referrals/{rid}/accept"
        first, second = race(post(a, url, {"version": version}),
                             post(b, url, {"version": version}))

        wins = [won(r, f"/caseload/referrals/{rid}") for r in (first, second)]
        assert sorted(wins) == [False, True], (first.status_code, second.status_code)
        status, holder, events, now_version, versions = state(hub.app, rid)
        winner = hub.ids["connector"] if wins[0] else hub.ids["connector2"]
        assert (status, holder) == (S.ACCEPTED, winner)
        accepted = [e for e in events if e[0] == "status" and e[2] is S.ACCEPTED]
        assigned = [e for e in events if e[0] == "assignment"]
        assert [e[3] for e in accepted] == [winner] and [e[3] for e in assigned] == [winner]
        assert_versions_tell_the_truth(now_version, versions)


def test_two_closes_of_one_referral_exactly_one_closes_it_and_one_letter_is_written(
        hub, clients):
    holder, cover = clients["connector"], clients["coordinator"]
    closed = []
    for _ in range(rounds(hub.app.backend)):
        rid, version = hub.referral(status=S.IN_PROGRESS, holder="connector")
        url = f"/caseload/referrals/{rid}/close"
        first, second = race(
            post(holder, url, {"closing": "completed", "note": "Settled in at the choir.",
                               "version": version}),
            post(cover, url, {"closing": "declined", "note": "Said no thank you.",
                              "version": version}))

        wins = [won(r, f"/caseload/referrals/{rid}") for r in (first, second)]
        assert sorted(wins) == [False, True], (first.status_code, second.status_code)
        loser = second if wins[0] else first
        assert loser.status_code == 409
        # The loser keeps what they typed.
        assert ("Said no thank you." if wins[0] else "Settled in at the choir.") in \
            loser.get_data(as_text=True)
        status, _, events, now_version, versions = state(hub.app, rid)
        closing = [e for e in events if e[2] in (S.COMPLETED, S.DECLINED)]
        assert len(closing) == 1
        assert status is (S.COMPLETED if wins[0] else S.DECLINED)
        assert_versions_tell_the_truth(now_version, versions)
        closed.append(rid)
    # A letter is a job with a unique key per closing: one job each means one letter each.
    with hub.app.app_context():
        per_referral = Counter(db.session.scalars(select(Job.key).where(
            Job.kind == "outcome-letter")).all())
        jobs_of = Counter(int(key.split(":")[1]) for key in per_referral)
        assert {rid: jobs_of[rid] for rid in closed} == {rid: 1 for rid in closed}
        if readiness.pdf_unavailable() and not os.environ.get("KINDLY_REQUIRE_PDF"):
            db.session.remove()
            return  # no Pango here: the jobs wait, retried, until letters can be printed
        # And the jobs do make exactly that: render a few (PDFs are slow) and count.
        for job in db.session.scalars(select(Job).where(Job.kind == "outcome-letter")
                                      .order_by(Job.id).offset(3)):
            job.status = JobStatus.DONE
        db.session.commit()
        jobs.run_due(limit=10)
        letters = Counter(db.session.scalars(select(OutcomeLetter.referral_id)))
        db.session.remove()
    assert letters and set(letters.values()) == {1} and set(letters) <= set(closed)


def test_accept_racing_reject_ends_in_one_consistent_state(hub, clients):
    connector, coordinator = clients["connector"], clients["coordinator"]
    outcomes = Counter()
    for _ in range(rounds(hub.app.backend)):
        rid, version = hub.referral()
        accept, reject = race(
            post(connector, f"/caseload/referrals/{rid}/accept", {"version": version}),
            post(coordinator, f"/caseload/referrals/{rid}/reject",
                 {"reason": "Needs a mental health team, not us.", "version": version}))

        accepted = won(accept, f"/caseload/referrals/{rid}")
        rejected = won(reject, "/caseload/queue")
        assert accepted != rejected, (accept.status_code, reject.status_code)
        status, holder, events, now_version, versions = state(hub.app, rid)
        moves = [e[2] for e in events if e[0] == "status" and e[1] is not None]
        if accepted:
            assert (status, holder, moves) == (S.ACCEPTED, hub.ids["connector"], [S.ACCEPTED])
        else:
            assert (status, holder, moves) == (S.REJECTED, None, [S.REJECTED])
            assert not [e for e in events if e[0] == "assignment"]
        assert_versions_tell_the_truth(now_version, versions)
        outcomes["accepted" if accepted else "rejected"] += 1
    assert sum(outcomes.values()) == rounds(hub.app.backend)


def fhir_cancel(hub, referral_id: int, version: int):
    """A GP system's revocation, as read at `version` (read before the race starts)."""
    client = hub.app.test_client()
    auth = {"Authorization": f"Bearer {hub.token}"}
    body = client.get(f"/fhir/ServiceRequest/{referral_id}", headers=auth).get_json()
    assert body["meta"]["versionId"] == str(version)
    reason = {"url": REVOCATION_EXT, "valueString": "The patient has moved away"}
    body = {**body, "status": "revoked", "extension": [*body.get("extension", []), reason]}
    return lambda: client.put(
        f"/fhir/ServiceRequest/{referral_id}", json=body,
        headers={**auth, "If-Match": f'W/"{version}"', "Content-Type": "application/fhir+json"})


def test_two_fhir_cancels_with_the_same_if_match_one_succeeds_the_other_gets_412(hub):
    for _ in range(rounds(hub.app.backend)):
        rid, version = hub.referral()
        first, second = race(fhir_cancel(hub, rid, version), fhir_cancel(hub, rid, version))

        assert sorted([first.status_code, second.status_code]) == [200, 412]
        loser = first if first.status_code == 412 else second
        assert loser.get_json()["resourceType"] == "OperationOutcome"
        status, _, events, now_version, versions = state(hub.app, rid)
        assert status is S.CANCELLED
        assert len([e for e in events if e[2] is S.CANCELLED]) == 1
        assert loser.headers["ETag"] == f'W/"{now_version}"'
        assert_versions_tell_the_truth(now_version, versions)


def test_a_fhir_cancel_racing_an_accept_answers_what_really_happened(hub, clients):
    connector = clients["connector"]
    for _ in range(rounds(hub.app.backend)):
        rid, version = hub.referral()
        cancel, accept = race(
            fhir_cancel(hub, rid, version),
            post(connector, f"/caseload/referrals/{rid}/accept", {"version": version}))

        status, _, events, now_version, versions = state(hub.app, rid)
        if cancel.status_code == 200:
            assert status is S.CANCELLED and not won(accept, f"/caseload/referrals/{rid}")
        else:
            assert cancel.status_code in (412, 422), cancel.get_data(as_text=True)
            assert status is S.ACCEPTED and won(accept, f"/caseload/referrals/{rid}")
        assert len([e for e in events if e[0] == "status" and e[1] is not None]) == 1
        assert_versions_tell_the_truth(now_version, versions)


def test_two_coordinators_assign_one_referral_exactly_one_assignment_stands(hub, clients):
    first_coordinator, second_coordinator = clients["coordinator"], clients["coordinator2"]
    for _ in range(rounds(hub.app.backend)):
        rid, version = hub.referral()
        url = f"/hub/referrals/{rid}/assign"
        first, second = race(
            post(first_coordinator, url, {"connector": str(hub.ids["connector"]),
                                          "reason": "Balancing caseloads", "version": version}),
            post(second_coordinator, url, {"connector": str(hub.ids["connector2"]),
                                           "reason": "Covering leave", "version": version}))

        wins = [won(r, "/hub") for r in (first, second)]
        assert sorted(wins) == [False, True], (first.status_code, second.status_code)
        loser = second if wins[0] else first
        assert loser.status_code == 409
        assert ("Covering leave" if wins[0] else "Balancing caseloads") in \
            loser.get_data(as_text=True)
        status, holder, events, now_version, versions = state(hub.app, rid)
        chosen = hub.ids["connector"] if wins[0] else hub.ids["connector2"]
        assert (status, holder) == (S.RECEIVED, chosen)
        assert len([e for e in events if e[0] == "assignment"]) == 1
        assert_versions_tell_the_truth(now_version, versions)


def test_two_colleagues_contacts_on_one_referral_both_land(hub, clients):
    holder, cover = clients["connector"], clients["coordinator"]
    for _ in range(max(rounds(hub.app.backend) // 5, 2)):
        rid, version = hub.referral(status=S.IN_PROGRESS, holder="connector")
        url = f"/caseload/referrals/{rid}/contacts"
        contact = {"contact_date": "01/12/2026", "contact_time": "10:00", "method": "phone",
                   "outcome": "spoke", "version": version}
        first, second = race(post(holder, url, {**contact, "notes": "Talked about the choir"}),
                             post(cover, url, {**contact, "notes": "Covering: rang back"}))

        assert [first.status_code, second.status_code] == [302, 302]
        with hub.app.app_context():
            notes = sorted(db.session.scalars(select(Contact.notes)
                                              .where(Contact.referral_id == rid)))
            count = db.session.scalar(select(func.count(ReferralChange.id))
                                      .where(ReferralChange.referral_id == rid))
            db.session.remove()
        assert notes == ["Covering: rang back", "Talked about the choir"]
        *_, now_version, versions = state(hub.app, rid)
        assert now_version == version + 2 and count == now_version
        assert_versions_tell_the_truth(now_version, versions)


def test_without_the_row_lock_the_version_check_in_the_update_still_lets_one_win(
        hub, clients, monkeypatch):
    """Layer 3 alone (revisions): a change that skipped the lock and the version check
    still cannot overwrite a newer state; its writer gets a clear 409, not a 500."""
    if hub.app.backend == "sqlite":
        pytest.skip("SQLite serialises the two transactions: the second reads the first's "
                    "result, so there is no stale write to catch")
    from referrals import revisions

    monkeypatch.setattr(revisions, "for_change", lambda query: query)
    monkeypatch.setattr(revisions, "lock", lambda referral: None)
    monkeypatch.setattr(revisions, "check", lambda referral, expected: None)
    # Both read the referral before either writes: a pause where the lock would be.
    monkeypatch.setattr(revisions, "begin", lambda referral, expected=None: time.sleep(0.05))
    a, b = clients["connector"], clients["connector2"]
    lost = 0
    for _ in range(rounds(hub.app.backend)):
        rid, _ = hub.referral()
        url = f"/caseload/referrals/{rid}/accept"
        first, second = race(post(a, url, {}), post(b, url, {}))

        wins = [won(r, f"/caseload/referrals/{rid}") for r in (first, second)]
        assert sorted(wins) == [False, True], (first.status_code, second.status_code)
        loser = second if wins[0] else first
        assert loser.status_code in (302, 409)  # 409: it lost at the UPDATE itself
        lost += loser.status_code == 409
        _, _, events, now_version, versions = state(hub.app, rid)
        assert len([e for e in events if e[2] is S.ACCEPTED and e[0] == "status"]) == 1
        assert_versions_tell_the_truth(now_version, versions)
    assert lost, "no round raced at the UPDATE: the test proved nothing"


# --- issue 15 (matching): a volunteer match, withdrawn while the volunteer accepts -----
# Here, not in tests/referrals/volunteering, to share this module's committed database.
from referrals.models import (
    MatchStatus,
    User,
    Volunteer,
    VolunteerMatch,
)
from referrals.volunteering import service as volunteering

VOLUNTEER_ROUNDS = {"sqlite": 3, "postgresql": 5}


def signed_in_volunteer(hub, email: str) -> tuple[int, Client]:
    """An approved volunteer in the hub's team, signed in; answers (volunteer id, client)."""
    with hub.app.app_context():
        make = Builders(db.session)
        user = make.user(Role.VOLUNTEER, email=email)
        team_id = db.session.get(User, hub.ids["connector"]).team_id
        checked_on = date.today() - timedelta(days=30)  # matchable: checks done, current
        volunteer = Volunteer(team_id=team_id, user_id=user.id, given_name="Dave",
                              email=user.email, offers=["befriending_calls"],
                              status="approved", references_checked_on=checked_on,
                              dbs_checked_on=checked_on)
        db.session.add(volunteer)
        db.session.commit()
        volunteer_id = volunteer.id
        db.session.remove()
    client = Client(hub.app.test_client())
    assert client.submit("/login", {"email": email, "password": PASSWORD}).status_code == 302
    client.token = client.csrf_token("/notifications")
    return volunteer_id, client


@pytest.fixture(scope="module")
def volunteer_dave(hub) -> tuple[int, Client]:
    return signed_in_volunteer(hub, "dave-race@race.example")


def proposal(hub, volunteer_id: int) -> tuple[int, int]:
    """A referral on the connector's caseload, a weekly-call request, Dave proposed."""
    referral_id, _ = hub.referral(status=ReferralStatus.IN_PROGRESS, holder="connector")
    with hub.app.test_request_context():
        referral = db.session.get(Referral, referral_id)
        connector = db.session.get(User, hub.ids["connector"])
        request = volunteering.create_request(referral, need="befriending_calls", when=[],
                                         notes="", actor=connector)
        match = volunteering.propose(request, db.session.get(Volunteer, volunteer_id),
                                actor=connector)
        db.session.commit()
        result = match.id, match.version
        db.session.remove()
    return result


def test_withdrawing_while_the_volunteer_accepts_leaves_exactly_one_winner(hub,
                                                                          volunteer_dave):
    volunteer_id, volunteer = volunteer_dave
    connector = hub.client("connector")
    connector.token = connector.csrf_token("/notifications")
    for _ in range(VOLUNTEER_ROUNDS[hub.app.backend]):
        match_id, version = proposal(hub, volunteer_id)
        accepted, withdrawn = race(
            post(volunteer, f"/volunteering/matches/{match_id}/answer",
                 {"answer": "accept", "version": version}),
            post(connector, f"/volunteering/matches/{match_id}/end",
                 {"reason": "Found someone nearer", "version": version}))
        codes = sorted((accepted.status_code, withdrawn.status_code))
        assert codes == [302, 409], codes
        with hub.app.app_context():
            status = db.session.get(VolunteerMatch, match_id).status
            db.session.remove()
        loser = withdrawn if accepted.status_code == 302 else accepted
        assert "Someone else changed this match" in loser.get_data(as_text=True)
        assert status is (MatchStatus.ACCEPTED if accepted.status_code == 302
                          else MatchStatus.ENDED)


def test_declining_a_volunteer_while_they_accept_leaves_no_running_match(hub):
    """The coordinator's decline ends the volunteer's matches (stepping_back) while the
    volunteer accepts one: whichever commits first, a declined volunteer is left with no
    proposed or accepted match."""
    coordinator = hub.client("coordinator")
    coordinator.token = coordinator.csrf_token("/notifications")
    for n in range(VOLUNTEER_ROUNDS[hub.app.backend]):
        # A volunteer per round: declining one ends their account.
        volunteer_id, volunteer = signed_in_volunteer(hub, f"declined-{n}@race.example")
        match_id, version = proposal(hub, volunteer_id)
        with hub.app.app_context():
            volunteer_version = db.session.get(Volunteer, volunteer_id).version
            db.session.remove()
        accepted, declined = race(
            post(volunteer, f"/volunteering/matches/{match_id}/answer",
                 {"answer": "accept", "version": version}),
            post(coordinator, f"/hub/volunteers/{volunteer_id}/decision",
                 {"decision": "decline", "reason": "References did not hold up",
                  "version": volunteer_version}))
        assert declined.status_code == 303, declined.status_code
        # Accepted first (302, then ended by the decline), or refused: the match moved on
        # (409), or the account the decline ended no longer reaches it (404).
        assert accepted.status_code in (302, 404, 409), accepted.status_code
        with hub.app.app_context():
            match = db.session.get(VolunteerMatch, match_id)
            assert match.status is MatchStatus.ENDED
            assert match.end_reason.startswith("The hub's coordinator declined")
            assert db.session.get(Volunteer, volunteer_id).status.value == "declined"
            db.session.remove()


# --- issue 15: two people make the self-referral of one phone call at once -----------


def test_two_people_making_one_calls_self_referral_leave_exactly_one_referral(hub):
    from referrals.calls import service as calls
    from referrals.errors import DomainError
    from referrals.models import CallOutcome, HubCall, Patient, Practice, User

    with hub.app.app_context():
        coordinator = db.session.get(User, hub.ids["coordinator"])
        call = HubCall(team_id=coordinator.team_id, taken_by_id=coordinator.id,
                       caller_name="Ivy Race", caller_phone="07700 900777",
                       need="Company", outcome=CallOutcome.SELF_REFERRAL)
        db.session.add(call)
        db.session.commit()
        call_id = call.id
        db.session.remove()

    def make(who: str, seq: int):
        def run():
            with hub.app.app_context():
                make = Builders(db.session)
                for _ in range(seq):  # two different people, so only the call decides
                    make.nhs_number()
                actor = db.session.get(User, hub.ids[who])
                practice = db.session.get(Practice, hub.practice_id)
                try:
                    referral = calls.make_self_referral(
                        db.session.get(HubCall, call_id),
                        make.intake(practice, person={"given_name": f"Ivy{seq}"}),
                        actor=actor)
                    db.session.commit()
                    return referral.id
                except DomainError:
                    db.session.rollback()
                    return None
                finally:
                    db.session.remove()
        return run

    made = race(make("coordinator", 50), make("connector", 51))

    assert sorted(r is None for r in made) == [False, True], made
    with hub.app.app_context():
        call = db.session.get(HubCall, call_id)
        assert call.referral_id == next(r for r in made if r is not None)
        ivies = db.session.scalar(select(func.count()).select_from(Referral).join(
            Referral.patient).where(Patient.given_name.in_(["Ivy50", "Ivy51"])))
        assert ivies == 1
        db.session.remove()
