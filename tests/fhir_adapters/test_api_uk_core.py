"""A GP system that speaks UK Core but not Kindly's own extensions: its referral is taken
with the risks "not stated", the connector is warned until they record them, and a
Consent stays required (the 422 says why)."""
from __future__ import annotations

import copy

import pytest
from sqlalchemy import select

from referrals.models import Referral, Role
from tests.fhir_adapters import payloads
from tests.fhir_adapters.test_api_errors import issue_of
from tests.referrals.intake.conftest import Page

KINDLY = "https://kindly.example/"
WARNING = "Confirm the risks with the referrer before a home visit"


def uk_core_bundle(nhs_number: str) -> dict:
    """The standard Bundle without anything of Kindly's: no extensions, and the reason as
    the clinician's own words rather than a Kindly code."""
    bundle = copy.deepcopy(payloads.transaction(nhs_number))
    request = payloads.entry(bundle, "ServiceRequest")
    del request["extension"]
    request["reasonCode"] = [{"text": "Lonely since her husband died"}]
    assert KINDLY not in str(bundle)
    return bundle


def risk_extensions(resource: dict) -> list[dict]:
    return [e for e in resource.get("extension", []) if "risk" in e["url"]]


def test_a_uk_core_referral_is_taken_with_its_risks_not_stated(api, db, make):
    response = api.post("", uk_core_bundle(make.nhs_number()))
    assert response.status_code == 200, response.get_data(as_text=True)
    referral = db.session.scalars(select(Referral)).one()
    assert (referral.risks, referral.no_known_risks, referral.risks_stated) == ([], False, False)
    assert [r.detail for r in referral.reasons] == ["Lonely since her husband died"]
    # Nothing is made up on the way back out: no risk extension while none was stated.
    resource = api.get(f"ServiceRequest/{referral.id}").json
    assert risk_extensions(resource) == []


def test_a_lone_uk_core_service_request_is_taken_too(api, db, make):
    resource = payloads.with_contained_patient(make.nhs_number())
    del resource["extension"]
    response = api.post("ServiceRequest", resource)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert risk_extensions(response.json) == []
    assert not db.session.scalars(select(Referral)).one().risks_stated


def test_risks_sent_in_kindlys_extensions_are_still_stated(api, db, make):
    bundle = payloads.transaction(make.nhs_number())
    payloads.entry(bundle, "ServiceRequest")["extension"] = [
        {"url": payloads.KNOWN_RISK, "valueString": "Dog in the house"}]
    assert api.post("", bundle).status_code == 200
    referral = db.session.scalars(select(Referral)).one()
    assert referral.risks_stated and referral.risks == ["Dog in the house"]


def test_the_connector_is_warned_until_they_record_the_risks(api, db, make, practice, client,
                                                             login_as):
    connector = login_as(Role.CONNECTOR, team=practice.team, capacity=10)
    assert api.post("", uk_core_bundle(make.nhs_number())).status_code == 200
    referral = db.session.scalars(select(Referral)).one()
    assert referral.connector_id == connector.id  # routed to the only connector with room
    workspace = f"/caseload/referrals/{referral.id}"

    page = Page(client.get(workspace))
    assert "Risks not stated" in page.text()
    assert WARNING in page.text()
    assert page.value_of("version") == str(referral.version)
    queue = Page(client.get("/caseload/queue")).text()
    assert "Risks not stated" in queue

    version = referral.version
    response = client.submit(f"{workspace}/risks",
                             {"risks": "Lives alone\nSteep steps", "version": str(version)},
                             page=workspace)
    assert response.status_code == 302
    db.session.refresh(referral)
    assert referral.risks == ["Lives alone", "Steep steps"]
    assert referral.risks_stated and referral.version == version + 1

    page = Page(client.get(workspace))
    assert "Risks not stated" not in page.text() and WARNING not in page.text()
    assert page.by_id("record-risks") is None
    assert "Lives alone" in page.text()
    # The GP system now sees them too.
    resource = api.get(f"ServiceRequest/{referral.id}").json
    assert [e["valueString"] for e in risk_extensions(resource)] == ["Lives alone",
                                                                     "Steep steps"]


@pytest.mark.parametrize("drop", ["Consent", "supportingInfo", "both"])
def test_a_referral_without_a_consent_is_a_422_saying_what_sharing_rests_on(api, db, make,
                                                                           drop):
    bundle = uk_core_bundle(make.nhs_number())
    if drop in ("Consent", "both"):
        bundle = payloads.without(bundle, "Consent")
    if drop in ("supportingInfo", "both"):
        del payloads.entry(bundle, "ServiceRequest")["supportingInfo"]
    issue = issue_of(api.post("", bundle), 422)
    assert issue["expression"] == ["ServiceRequest.supportingInfo"]
    assert issue["diagnostics"] == (
        "A Consent is required: sharing a referral with the connector hub rests on the "
        "person's consent, recorded as a FHIR Consent (status active, provision permit) in "
        "ServiceRequest.supportingInfo")
    assert db.session.scalars(select(Referral)).first() is None


def test_the_capability_statement_documents_both(api):
    description = api.get("metadata").json["description"]
    assert "rests on the person's consent" in description
    assert "accepted with its risks 'not stated'" in description
