"""Task mapper: the referral's workflow, as GP systems poll it (fhir-mapping.md §6.3)."""
from __future__ import annotations

import pytest
from fhir.resources.R4B.task import Task

from fhir_adapters import task as task_map
from referrals import workflow
from referrals.models import ReferralStatus, Role
from tests.builders import PATH_TO

S = ReferralStatus
BUSINESS_STATUS = "https://kindly.example/fhir/CodeSystem/referral-status"

# fhir-mapping.md §6.3, written out again here so the mapper is checked against the
# contract rather than against itself: (Task.status, businessStatus code, statusReason?).
TASK_STATUS = {
    S.RECEIVED: ("requested", "received", False),
    S.ACCEPTED: ("accepted", "accepted", False),
    S.IN_PROGRESS: ("in-progress", "in-progress", False),
    S.COMPLETED: ("completed", "completed", False),
    S.REJECTED: ("rejected", "rejected", True),
    S.CANCELLED: ("cancelled", "cancelled", True),
    S.DECLINED: ("cancelled", "declined", True),
    S.UNABLE_TO_CONTACT: ("failed", "unable-to-contact", True),
}


def test_the_status_table_covers_every_referral_status():
    assert set(TASK_STATUS) == set(ReferralStatus)


@pytest.fixture
def referrer(make, practice):
    return make.user(Role.REFERRER, practice=practice)


@pytest.fixture
def connector(make, practice):
    return make.user(Role.CONNECTOR, team=practice.team, name="Jo Bloggs")


def referral_in(make, practice, referrer, status):
    """A referral taken to `status`, each move with its own reason."""
    referral = make.referral(practice, referrer=referrer)
    for step in PATH_TO[status]:
        workflow.transition(referral, step, actor=referrer, reason=f"Because {step.value}")
    return referral


@pytest.mark.parametrize("status", list(ReferralStatus))
def test_task_status_and_business_status_follow_the_mapping_table(make, practice, referrer,
                                                                  status):
    resource = task_map.to_fhir(referral_in(make, practice, referrer, status))
    Task.model_validate(resource)
    task_status, business, needs_reason = TASK_STATUS[status]
    assert resource["status"] == task_status
    (coding,) = resource["businessStatus"]["coding"]
    assert (coding["system"], coding["code"]) == (BUSINESS_STATUS, business)
    assert resource["status"] not in ("ready", "received")
    if needs_reason:
        assert resource["statusReason"]["text"]
    else:
        assert "statusReason" not in resource


@pytest.mark.parametrize("status", [S.REJECTED, S.CANCELLED, S.DECLINED, S.UNABLE_TO_CONTACT])
def test_status_reason_gives_the_reason_recorded_for_the_move(make, practice, referrer, status):
    resource = task_map.to_fhir(referral_in(make, practice, referrer, status))
    assert resource["statusReason"]["text"] == f"Because {status.value}"


def test_a_task_is_the_fulfilment_of_its_service_request(make, practice, referrer):
    referral = make.referral(practice, referrer=referrer)
    resource = task_map.to_fhir(referral)
    assert resource["id"] == f"t-{referral.id}"
    assert resource["intent"] == "order"
    assert resource["code"]["coding"][0] == {
        "system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "fulfill",
        "display": "Fulfill the focal request"}
    assert resource["focus"]["reference"] == f"ServiceRequest/{referral.id}"
    assert resource["for"]["reference"] == f"Patient/{referral.patient.id}"
    assert resource["requester"]["reference"] == f"PractitionerRole/pr-{referrer.id}"
    assert resource["authoredOn"].endswith("Z")
    assert resource["priority"] == referral.urgency.value


def test_an_unassigned_task_is_owned_by_the_connector_team(make, practice, referrer):
    resource = task_map.to_fhir(make.referral(practice, referrer=referrer))
    assert resource["owner"] == {"reference": f"Organization/team-{practice.team.id}",
                                 "display": practice.team.name}


def test_an_assigned_task_is_owned_by_the_connectors_practitioner_role(make, practice, referrer,
                                                                       connector):
    referral = make.referral(practice, referrer=referrer, connector=connector)
    resource = task_map.to_fhir(referral)
    Task.model_validate(resource)
    assert resource["owner"] == {"reference": f"PractitionerRole/pr-{connector.id}",
                                 "display": "Jo Bloggs"}


def test_every_move_bumps_the_version_and_last_modified(make, practice, referrer):
    referral = make.referral(practice, referrer=referrer)
    versions = [task_map.to_fhir(referral)["meta"]["versionId"]]
    for step in PATH_TO[S.COMPLETED]:
        workflow.transition(referral, step, actor=referrer)
        resource = task_map.to_fhir(referral)
        versions.append(resource["meta"]["versionId"])
        assert resource["lastModified"] == resource["meta"]["lastUpdated"]
    assert versions == ["1", "2", "3", "4"]
