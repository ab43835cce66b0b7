"""Needs no offer could meet: the connector records "no suitable offer found" with a coded
category and reason, counted in the person's postcode district; marks it met later; the
workspace lists them. Only the connector holding the referral (or a coordinator) may."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from referrals import revisions
from referrals.errors import CaseworkInvalid, NotPermitted
from referrals.matching import unmet
from referrals.models import AuditEvent, ReferralStatus, Role, UnmetNeed, UnmetReason
from tests.referrals.caseload import conftest as casework
from tests.referrals.intake.conftest import Page

hub = casework.hub  # the casework tests' team, shared as a fixture of this module
S = ReferralStatus


@pytest.fixture
def referral(make, hub):
    return make.referral(hub.practice, connector=hub.connector, status=S.IN_PROGRESS,
                         person={"postcode": "kb4 2xy"})


def sign_in(client, db, user):
    db.session.commit()
    response = client.submit("/login", {"email": user.email,
                                        "password": "correct horse battery"})
    assert response.status_code == 302


def url(referral, tail="") -> str:
    return f"/caseload/referrals/{referral.id}{tail}"


def needs(db) -> list[UnmetNeed]:
    return list(db.session.scalars(select(UnmetNeed).order_by(UnmetNeed.id)))


# --- the service ------------------------------------------------------------------------


def test_the_connector_records_a_coded_unmet_need_in_the_persons_district(db, referral, hub):
    version = referral.version
    need = unmet.record_unmet_need(referral, actor=hub.connector, category="befriending",
                                   reason="none-nearby")
    assert (need.category, need.reason, need.postcode_district, need.recorded_by, need.met_at) \
        == ("befriending", UnmetReason.NONE_NEARBY, "KB4", hub.connector, None)
    assert referral.version == version + 1
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "record-unmet-need")).one()
    assert (event.actor_id, event.patient_id, event.detail["unmet_need_id"]) == (
        hub.connector.id, referral.patient_id, need.id)


def test_a_coordinator_covering_may_record_one(db, referral, hub):
    unmet.record_unmet_need(referral, actor=hub.coordinator, category="arts-crafts",
                            reason=UnmetReason.COST)
    assert [(n.category, n.reason) for n in needs(db)] == [("arts-crafts", UnmetReason.COST)]


@pytest.mark.parametrize("who", ["colleague", "other_team_connector"])
def test_a_connector_not_holding_it_may_not(db, referral, hub, who):
    with pytest.raises(NotPermitted):
        unmet.record_unmet_need(referral, actor=getattr(hub, who), category="befriending",
                                reason="full")
    assert needs(db) == []


def test_a_referrer_may_not(db, make, referral, hub):
    referrer = make.user(Role.REFERRER, practice=hub.practice)
    with pytest.raises(NotPermitted):
        unmet.record_unmet_need(referral, actor=referrer, category="befriending",
                                reason="full")


def test_not_once_the_referral_has_closed(db, make, hub):
    closed = make.referral(hub.practice, connector=hub.connector, status=S.COMPLETED)
    with pytest.raises(NotPermitted):
        unmet.record_unmet_need(closed, actor=hub.connector, category="befriending",
                                reason="full")


@pytest.mark.parametrize(("category", "reason", "errors"), [
    ("", "full", {"category": "Select the kind of offer they needed"}),
    ("knitting-circles", "full", {"category": "Select the kind of offer they needed"}),
    ("befriending", "", {"reason": "Select why no offer suited them"}),
    ("befriending", "too-far", {"reason": "Select why no offer suited them"}),
    (None, None, {"category": "Select the kind of offer they needed",
                  "reason": "Select why no offer suited them"}),
])
def test_anything_outside_the_lists_is_refused(db, referral, hub, category, reason, errors):
    with pytest.raises(CaseworkInvalid) as caught:
        unmet.record_unmet_need(referral, actor=hub.connector, category=category,
                                reason=reason)
    assert caught.value.errors == errors
    assert needs(db) == []


def test_the_same_open_need_is_not_recorded_twice_but_can_be_again_once_met(db, referral,
                                                                            hub):
    first = unmet.record_unmet_need(referral, actor=hub.connector, category="befriending",
                                    reason="full")
    with pytest.raises(CaseworkInvalid) as caught:
        unmet.record_unmet_need(referral, actor=hub.connector, category="befriending",
                                reason="cost")
    assert "already recorded" in caught.value.errors["category"]
    unmet.mark_met(referral, first.id, actor=hub.connector)
    unmet.record_unmet_need(referral, actor=hub.connector, category="befriending",
                            reason="cost")
    assert len(needs(db)) == 2


def test_an_addition_never_conflicts_with_a_colleagues_change(db, referral, hub):
    revisions.touch(referral, "Someone else's change", actor=hub.coordinator)
    db.session.flush()
    need = unmet.record_unmet_need(referral, actor=hub.connector, category="befriending",
                                   reason="wrong-time")
    assert need.id is not None


def test_marking_it_met_sets_met_at_once_audited(db, referral, hub):
    need = unmet.record_unmet_need(referral, actor=hub.connector, category="befriending",
                                   reason="full")
    version = referral.version
    unmet.mark_met(referral, need.id, actor=hub.coordinator)
    met_at = need.met_at
    assert met_at is not None and referral.version == version + 1
    unmet.mark_met(referral, need.id, actor=hub.connector)  # twice: nothing changes
    assert need.met_at == met_at and referral.version == version + 1
    assert db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "mark-unmet-need-met")).one().patient_id == referral.patient_id


def test_marking_another_referrals_need_is_not_found(db, make, referral, hub):
    other = make.referral(hub.practice, connector=hub.connector, status=S.IN_PROGRESS)
    need = unmet.record_unmet_need(other, actor=hub.connector, category="befriending",
                                   reason="full")
    with pytest.raises(LookupError):
        unmet.mark_met(referral, need.id, actor=hub.connector)
    assert need.met_at is None


def test_marking_met_needs_the_same_permission(db, referral, hub):
    need = unmet.record_unmet_need(referral, actor=hub.connector, category="befriending",
                                   reason="full")
    with pytest.raises(NotPermitted):
        unmet.mark_met(referral, need.id, actor=hub.colleague)
    assert need.met_at is None


@pytest.mark.parametrize(("postcode", "district"), [
    ("KB4 2XY", "KB4"), ("SW1A 1AA", "SW1A"), ("", ""), (None, "")])
def test_the_district_is_the_outward_code(postcode, district):
    assert unmet.postcode_district(postcode) == district


# --- the pages ---------------------------------------------------------------------------


def test_the_suggestions_page_offers_the_form_with_labels(client, db, referral, hub):
    sign_in(client, db, hub.connector)
    page = Page(client.get(url(referral, "/suggestions")))
    assert page.by_id("unmet-needs") is not None
    assert page.label_for("unmet_category") == ["Kind of offer they needed"]
    assert page.label_for("unmet_reason") == ["None nearby", "Why no offer suited them"]
    reasons = [e.get("value") for e in page.findall(".//input[@name='unmet_reason']")]
    assert reasons == [r.value for r in UnmetReason]
    assert page.find(".//textarea[@name='unmet_note']") is None  # no free text


def test_recording_posts_then_redirects_and_the_workspace_lists_it(client, db, referral, hub):
    sign_in(client, db, hub.connector)
    response = client.submit(url(referral, "/unmet-needs"),
                             {"unmet_category": "befriending", "unmet_reason": "language"},
                             page=url(referral, "/suggestions"))
    assert response.status_code == 302
    assert response.location.endswith(url(referral, "/suggestions#unmet-needs"))
    [need] = needs(db)
    assert (need.category, need.reason, need.postcode_district) == (
        "befriending", UnmetReason.LANGUAGE, "KB4")
    workspace = Page(client.get(url(referral, "/suggestions")))
    section = workspace.text()
    assert "No suitable offer found" in section
    assert "Befriending Language KB4" in section and "Unmet" in section
    assert workspace.find(
        f".//form[@action='{url(referral, f'/unmet-needs/{need.id}/met')}']") is not None


def test_a_missing_choice_is_shown_next_to_its_field(client, db, referral, hub):
    sign_in(client, db, hub.connector)
    response = client.submit(url(referral, "/unmet-needs"), {"unmet_category": "befriending"},
                             page=url(referral, "/suggestions"))
    assert response.status_code == 422
    page = Page(response)
    assert page.error_for("unmet_reason") == "Select why no offer suited them"
    assert page.summary_links() == {"#unmet_reason": "Select why no offer suited them"}
    assert page.find(".//select[@name='unmet_category']/option[@selected]").get("value") == \
        "befriending"
    assert needs(db) == []


def test_the_form_needs_its_csrf_token(client, db, referral, hub):
    sign_in(client, db, hub.connector)
    response = client.post(url(referral, "/unmet-needs"),
                           data={"unmet_category": "befriending", "unmet_reason": "full"})
    assert response.status_code == 400
    assert needs(db) == []


def test_a_page_older_than_a_colleagues_change_still_records_it(client, db, referral, hub):
    sign_in(client, db, hub.connector)
    token_page = url(referral, "/suggestions")
    client.get(token_page)
    revisions.touch(referral, "Someone else's change", actor=hub.coordinator)
    db.session.commit()
    response = client.submit(url(referral, "/unmet-needs"),
                             {"unmet_category": "befriending", "unmet_reason": "full"},
                             page=token_page)
    assert response.status_code == 302
    assert len(needs(db)) == 1


def test_a_colleague_not_holding_it_cannot(client, db, referral, hub):
    sign_in(client, db, hub.colleague)
    response = client.submit(url(referral, "/unmet-needs"),
                             {"unmet_category": "befriending", "unmet_reason": "full"},
                             page="/caseload")
    assert response.status_code == 404  # not theirs even to see
    assert needs(db) == []


def test_a_referrer_cannot(client, db, referral, hub, login_as):
    login_as(Role.REFERRER, practice=hub.practice)
    response = client.submit(url(referral, "/unmet-needs"),
                             {"unmet_category": "befriending", "unmet_reason": "full"},
                             page=f"/referrals/{referral.id}")
    assert response.status_code == 403
    assert needs(db) == []


def test_once_closed_the_page_says_so_and_keeps_nothing(client, db, make, hub):
    closed = make.referral(hub.practice, connector=hub.connector, status=S.COMPLETED)
    sign_in(client, db, hub.connector)
    page = Page(client.get(url(closed, "/suggestions")))
    assert page.find(".//select[@name='unmet_category']") is None
    response = client.submit(url(closed, "/unmet-needs"),
                             {"unmet_category": "befriending", "unmet_reason": "full"},
                             page=url(closed, "/suggestions"))
    assert response.status_code == 409
    assert needs(db) == []


def test_marking_met_from_the_workspace(client, db, referral, hub):
    need = unmet.record_unmet_need(referral, actor=hub.connector, category="gardening-nature",
                                   reason="access")
    sign_in(client, db, hub.connector)
    response = client.submit(url(referral, f"/unmet-needs/{need.id}/met"), {},
                             page=url(referral))
    assert response.status_code == 302
    assert response.location.endswith(url(referral, "/suggestions#unmet-needs"))
    db.session.refresh(need)
    assert need.met_at is not None
    page = Page(client.get(url(referral, "/suggestions")))
    assert "Met " in page.text()
    assert page.find(f".//form[@action='{url(referral, f'/unmet-needs/{need.id}/met')}']") \
        is None


def test_a_referrer_cannot_mark_one_met(client, db, referral, hub, login_as):
    need = unmet.record_unmet_need(referral, actor=hub.connector, category="befriending",
                                   reason="full")
    login_as(Role.REFERRER, practice=hub.practice)
    response = client.submit(url(referral, f"/unmet-needs/{need.id}/met"), {},
                             page=f"/referrals/{referral.id}")
    assert response.status_code == 403
    db.session.refresh(need)
    assert need.met_at is None


def test_a_colleague_cannot_mark_one_met(client, db, referral, hub):
    need = unmet.record_unmet_need(referral, actor=hub.connector, category="befriending",
                                   reason="full")
    sign_in(client, db, hub.colleague)
    response = client.submit(url(referral, f"/unmet-needs/{need.id}/met"), {},
                             page="/caseload")
    assert response.status_code == 404
    db.session.refresh(need)
    assert need.met_at is None
