"""Practitioner and PractitionerRole mappers: referrers and connectors."""
from __future__ import annotations

import pytest
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole

from fhir_adapters import practitioner as practitioner_map
from referrals.models import Role
from tests.fhir_adapters import payloads

GMC = "https://fhir.hl7.org.uk/Id/gmc-number"
NMC = "https://fhir.hl7.org.uk/Id/nmc-number"


@pytest.fixture
def referrer(make, practice):
    return make.user(Role.REFERRER, practice=practice, name="Dr Sam Jones")


@pytest.fixture
def connector(make, practice):
    return make.user(Role.CONNECTOR, team=practice.team, name="Jo Bloggs",
                     phone="07700 900456")


def test_a_user_is_a_valid_r4b_practitioner(referrer):
    resource = practitioner_map.practitioner_to_fhir(referrer)
    Practitioner.model_validate(resource)
    assert resource["id"] == f"u-{referrer.id}"
    assert resource["name"] == [{"text": "Dr Sam Jones", "family": "Jones", "given": ["Sam"],
                                 "prefix": ["Dr"]}]


def test_a_practitioner_round_trips_to_the_same_name(referrer, connector):
    for user in (referrer, connector):
        back = practitioner_map.practitioner_from_fhir(
            practitioner_map.practitioner_to_fhir(user))
        assert back == {"name": user.name, "identifier": None}


def test_a_referrers_role_is_at_their_practice(referrer, practice):
    resource = practitioner_map.role_to_fhir(referrer)
    PractitionerRole.model_validate(resource)
    assert resource["id"] == f"pr-{referrer.id}"
    assert resource["organization"]["reference"] == f"Organization/p-{practice.id}"
    assert resource["practitioner"]["reference"] == f"Practitioner/u-{referrer.id}"
    assert "telecom" not in resource


def test_a_connectors_role_is_in_their_team_with_their_work_phone(connector, practice):
    resource = practitioner_map.role_to_fhir(connector)
    PractitionerRole.model_validate(resource)
    assert resource["organization"]["reference"] == f"Organization/team-{practice.team.id}"
    assert resource["telecom"] == [{"system": "phone", "value": "07700 900456", "use": "work"}]


def test_a_role_round_trips_to_its_practitioner_organisation_and_role(referrer, practice):
    back = practitioner_map.role_from_fhir(practitioner_map.role_to_fhir(referrer))
    assert back == {"practitioner": ("Practitioner", f"u-{referrer.id}"),
                    "organization": ("Organization", f"p-{practice.id}"),
                    "role": "Referrer"}


@pytest.mark.parametrize("system", [GMC, NMC])
def test_a_gp_systems_clinician_keeps_their_professional_number(system):
    resource = payloads.practitioner()
    resource["identifier"] = [{"system": "https://example.org/staff", "value": "S9"},
                              {"system": system, "value": "1234567"}]
    assert practitioner_map.practitioner_from_fhir(resource) == {
        "name": "Dr Sam Jones", "identifier": (system, "1234567")}


def test_a_clinician_with_no_name_parts_gives_an_empty_name():
    assert practitioner_map.practitioner_from_fhir({"resourceType": "Practitioner"}) == {
        "name": "", "identifier": None}
