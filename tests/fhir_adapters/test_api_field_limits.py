"""Every text field has the same length limit over FHIR as on the referral form: at the
limit it is taken, one character more is a 422 naming the element, and nothing is stored."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from wtforms.validators import Length

from referrals.intake.forms import ReferralForm
from referrals.intake.limits import MAX_LENGTHS
from referrals.models import Referral
from tests.fhir_adapters import payloads
from tests.fhir_adapters.test_api_errors import issue_of

GMC = "https://fhir.hl7.org.uk/Id/gmc-number"
KNOWN_RISK = payloads.KNOWN_RISK


def set_given_name(bundle, n):
    payloads.entry(bundle, "Patient")["name"][0]["given"] = ["a" * n]


def set_family_name(bundle, n):
    payloads.entry(bundle, "Patient")["name"][0]["family"] = "a" * n


def set_postcode(bundle, n):
    # Spaces are not part of a postcode, so any length of it can still be a real one.
    payloads.entry(bundle, "Patient")["address"][0]["postalCode"] = "LS1" + " " * (n - 6) + "4AP"


def set_phone(bundle, n):
    payloads.entry(bundle, "Patient")["telecom"] = [
        {"system": "phone", "value": "0" * n, "use": "mobile"}]


def set_email(bundle, n):
    payloads.entry(bundle, "Patient")["telecom"] = [
        {"system": "email", "value": "a" * (n - len("@example.com")) + "@example.com"}]


def set_interpreter_language(bundle, n):
    payloads.entry(bundle, "Patient")["communication"] = [{"language": {"text": "a" * n}}]


def set_reason_other(bundle, n):
    payloads.entry(bundle, "ServiceRequest")["reasonCode"] = [{"text": "a" * n}]


def set_what_matters(bundle, n):
    payloads.entry(bundle, "ServiceRequest")["note"] = [{"text": "a" * n}]


def set_risks(bundle, n):
    payloads.entry(bundle, "ServiceRequest")["extension"] = [
        {"url": KNOWN_RISK, "valueString": "a" * n}]


def set_referrer_name(bundle, n):
    payloads.entry(bundle, "Practitioner")["name"] = [{"text": "a" * n}]


def set_referrer_identifier(bundle, n):
    payloads.entry(bundle, "Practitioner")["identifier"] = [
        {"system": GMC, "value": "1" * (n - len(GMC) - 1)}]


FIELDS = {
    "given_name": (set_given_name, "Patient.name.given"),
    "family_name": (set_family_name, "Patient.name.family"),
    "postcode": (set_postcode, "Patient.address.postalCode"),
    "phone": (set_phone, "Patient.telecom"),
    "email": (set_email, "Patient.telecom"),
    "interpreter_language": (set_interpreter_language, "Patient.communication.language"),
    "reason_other": (set_reason_other, "ServiceRequest.reasonCode.text"),
    "what_matters": (set_what_matters, "ServiceRequest.note"),
    "risks": (set_risks, "ServiceRequest.extension"),
    "referrer_name": (set_referrer_name, "ServiceRequest.requester"),
    "referrer_identifier": (set_referrer_identifier, "ServiceRequest.requester"),
}


def test_every_limited_field_is_tested_here():
    assert set(FIELDS) == set(MAX_LENGTHS)


def test_the_referral_form_has_the_same_limits():
    form_limits = {}
    for name, unbound in vars(ReferralForm).items():
        for validator in getattr(unbound, "kwargs", {}).get("validators", []):
            if isinstance(validator, Length):
                form_limits[name] = validator.max
    assert form_limits == {name: limit for name, limit in MAX_LENGTHS.items()
                           if not name.startswith("referrer_")}


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_a_field_at_its_limit_is_taken(api, db, make, field):
    bundle = payloads.transaction(make.nhs_number())
    setter, _ = FIELDS[field]
    setter(bundle, MAX_LENGTHS[field])
    response = api.post("", bundle)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Referral.id))) == 1


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_a_field_over_its_limit_is_a_422_naming_the_element(api, db, make, field):
    bundle = payloads.transaction(make.nhs_number())
    setter, path = FIELDS[field]
    setter(bundle, MAX_LENGTHS[field] + 1)
    issue = issue_of(api.post("", bundle), 422)
    assert issue["expression"] == [path]
    assert f"{MAX_LENGTHS[field]} characters or fewer" in issue["diagnostics"]
    assert db.session.scalar(select(func.count(Referral.id))) == 0


def test_a_single_service_request_has_the_same_limits(api, db, make):
    resource = payloads.with_contained_patient(make.nhs_number())
    resource["contained"][0]["name"][0]["family"] = "a" * 101
    resource["note"] = [{"text": "a" * 4001}]
    response = api.post("ServiceRequest", resource)
    assert response.status_code == 422
    assert {tuple(i["expression"]) for i in response.json["issue"]} == {
        ("Patient.name.family",), ("ServiceRequest.note",)}
    assert db.session.scalar(select(func.count(Referral.id))) == 0
