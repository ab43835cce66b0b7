"""Patient mapper: UK Core identifiers and extensions, and the round trip back to intake."""
from __future__ import annotations

from datetime import date

import pytest
from fhir.resources.R4B.patient import Patient as R4BPatient

from fhir_adapters import patient as patient_map
from referrals.ethnicity import LABELS
from referrals.models import Sex
from tests.fhir_adapters import payloads

VERIFICATION_EXT = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus")
ETHNIC_EXT = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"


@pytest.fixture
def person(make, practice):
    referral = make.referral(practice, person={
        "given_name": "Ada Mary", "family_name": "Lovelace", "birth_date": date(1950, 3, 31),
        "sex": Sex.FEMALE, "postcode": "ls1 4ap", "phone": "07700 900123", "email": "ada@example.org",
        "communication_needs": ["large-print", "spoken-interpreter"],
        "interpreter_language": "Polish", "nhs_number_status": "01", "ethnic_category": "C",
    })
    return referral.patient


def test_to_fhir_is_a_valid_r4b_patient(person):
    R4BPatient.model_validate(patient_map.to_fhir(person))


def test_to_fhir_carries_the_nhs_number_with_its_uk_core_verification_status(person):
    (identifier,) = patient_map.to_fhir(person)["identifier"]
    assert identifier["system"] == "https://fhir.nhs.uk/Id/nhs-number"
    assert identifier["value"] == person.nhs_number
    (extension,) = identifier["extension"]
    assert extension["url"] == VERIFICATION_EXT
    assert extension["valueCodeableConcept"]["coding"][0]["code"] == "01"


def test_a_person_who_gave_no_nhs_number_has_no_identifier_and_is_still_valid(make, practice):
    referral = make.referral(practice, person={"nhs_number": "", "sex": Sex.UNKNOWN},
                             source="self", no_known_risks=False)

    resource = patient_map.to_fhir(referral.patient)

    assert "identifier" not in resource
    R4BPatient.model_validate(resource)


def test_to_fhir_carries_the_uk_core_ethnic_category(person):
    resource = patient_map.to_fhir(person)
    (ethnic,) = [e for e in resource["extension"] if e["url"] == ETHNIC_EXT]
    coding = ethnic["valueCodeableConcept"]["coding"][0]
    assert coding["system"] == "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland"
    assert coding["code"] == "C"


def test_to_fhir_names_the_registered_practice_by_ods_code(person, practice):
    (gp,) = patient_map.to_fhir(person)["generalPractitioner"]
    assert gp["reference"] == f"Organization/p-{practice.id}"
    assert gp["identifier"] == {"system": "https://fhir.nhs.uk/Id/ods-organization-code",
                                "value": "A12345"}


def test_to_fhir_has_id_and_meta(person):
    resource = patient_map.to_fhir(person)
    assert resource["id"] == str(person.id)
    assert resource["meta"]["versionId"]
    assert resource["meta"]["lastUpdated"].endswith("Z")


def test_round_trip_gives_back_the_persons_details(person):
    back = patient_map.from_fhir(patient_map.to_fhir(person))
    assert back == {
        "nhs_number": person.nhs_number,
        "nhs_number_status": "01",
        "given_name": "Ada Mary",
        "family_name": "Lovelace",
        "birth_date": date(1950, 3, 31),
        "gender": "female",
        "postcode": "LS1 4AP",
        "phone": "07700 900123",
        "email": "ada@example.org",
        "ethnic_category": "C",
        "communication_needs": ["large-print", "spoken-interpreter"],
        "interpreter_language": "Polish",
    }


def test_round_trip_of_a_person_with_only_the_required_details(make, practice):
    person = make.referral(practice, person={"phone": "", "sex": Sex.UNKNOWN}).patient
    resource = patient_map.to_fhir(person)
    R4BPatient.model_validate(resource)
    assert "telecom" not in resource and "extension" not in resource
    back = patient_map.from_fhir(resource)
    assert (back["nhs_number"], back["gender"], back["phone"], back["ethnic_category"],
            back["communication_needs"]) == (person.nhs_number, "unknown", "", "", [])


def test_from_fhir_reads_a_gp_systems_patient():
    resource = payloads.patient(
        "9990000018",
        name=[{"use": "usual", "given": ["Ada"], "family": "Byron"},
              {"use": "official", "given": ["Augusta", "Ada"], "family": "King"}],
        telecom=[{"system": "email", "value": "ada@example.org"},
                 {"system": "sms", "value": "07700 900999"}],
        communication=[{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "pl",
                                                  "display": "Polish"}]}}],
    )
    details = patient_map.from_fhir(resource)
    assert details["given_name"] == "Augusta Ada"
    assert details["family_name"] == "King"
    assert details["phone"] == "07700 900999"
    assert details["email"] == "ada@example.org"
    assert details["interpreter_language"] == "Polish"
    assert details["communication_needs"] == ["spoken-interpreter"]
    assert details["birth_date"] == date(1950, 3, 31)


def test_from_fhir_leaves_a_partial_birth_date_for_intake_to_refuse():
    assert patient_map.from_fhir(payloads.patient("9990000018", birthDate="1950"))[
        "birth_date"] is None


def test_from_fhir_ignores_identifiers_from_other_systems():
    resource = payloads.patient("9990000018", identifier=[
        {"system": "https://example.org/mrn", "value": "MRN1"}])
    assert patient_map.from_fhir(resource)["nhs_number"] == ""


@pytest.mark.parametrize("odd", [
    {"telecom": [{"system": "phone", "value": None}, {"system": "phone", "value": "07700 900123"}]},
    {"telecom": [None, {"system": "phone", "value": "07700 900123"}]},
    {"telecom": [{"system": "phone", "value": 7700900123},
                 {"system": "phone", "value": "07700 900123"}]},
    {"telecom": [{"system": "phone", "_value": {"extension": []}},
                 {"system": "phone", "value": "07700 900123"}]},
])
def test_from_fhir_takes_the_first_phone_with_a_value_and_never_crashes_on_odd_ones(odd):
    details = patient_map.from_fhir(payloads.patient("9990000018", **odd))
    assert details["phone"] == "07700 900123"


def test_from_fhir_skips_odd_names_and_languages():
    details = patient_map.from_fhir(payloads.patient(
        "9990000018", name=[None, {"use": "official", "family": None, "given": ["Ada", None]}],
        communication=[{"language": {"text": None, "coding": [{"display": None, "code": "pl"}]}}],
        address=[{"postalCode": None}, {"postalCode": "LS1 4AP"}]))
    assert (details["given_name"], details["family_name"], details["interpreter_language"],
            details["postcode"]) == ("Ada", "", "pl", "LS1 4AP")


def _with_ethnic_category(code: str) -> dict:
    return payloads.patient("9990000018", extension=[{"url": ETHNIC_EXT, "valueCodeableConcept": {
        "coding": [{"system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland",
                    "code": code}]}}])


def test_from_fhir_reads_not_known_99_as_no_answer_so_it_keeps_a_stored_one():
    assert patient_map.from_fhir(_with_ethnic_category("99"))["ethnic_category"] == ""
    assert patient_map.from_fhir(_with_ethnic_category("Z"))["ethnic_category"] == "Z"


@pytest.mark.parametrize("code", ["A", "H", "S", "Z"])
def test_to_fhir_displays_each_category_as_uk_core_does(make, practice, code):
    person = make.referral(practice, person={"ethnic_category": code}).patient
    (ethnic,) = [e for e in patient_map.to_fhir(person)["extension"] if e["url"] == ETHNIC_EXT]
    assert ethnic["valueCodeableConcept"]["coding"][0]["display"] == LABELS[code]
