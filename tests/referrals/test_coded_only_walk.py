"""The coded-only walk.

People whose person asked that only coded information go back to their practice, their
referrals full of distinctive words in every free-text field (referrals.sharing
registers them all: the walk refuses to run until it has filled each one), then every
output the practice or its GP system can get: the practice's pages as referrer and as
manager, every FHIR read and search, the outcome letter's PDF (as a download and as a
FHIR Binary), and every email the hub's scheduler sends. None of the words may appear.
The connector's actions for the GP are the one exception the rules allow; the letter
must carry them, which also proves the PDF was read.
"""
from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask import current_app
from sqlalchemy import select

from referrals import scheduler, sharing, workflow
from referrals.access import API_CLIENT
from referrals.admin.service import create_api_client
from referrals.calls import service as calls
from referrals.caseload import service as casework
from referrals.hub import service as hub_service
from referrals.intake.additions import AdditionRequest, add_information
from referrals.intake.service import ReasonEntry, create_referral
from referrals.matching import service as matching
from referrals.models import (
    CallOutcome,
    CompletionMode,
    ConnectionKind,
    ConnectionStatus,
    ContactChannel,
    ContactOutcome,
    FollowUpStatus,
    LetterTrigger,
    Offer,
    OfferStatus,
    OutboxMessage,
    PostcodePlace,
    ReferralStatus,
    Role,
    Timepoint,
    Volunteer,
    VolunteerStatus,
    utcnow,
)
from referrals.notifications import mail
from referrals.outcomes.service import record_measurement
from referrals.scopes import Period, Scope, ScopeKind
from referrals.sharing import Kind
from referrals.volunteering import concerns
from referrals.volunteering import service as volunteering
from tests.conftest import Client
from tests.referrals.test_routes import access_of

S, C = ReferralStatus, ConnectionStatus
PASSWORD = "correct horse battery"
# Each field's words: one unbroken token each, so that a line or word break in the PDF
# cannot hide it (the checks also ignore spaces and hyphens).
WORDS = {
    "what_matters": "qzxwhatmatters",
    "risks": "qzxrisk",
    "detail": "qzxotherreason",
    "assign": "qzxassignreason",
    "reject": "qzxrejectreason",
    "cancel": "qzxcancelreason",
    "closing": "qzxclosingnote",
    "contact": "qzxcontactnote",
    "purpose": "qzxfollowuppurpose",
    "outcome_note": "qzxfollowupnote",
    "connection": "qzxconnectionnote",
    "connection_event": "qzxconnectionstep",
    "explanation": "qzxmatchexplanation",
    "addition": "qzxaddedinformation",  # issue 14: a practice adds to an open referral
    "handover": "qzxhandovernote",  # issue 15: for the partner organisation, by consent
    # Issue 15: a volunteer for the person, and a call to the hub's phone line about them.
    "volunteer_notes": "qzxnoteforthevolunteer",
    "volunteer_score": "qzxvolunteerscore",
    "volunteer_answer": "qzxvolunteeranswer",
    "check_in": "qzxcheckinnote",
    "hours": "qzxhoursnote",
    "concern": "qzxsafeguardingconcern",
    "concern_phone": "qzxconcernphone",
    "match_ended": "qzxmatchendreason",
    "call_need": "qzxcallerneed",
    "call_information": "qzxinformationgiven",
}
GP_ACTIONS = "qzxgpactions"  # for the practice to act on: the letter carries it
PEOPLE = [{"given_name": "Zenobia", "family_name": "Quillfeather"},
          {"given_name": "Octavian", "family_name": "Brackenridge"},
          {"given_name": "Perpetua", "family_name": "Wolstenholme"}]
# Practice pages that show nothing of a referral (pages every role, admins included, may
# open carry no clinical content at all, so they need no entry here).
NOT_ABOUT_A_REFERRAL = {"intake.new_referral": "the empty referral form"}
# FHIR reads of the community directory: offers and venues, nobody's record.
DIRECTORY_ONLY = {"fhir.read_healthcare_service", "fhir.search_healthcare_services",
                  "fhir.read_location"}


def flat(text: str) -> str:
    """Lower case, without spaces, line breaks or hyphens (as a PDF may break words)."""
    return re.sub(r"[\s\-\u00ad]+", "", text).lower()


def leaks(text: str, words) -> list[str]:
    found = flat(text)
    return [word for word in words if flat(word) in found]


@pytest.fixture
def pdftotext():
    from tests.reports.conftest import _pdf_tools_missing, pdftotext

    if reason := _pdf_tools_missing():
        import os

        if os.environ.get("KINDLY_REQUIRE_PDF"):
            pytest.fail(f"KINDLY_REQUIRE_PDF is set but {reason}")
        pytest.skip(reason)
    return pdftotext


@pytest.fixture
def emails(app, monkeypatch):
    outbox = []
    monkeypatch.setitem(app.config, "SMTP_HOST", "smtp.test.example")
    monkeypatch.setattr(mail, "send_email", lambda config, **message: outbox.append(message))
    return outbox


def build_world(db, make):
    """A practice and its team, and three coded-only referrals whose every free-text
    field holds words from WORDS: one completed (with measures, a connection, follow-ups,
    contacts and an outcome letter), one rejected, one cancelled."""
    team = make.team(max_contact_attempts=3, follow_up_grace_days=1)
    practice = make.practice(team=team, ods_code="Q12345", name="Quill Street Surgery")
    w = SimpleNamespace(
        team=team, practice=practice,
        referrer=make.user(Role.REFERRER, practice=practice, password=PASSWORD),
        manager=make.user(Role.MANAGER, practice=practice, password=PASSWORD),
        connector=make.user(Role.CONNECTOR, team=team, password=PASSWORD),
        coordinator=make.user(Role.COORDINATOR, team=team, password=PASSWORD),
    )
    now = utcnow()
    today = now.date()

    def refer(person):
        return create_referral(make.intake(
            practice, person=person, what_matters=f"She said: {WORDS['what_matters']}",
            reasons=[ReasonEntry("loneliness"), ReasonEntry("other", WORDS["detail"])],
            risks=[WORDS["risks"]], no_known_risks=False), actor=w.referrer)

    w.completed, w.rejected, w.cancelled = (refer(person) for person in PEOPLE)
    add_information(AdditionRequest(w.completed.patient.nhs_number, WORDS["addition"]),
                    actor=w.referrer)
    for referral in (w.completed, w.rejected):
        hub_service.assign(referral, w.connector, actor=w.coordinator, reason=WORDS["assign"])
    for referral in (w.rejected, w.cancelled):  # a coordinator records the wish early
        casework.set_coded_only(referral, actor=w.coordinator, coded_only=True,
                                expected_version=referral.version)

    # The completed one: the whole story.
    r, connector = w.completed, w.connector
    casework.accept_referral(r, actor=connector)
    casework.record_contact(r, actor=connector, at=now - timedelta(hours=2),
                            method=ContactChannel.PHONE, outcome=ContactOutcome.SPOKE,
                            notes=WORDS["contact"])
    casework.schedule_follow_up(r, actor=connector, due_on=today, method=ContactChannel.PHONE,
                                purpose=WORDS["purpose"], today=today)
    missed = casework.schedule_follow_up(r, actor=connector, due_on=today,
                                         method=ContactChannel.VIDEO, purpose="Second call",
                                         today=today)
    casework.close_follow_up(r, missed, actor=connector, status=FollowUpStatus.MISSED,
                             note=WORDS["outcome_note"])
    for timepoint in (Timepoint.BASELINE, Timepoint.FOLLOW_UP):
        record_measurement(r, "ucla3", timepoint=timepoint, mode=CompletionMode.ASSISTED,
                           completed_on=today,
                           answers={"lack_companionship": 2, "left_out": 2, "isolated": 1},
                           actor=connector)
    offer = Offer(id="walk-offer-1", name="Quill Walking Group", status=OfferStatus.ACTIVE)
    db.session.add(offer)
    db.session.flush()
    connection = matching.record_connection(r, offer, kind=ConnectionKind.REFERRAL,
                                            notes=WORDS["connection"], actor=connector,
                                            today=today, handover=matching.Handover(
                                                share=True, contact="07700 900999",
                                                note=WORDS["handover"]))
    connection.match_explanation = WORDS["explanation"]
    matching.update_connection(connection, status=C.ACCEPTED, on=today,
                               note=WORDS["connection_event"], actor=connector, today=today)
    matching.update_connection(connection, status=C.ATTENDED, on=today, actor=connector,
                               today=today)
    with current_app.test_request_context():  # the volunteer's links are URLs
        volunteer_for(db, make, w, r, today)
    call = calls.record_call(calls.CallDetails(
        caller_name="Zenobia Quillfeather", caller_phone="07700 900111",
        need=WORDS["call_need"], outcome=CallOutcome.INFORMATION,
        information_given=WORDS["call_information"]), actor=connector, now=now)
    call.referral_id = r.id  # as a call that became this referral is linked
    casework.set_coded_only(r, actor=connector, coded_only=True, expected_version=r.version)
    db.session.commit()
    return w


def volunteer_for(db, make, w, r, today):
    """Issue 15: a weekly call for the person, matched, checked on, with hours logged and a
    safeguarding concern raised, then ended: every word of it written."""
    db.session.merge(PostcodePlace(postcode="LS1 4AP", latitude=53.7960, longitude=-1.5470))
    account = make.user(Role.VOLUNTEER, password=PASSWORD)
    vera = Volunteer(team_id=w.team.id, user=account, given_name="Vera", family_name="Vale",
                     email=account.email, postcode="LS1 1AA", latitude=53.8050,
                     longitude=-1.5470, offers=["befriending_calls"],
                     availability=["mon-morning"], consent_to_contact=True,
                     status=VolunteerStatus.APPROVED,
                     # Checked a month ago: only a checked volunteer can be matched.
                     references_checked_on=today - timedelta(days=30),
                     dbs_checked_on=today - timedelta(days=30))
    db.session.add(vera)
    db.session.flush()
    request = volunteering.create_request(r, need="befriending_calls", when=["mon-morning"],
                                          notes=WORDS["volunteer_notes"], actor=w.connector)
    match = volunteering.propose(request, vera, actor=w.connector)
    match.explanation = WORDS["volunteer_score"]
    volunteering.answer(match, accept=True, note=WORDS["volunteer_answer"], actor=account,
                        today=today)
    volunteering.record_check_in(match, rating="going_well", note=WORDS["check_in"],
                                 next_on=None, actor=w.connector, today=today)
    volunteering.log_hours(match, on=today, hours=1.0, note=WORDS["hours"], actor=account,
                           today=today)
    concerns.raise_concern(actor=account, concern=WORDS["concern"], match=match,
                           contact_phone=WORDS["concern_phone"])
    volunteering.end_match(match, reason=WORDS["match_ended"], actor=w.connector)


def finish(db, w, now):
    """After the scheduler has run: close, reject, cancel, and write the letter."""
    from reports import store

    casework.close_referral(w.completed, "completed", actor=w.connector, note=WORDS["closing"],
                            gp_actions=f"Please {GP_ACTIONS}", coded_only=True)
    casework.reject_referral(w.rejected, actor=w.coordinator, reason=WORDS["reject"])
    workflow.transition(w.cancelled, S.CANCELLED, actor=w.referrer, reason=WORDS["cancel"])
    store.produce_letter(w.completed, trigger=LetterTrigger.ON_DEMAND, actor=w.connector)
    db.session.commit()


def assert_every_field_was_filled(db):
    """Every registered column of words about the person (or the hub's own notes) holds
    one of WORDS somewhere: a newly registered field must be filled here too."""
    unfilled = []
    for (model, column), kind in sharing.FREE_TEXT.items():
        if kind not in (Kind.ABOUT_PERSON, Kind.HUB_ONLY):
            continue
        values = [json.dumps(getattr(row, column)) for row in db.session.scalars(select(model))]
        if not leaks(" ".join(values), WORDS.values()):
            unfilled.append(f"{model.__name__}.{column}")
    assert not unfilled, f"the walk does not fill {unfilled}: give each distinctive words"


class Reader:
    """Requests in their own app context each, so the `db` fixture's long-lived context
    cannot lend one client's signed-in user to another (Flask-Login caches it on g)."""

    def __init__(self, app, *, email=None, token=None):
        self.app, self.client, self.token = app, Client(app.test_client()), token
        self.visited: set[str] = set()
        if email:
            with app.app_context():
                response = self.client.submit("/login", {"email": email, "password": PASSWORD})
            assert response.status_code == 302

    def get(self, url: str, *, expect: int = 200, **headers):
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        with self.app.app_context():
            response = self.client.get(url, headers=headers)
        assert response.status_code == expect, f"GET {url}: {response.status_code}"
        path = url.split("?")[0]
        self.visited.add(self.app.url_map.bind("localhost").match(path, method="GET")[0])
        return response


def snapshot(w) -> SimpleNamespace:
    """Plain values to walk with: each request's app context ends by removing the test's
    session, which detaches every loaded row."""
    def of(referral):
        return SimpleNamespace(id=referral.id, reference=referral.reference,
                               patient_id=referral.patient_id,
                               nhs_number=referral.patient.nhs_number)

    return SimpleNamespace(completed=of(w.completed), rejected=of(w.rejected),
                           cancelled=of(w.cancelled),
                           readers=[(u.role, u.email) for u in (w.referrer, w.manager)])


def practice_outputs(app, w, reader, pdftotext, role) -> dict[str, str]:
    seen = {}
    for url in ["/referrals", "/letters", "/notifications", "/referrals?status=completed",
                *(f"/referrals/{r.id}" for r in (w.completed, w.rejected, w.cancelled)),
                # issue 14: the confirmation page after a referral is sent.
                *(f"/referrals/{r.id}/sent" for r in (w.completed, w.rejected, w.cancelled))]:
        seen[url] = reader.get(url).get_data(as_text=True)
    pdf = reader.get(f"/referrals/{w.completed.id}/letter.pdf").data
    seen["letter.pdf"] = pdftotext(pdf)
    if role is Role.MANAGER:
        seen |= report_outputs(w, reader, pdftotext)
        # The practice's account pages (issue 14): staff only, read all the same.
        seen |= {url: reader.get(url).get_data(as_text=True)
                 for url in ("/users", "/users/invite", "/users?q=a&status=active")}
    return seen


def report_outputs(w, reader, pdftotext) -> dict[str, str]:
    """The manager's reports, exports and stored reports (reports/report_views.py,
    reports/export_views.py)."""
    today = utcnow().date()
    period = f"from={today - timedelta(days=90)}&to={today}"
    seen = {url: reader.get(url).get_data(as_text=True) for url in (
        f"/reports/practice.csv?{period}", f"/reports/national-dataset.csv?{period}",
        f"/reports/national-counts?{period}", f"/reports/national-counts.csv?{period}",
        "/reports/monthly", "/reports/monthly/email", "/reports", f"/reports/practice?{period}")}
    # Not the manager's: 404, read all the same (nothing may leak from them either).
    seen |= {url: reader.get(url, expect=404).get_data(as_text=True) for url in (
        f"/reports/pcn?pcn=x&{period}", f"/reports/hub?{period}",
        f"/reports/pcn.pdf?pcn=x&{period}", f"/reports/hub.pdf?{period}",
        f"/reports/unmet-needs?{period}")}
    seen["report.pdf"] = pdftotext(reader.get(f"/reports/practice.pdf?{period}").data)
    rows = seen[f"/reports/practice.csv?{period}"].strip().splitlines()
    assert len(rows) == 1 + 3, "the CSV walk found no referrals: it is broken"
    seen["monthly.pdf"] = pdftotext(reader.get(f"/reports/monthly/{w.monthly_report}.pdf").data)
    return seen


def fhir_outputs(app, w, reader, pdftotext) -> dict[str, str]:
    seen = {}

    def read(url, **headers):
        response = reader.get(f"/fhir/{url}", **headers)
        body = response.get_json(silent=True)
        if body and body.get("resourceType") == "Binary":
            seen[url] = pdftotext(base64.b64decode(body.pop("data")))
            seen[url + " (json)"] = json.dumps(body)
        elif body is not None:
            seen[url] = json.dumps(body, ensure_ascii=False)
        else:
            seen[url] = pdftotext(response.data)
        return body

    patient_ids = set()
    for r in (w.completed, w.rejected, w.cancelled):
        read(f"ServiceRequest/{r.id}")
        read(f"Task/t-{r.id}")
        read(f"Task?focus=ServiceRequest/{r.id}&_include=Task:focus")
        read(f"Consent/c-{r.id}")
        read(f"Patient/{r.patient_id}")
        patient_ids.add(r.patient_id)
    read("ServiceRequest?_include=ServiceRequest:patient&_count=50")
    read("Task?_count=50")
    read(f"Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{w.completed.nhs_number}")
    procedures = read("Procedure")
    for entry in procedures["entry"]:
        read(f"Procedure/{entry['resource']['id']}")
    for kind in ("QuestionnaireResponse", "Observation"):
        found = read(kind)
        assert found["entry"], f"no {kind} in the walk"
        for entry in found["entry"]:
            read(f"{kind}/{entry['resource']['id']}")
    documents = read("DocumentReference")
    [document] = documents["entry"]
    read(f"DocumentReference/{document['resource']['id']}")
    read(f"Binary/{document['resource']['id']}")
    read(f"Binary/{document['resource']['id']}", Accept="application/pdf")
    return seen


def test_nothing_the_person_did_not_agree_to_share_reaches_the_practice(
        app, db, make, emails, pdftotext):
    w = build_world(db, make)
    assert_every_field_was_filled(db)
    # Issue 15: what was written to the outbox (to the volunteer, to the hub's address).
    account_mail = [(m.to, m.subject, m.body) for m in db.session.scalars(select(OutboxMessage))]
    assert len(account_mail) >= 3, "no volunteer or hub email: the walk is broken"
    # The scheduler's emails, on a day when everything above is overdue.
    later = utcnow() + timedelta(days=30)
    delivered = scheduler.run_all(now=later)
    assert delivered["digest"] and delivered["first-contact"] and delivered["follow-up"]
    finish(db, w, later)
    _, token = create_api_client("Quill GP system", [w.practice], actor=None, actor_label="t")
    # Last month's report as the scheduler makes it (reports.period_report). Imported
    # here: WeasyPrint needs Pango, which the pdftotext fixture has checked by now.
    from reports import monthly, period_report

    period = Period.previous_month(utcnow().date())
    scope = Scope(ScopeKind.PRACTICE, w.practice.name, (w.practice.id,))
    report = monthly.store_report(w.practice.id, period,
                                  period_report.render_pdf(period_report.build(scope, period)))
    db.session.commit()
    w = snapshot(w)
    w.monthly_report = report.id

    outputs = {}
    for role, email in w.readers:
        reader = Reader(app, email=email)
        outputs |= {f"{role.value} {url}": text
                    for url, text in practice_outputs(app, w, reader, pdftotext, role).items()}
        reachable = {rule.endpoint for rule in app.url_map.iter_rules()
                     if "GET" in rule.methods
                     and isinstance(access := access_of(app, rule), frozenset)
                     and role in access and Role.ADMIN not in access}
        missed = reachable - reader.visited - set(NOT_ABOUT_A_REFERRAL)
        assert not missed, f"the walk does not read {missed} as {role.value}"
    api = Reader(app, token=token)
    outputs |= {f"FHIR {url}": text
                for url, text in fhir_outputs(app, w, api, pdftotext).items()}
    fhir_reads = {rule.endpoint for rule in app.url_map.iter_rules()
                  if "GET" in rule.methods and access_of(app, rule) == API_CLIENT}
    missed = fhir_reads - api.visited - DIRECTORY_ONLY
    assert not missed, f"the walk does not read {missed} over FHIR"
    assert emails, "the scheduler sent no email: the walk is broken"
    outputs |= {f"email to {m['to']}: {m['subject']}": f"{m['subject']}\n{m['body']}"
                for m in emails}
    outputs |= {f"email (outbox) to {to}: {subject}": f"{subject}\n{body}"
                for to, subject, body in account_mail}

    leaked = {where: found for where, text in outputs.items()
              if (found := leaks(text, WORDS.values()))}
    assert not leaked, f"free text reached the practice: {leaked}"
    names = [part for person in PEOPLE for part in person.values()]
    by_email = {where: found for where, text in outputs.items() if where.startswith("email")
                if (found := leaks(text, [*names, GP_ACTIONS]))}
    assert not by_email, f"an email carried a name or the GP's actions: {by_email}"
    # The walk read real content: the letter carries the GP's actions, each page and
    # resource names the referral, and the practice is told why words are missing.
    assert leaks(outputs["referrer letter.pdf"], [GP_ACTIONS])
    assert leaks(outputs["FHIR Binary/" + document_id(outputs)], [GP_ACTIONS])
    assert w.completed.reference in outputs[f"manager /referrals/{w.completed.id}"]
    assert sharing.CODED_ONLY_NOTICE in outputs[f"referrer /referrals/{w.rejected.id}"]
    assert w.rejected.reference in outputs[f"FHIR Task/t-{w.rejected.id}"]


def document_id(outputs: dict[str, str]) -> str:
    [key] = [k for k in outputs if re.fullmatch(r"FHIR Binary/\d+", k)]
    return key.removeprefix("FHIR Binary/")
