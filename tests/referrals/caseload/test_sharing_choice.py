"""The person's choice that only coded information go back to the practice, recorded on
the workspace when they make it (not only when the referral closes)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from referrals.caseload import service
from referrals.errors import NotPermitted, StaleReferral
from referrals.models import (
    AuditEvent,
    ContactChannel,
    ContactOutcome,
    ReferralStatus,
    utcnow,
)
from tests.referrals.caseload.test_views import sign_in, workspace_url


def sharing_section(referral) -> str:
    return f"{workspace_url(referral)}/sharing-and-risks"

S = ReferralStatus


def sharing_url(referral) -> str:
    return f"/caseload/referrals/{referral.id}/sharing"


def test_the_connector_records_coded_only_from_the_workspace(client, db, make, hub, page):
    referral = make.referral(hub.practice, connector=hub.connector, status=S.IN_PROGRESS,
                             what_matters="Her late husband's garden")
    sign_in(client, db, hub.connector)
    workspace = page(client.get(sharing_section(referral)))
    assert workspace.checked("coded_only") == []
    version = int(workspace.value_of("version"))
    assert version == referral.version

    response = client.submit(sharing_url(referral), {"coded_only": "y", "version": version},
                             page=workspace_url(referral))

    assert response.status_code == 302
    assert response.location.endswith(f"{sharing_section(referral)}#sharing")
    db.session.refresh(referral)
    assert referral.coded_only is True
    assert referral.version == version + 1  # GP systems see a new version
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "set-sharing")).one()
    assert audit.entity_id == referral.id and audit.detail["coded_only"] is True
    assert page(client.get(sharing_section(referral))).checked("coded_only") == ["y"]
    # The hub still reads everything (the practice's view is in test_coded_only_walk.py).
    assert "Her late husband's garden" in page(client.get(workspace_url(referral))).text()


def test_a_form_from_an_older_version_is_refused_and_the_choice_kept(client, db, make, hub,
                                                                      page):
    referral = make.referral(hub.practice, connector=hub.connector, status=S.IN_PROGRESS)
    sign_in(client, db, hub.connector)
    stale = referral.version
    referral.version += 1  # someone else changed it meanwhile
    db.session.commit()

    response = client.submit(sharing_url(referral), {"coded_only": "y", "version": stale},
                             page=workspace_url(referral))

    assert response.status_code == 409
    shown = page(response)
    assert "Someone else changed this referral" in shown.text()
    assert shown.checked("coded_only") == ["y"]  # what they chose is kept
    assert int(shown.value_of("version")) == referral.version  # and may now be sent
    db.session.refresh(referral)
    assert referral.coded_only is False


def test_only_the_holder_or_a_coordinator_may_record_it(db, make, hub):
    referral = make.referral(hub.practice, connector=hub.connector, status=S.ACCEPTED)

    with pytest.raises(NotPermitted):
        service.set_coded_only(referral, actor=hub.colleague, coded_only=True,
                               expected_version=referral.version)
    with pytest.raises(NotPermitted):
        service.set_coded_only(referral, actor=hub.other_team_connector, coded_only=True,
                               expected_version=referral.version)
    service.set_coded_only(referral, actor=hub.coordinator, coded_only=True,
                           expected_version=referral.version)
    assert referral.coded_only is True


def test_it_may_be_recorded_after_the_referral_closed(db, make, hub):
    referral = make.referral(hub.practice, connector=hub.connector, status=S.COMPLETED)

    service.set_coded_only(referral, actor=hub.connector, coded_only=True,
                           expected_version=referral.version)

    assert referral.coded_only is True


def test_a_change_from_an_older_version_is_refused_with_what_changed(db, make, hub):
    referral = make.referral(hub.practice, connector=hub.connector, status=S.ACCEPTED)
    stale = referral.version
    service.record_contact(referral, actor=hub.coordinator, at=utcnow(),
                           method=ContactChannel.PHONE, outcome=ContactOutcome.NO_ANSWER)

    with pytest.raises(StaleReferral) as refused:
        service.set_coded_only(referral, actor=hub.connector, coded_only=True,
                               expected_version=stale)
    assert [c.summary for c in refused.value.changes] == ["Contact recorded (phone, no answer)"]
    assert referral.coded_only is False


def test_a_coordinator_covering_sees_the_stored_choice(client, db, make, hub, page):
    referral = make.referral(hub.practice, connector=hub.connector, status=S.ACCEPTED)
    referral.coded_only = True
    sign_in(client, db, hub.coordinator)

    workspace = page(client.get(sharing_section(referral)))

    assert "only coded information" in workspace.text()
    assert workspace.checked("coded_only") == ["y"]


def test_the_closing_form_is_pre_ticked_from_the_stored_choice(client, db, make, hub, page):
    referral = make.referral(hub.practice, connector=hub.connector, status=S.IN_PROGRESS)
    referral.coded_only = True
    sign_in(client, db, hub.connector)

    closing = page(client.get(f"/caseload/referrals/{referral.id}/close"))

    assert closing.checked("coded_only") == ["y"]
