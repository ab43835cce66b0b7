"""The data the FHIR benchmarks run on: a small hub, an API client, referrals, and the
transaction Bundles a GP system would POST. Everything goes through the real services."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Flask

from bench.timing import Progress
from fhir_adapters import codes
from fhir_adapters import consent as consent_map
from fhir_adapters import servicerequest as sr_map
from referrals import reasons, workflow
from referrals.admin.service import create_api_client
from referrals.auth.service import create_user
from referrals.extensions import db
from referrals.intake.service import (
    ConsentRecord,
    IntakeRequest,
    PersonDetails,
    ReasonEntry,
    create_referral,
)
from referrals.models import Practice, ReferralStatus, Role, Sex, Team, Urgency, utcnow
from referrals.nhs_number import check_digit

PRACTICES = [("B10001", "Abbey Road Surgery"), ("B10002", "Brook Lane Practice"),
             ("B10003", "Castle Health Centre")]
GIVEN = ["Ada", "Brian", "Chioma", "Dafydd", "Elif", "Farah", "George", "Hannah", "Imran", "Joan"]
FAMILY = ["Lovelace", "Okafor", "Jones", "Nowak", "Singh", "Murphy", "Evans", "Khan", "Smith"]
POSTCODES = ["LS1 4AP", "SW1A 1AA", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "EC1A 1BB"]
WHAT_MATTERS = "Getting out of the house again, and meeting people who like gardening."
S = ReferralStatus
# The 100 searchset referrals cycle through these, so Tasks show every kind of state.
PATHS = [[], [], [], [S.ACCEPTED], [S.ACCEPTED, S.IN_PROGRESS],
         [S.ACCEPTED, S.IN_PROGRESS, S.COMPLETED], [S.REJECTED], [S.CANCELLED],
         [S.ACCEPTED, S.DECLINED], [S.ACCEPTED, S.UNABLE_TO_CONTACT]]


def nhs_numbers(start: int = 0) -> Iterator[str]:
    """Valid NHS numbers from the never-issued 999 range, in order, after `start`."""
    n = start
    while True:
        n += 1
        first_nine = f"999{n:06d}"
        if (digit := check_digit(first_nine)) is not None:
            yield first_nine + str(digit)


@dataclass
class World:
    practices: list[tuple[int, str, str]]  # (id, ODS code, name)
    token: str
    numbers: Iterator[str]


def build_world(app: Flask, *, referrals: int = 100) -> World:
    """A hub with three practices, an API client for them, and `referrals` referrals."""
    numbers = nhs_numbers()
    with app.app_context():
        team = Team(name="Bench Connectors")
        practices = [Practice(ods_code=ods, name=name, postcode="LS1 4AP", team=team)
                     for ods, name in PRACTICES]
        db.session.add_all([team, *practices])
        db.session.flush()
        referrer = create_user(email="gp@bench.example", name="Dr Asha Patel",
                               role=Role.REFERRER, password="bench-password-123",
                               practice=practices[0])
        connectors = [create_user(email=f"connector{i}@bench.example", name=f"Link Worker {i}",
                                  role=Role.CONNECTOR, password="bench-password-123", team=team,
                                  capacity=40) for i in range(3)]
        _, token = create_api_client("Bench GP system", practices, actor=None,
                                     actor_label="bench")
        db.session.commit()
        progress = Progress("creating referrals", referrals)
        for i in range(referrals):
            referral = create_referral(intake_request(next(numbers), practices[0], i),
                                       actor=referrer)
            path = PATHS[i % len(PATHS)]
            if path and path[0] is S.ACCEPTED:
                referral.connector = connectors[i % len(connectors)]
            for step in path:
                workflow.transition(referral, step, actor=referrer,
                                    reason="Not suitable for this service"
                                    if step in workflow.REASON_REQUIRED else "")
            db.session.commit()
            progress.update(i + 1)
        progress.done()
        world = World([(p.id, p.ods_code, p.name) for p in practices], token, numbers)
    return world


def intake_request(nhs_number: str, practice: Practice, i: int) -> IntakeRequest:
    codes_ = [r.code for r in reasons.REASONS if r.code != reasons.OTHER.code]
    return IntakeRequest(
        person=PersonDetails(
            nhs_number=nhs_number, given_name=GIVEN[i % len(GIVEN)],
            family_name=FAMILY[i % len(FAMILY)],
            birth_date=date(1930, 1, 1) + timedelta(days=397 * i % 25000),
            sex=Sex.FEMALE if i % 2 else Sex.MALE, postcode=POSTCODES[i % len(POSTCODES)],
            phone="07700 900123"),
        reasons=[ReasonEntry(codes_[i % len(codes_)]), ReasonEntry(codes_[(i + 3) % len(codes_)])],
        practice=practice,
        consent=ConsentRecord(given=True),
        what_matters=WHAT_MATTERS,
        risks=["Lives alone"] if i % 3 == 0 else [],
        no_known_risks=i % 3 != 0,
        urgency=Urgency.URGENT if i % 7 == 0 else Urgency.ROUTINE,
    )


def referral_bundle(nhs_number: str, ods: str, name: str, i: int) -> dict:
    """A transaction Bundle as a GP system would send it: UK Core identifiers, urn:uuid refs."""
    ref = {kind: f"urn:uuid:{uuid.uuid4()}" for kind in
           ("patient", "organization", "practitioner", "role", "consent", "request")}
    now = utcnow().isoformat(timespec="seconds").replace("+00:00", "Z")
    resources = {
        "patient": {
            "resourceType": "Patient",
            "identifier": [{"system": codes.NHS_NUMBER, "value": nhs_number, "extension": [{
                "url": codes.NHS_NUMBER_VERIFICATION_EXT,
                "valueCodeableConcept": {"coding": [{
                    "system": codes.NHS_NUMBER_VERIFICATION_SYSTEM, "code": "01",
                    "display": "Number present and verified"}]}}]}],
            "name": [{"use": "official", "family": FAMILY[i % len(FAMILY)],
                      "given": [GIVEN[i % len(GIVEN)]]}],
            "gender": "female" if i % 2 else "male",
            "birthDate": (date(1930, 1, 1) + timedelta(days=397 * i % 25000)).isoformat(),
            "address": [{"use": "home", "postalCode": POSTCODES[i % len(POSTCODES)]}],
            "telecom": [{"system": "phone", "value": "07700 900123", "use": "mobile"}],
            "generalPractitioner": [{"reference": ref["organization"],
                                     "identifier": {"system": codes.ODS_CODE, "value": ods}}],
        },
        "organization": {"resourceType": "Organization",
                         "identifier": [{"system": codes.ODS_CODE, "value": ods}], "name": name},
        "practitioner": {"resourceType": "Practitioner",
                         "identifier": [{"system": codes.GMC_NUMBER, "value": "C1234567"}],
                         "name": [{"family": "Patel", "given": ["Asha"], "prefix": ["Dr"]}]},
        "role": {"resourceType": "PractitionerRole",
                 "practitioner": {"reference": ref["practitioner"]},
                 "organization": {"reference": ref["organization"]}},
        "consent": {
            "resourceType": "Consent", "status": "active",
            "extension": [{"url": consent_map.METHOD_EXT, "valueCode": "verbal-in-person"}],
            "scope": {"coding": [{"system": codes.CONSENT_SCOPE, "code": "patient-privacy"}]},
            "category": [{"coding": [{"system": codes.ACT_CODE, "code": "IDSCL"}]}],
            "patient": {"reference": ref["patient"]}, "dateTime": now,
            "performer": [{"reference": ref["patient"]}],
            "policyRule": {"text": consent_map.POLICY}, "provision": {"type": "permit"},
        },
        "request": {
            "resourceType": "ServiceRequest", "status": "active", "intent": "order",
            "priority": "urgent" if i % 7 == 0 else "routine",
            "subject": {"reference": ref["patient"]}, "requester": {"reference": ref["role"]},
            "authoredOn": now,
            "reasonCode": [{"coding": [{"system": reasons.LOCAL_SYSTEM, "code": "loneliness"}],
                            "text": "Loneliness"}],
            "supportingInfo": [{"reference": ref["consent"]}],
            "extension": [{"url": sr_map.NO_RISK_EXT, "valueBoolean": True}],
            "note": [{"text": WHAT_MATTERS}],
        },
    }
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": ref[kind], "resource": resource,
         "request": {"method": "POST", "url": resource["resourceType"]}}
        for kind, resource in resources.items()]}
