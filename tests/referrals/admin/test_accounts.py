"""Managing accounts in the browser, each within its scope: admins everyone, practice
managers their practice's referrers and managers, coordinators their team's connectors.

That deactivating and resetting end the person's sessions is tested in
tests/referrals/auth/test_account_links.py, with fresh app contexts per request.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from referrals import access
from referrals.accounts import service
from referrals.auth import service as auth
from referrals.errors import NotPermitted
from referrals.models import AuditEvent, OutboxMessage, ReferralStatus, Role, User

BASE = "https://kindly.test"


def invite(actor, role, *, practice=None, team=None, email="new.person@test.example",
           name="New Person"):
    return service.invite_user(email=email, name=name, role=role, practice=practice,
                               team=team, actor=actor, base_url=BASE)


def outbox_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


# --- the rules (referrals/access.py) ------------------------------------------------


def test_each_account_manager_gives_only_the_roles_in_their_scope(make):
    admin, manager, coordinator = (make.user(r) for r in
                                   (Role.ADMIN, Role.MANAGER, Role.COORDINATOR))

    assert access.manageable_roles(admin) == frozenset(Role)
    assert access.manageable_roles(manager) == {Role.REFERRER, Role.MANAGER}
    # Issue 15: coordinators also give the community roles.
    assert access.manageable_roles(coordinator) == access.COORDINATOR_GRANTABLE_ROLES \
        >= {Role.CONNECTOR, Role.PARTNER}
    for role in (Role.REFERRER, Role.CONNECTOR):
        assert access.manageable_roles(make.user(role)) == frozenset()


def test_a_manager_cannot_invite_a_connector_or_an_admin(make, db):
    manager = make.user(Role.MANAGER)

    for role in (Role.CONNECTOR, Role.ADMIN, Role.COORDINATOR):
        with pytest.raises(service.AccountInvalid) as refused:
            invite(manager, role, practice=manager.practice, team=manager.practice.team)
        assert refused.value.field == "role"
    assert outbox_count(db) == 0


def test_a_manager_invites_only_into_their_own_practice(make):
    manager = make.user(Role.MANAGER)
    other = make.practice()

    with pytest.raises(service.AccountInvalid, match="your own practice or team"):
        invite(manager, Role.REFERRER, practice=other)

    user = invite(manager, Role.REFERRER, practice=manager.practice)
    assert user.practice_id == manager.practice_id and user.role is Role.REFERRER


def test_a_manager_cannot_manage_another_practices_user(make):
    manager = make.user(Role.MANAGER)
    theirs = make.user(Role.REFERRER)

    assert not access.may_manage(manager, theirs)
    with pytest.raises(NotPermitted):
        service.change_placement(theirs, role=Role.MANAGER, practice=theirs.practice,
                                 team=None, actor=manager)
    with pytest.raises(NotPermitted):
        service.deactivate(theirs, actor=manager)


def test_nobody_changes_their_own_role(make):
    manager = make.user(Role.MANAGER)
    admin = make.user(Role.ADMIN)

    with pytest.raises(service.AccountInvalid, match="your own role"):
        service.change_placement(manager, role=Role.MANAGER, practice=make.practice(),
                                 team=None, actor=manager)
    with pytest.raises(service.AccountInvalid, match="your own role"):
        service.change_placement(admin, role=Role.REFERRER, practice=manager.practice,
                                 team=None, actor=admin)
    with pytest.raises(service.AccountInvalid):
        service.deactivate(manager, actor=manager)


def test_a_coordinator_manages_only_their_own_teams_connectors(make):
    coordinator = make.user(Role.COORDINATOR)
    ours = make.user(Role.CONNECTOR, team=coordinator.team)
    colleague = make.user(Role.COORDINATOR, team=coordinator.team)
    elsewhere = make.user(Role.CONNECTOR)

    assert access.may_manage(coordinator, ours)
    assert not access.may_manage(coordinator, colleague)
    assert not access.may_manage(coordinator, elsewhere)
    with pytest.raises(service.AccountInvalid):
        invite(coordinator, Role.COORDINATOR, team=coordinator.team)
    with pytest.raises(service.AccountInvalid, match="your own practice or team"):
        invite(coordinator, Role.CONNECTOR, team=elsewhere.team)
    assert invite(coordinator, Role.CONNECTOR, team=coordinator.team).team_id == \
        coordinator.team_id


def test_an_admin_moves_anyone_anywhere_and_it_is_audited(make, db):
    admin = make.user(Role.ADMIN)
    gp = make.user(Role.REFERRER)
    team = make.team()

    assert service.change_placement(gp, role=Role.COORDINATOR, practice=None, team=team,
                                     actor=admin)

    assert (gp.role, gp.practice_id, gp.team_id) == (Role.COORDINATOR, None, team.id)
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "change role", AuditEvent.entity_id == gp.id)).one()
    assert event.actor_id == admin.id
    assert event.detail["from"]["role"] == "referrer" and event.detail["to"]["role"] == "coordinator"


def test_a_connector_holding_open_referrals_keeps_their_role_until_they_are_reassigned(make):
    admin = make.user(Role.ADMIN)
    practice = make.practice()
    connector = make.user(Role.CONNECTOR, team=practice.team)
    make.referral(practice, status=ReferralStatus.ACCEPTED, connector=connector)

    with pytest.raises(service.AccountInvalid, match="holds 1 open referral"):
        service.change_placement(connector, role=Role.REFERRER, practice=practice, team=None,
                                 actor=admin)


def test_an_invited_person_cannot_sign_in_before_choosing_a_password(make, db):
    manager = make.user(Role.MANAGER)
    user = invite(manager, Role.REFERRER, practice=manager.practice)

    assert auth.awaiting_password(user)
    for password in ("", user.password_hash, user.password_hash[1:]):
        with pytest.raises(auth.InvalidCredentials):
            auth.authenticate(user.email, password)


def test_an_invitation_is_audited_and_waits_in_the_outbox_with_an_absolute_link(make, db):
    manager = make.user(Role.MANAGER, name="Mo Manager")
    user = invite(manager, Role.REFERRER, practice=manager.practice)

    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.to == user.email and message.sent_at is None
    assert re.search(rf"{BASE}/set-password/[A-Za-z0-9_-]{{43}}\n", message.body)
    assert "Mo Manager" in message.body
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "invite")).one()
    assert (event.actor_id, event.entity_id) == (manager.id, user.id)


# --- the pages -----------------------------------------------------------------------


def test_a_managers_list_holds_only_their_practices_staff(client, login_as, make, db):
    manager = login_as(Role.MANAGER)
    gp = make.user(Role.REFERRER, practice=manager.practice, name="Gail Ours")
    make.user(Role.REFERRER, name="Olga Theirs")
    make.user(Role.CONNECTOR, team=manager.practice.team, name="Cass Hub")
    db.session.commit()

    page = client.get("/users").get_data(as_text=True)

    assert f'href="/users/{gp.id}"' in page and f'href="/users/{manager.id}"' in page
    assert "Olga Theirs" not in page and "Cass Hub" not in page
    found = client.get("/users?q=gail&status=active").get_data(as_text=True)
    assert "Gail Ours" in found and f'href="/users/{manager.id}"' not in found
    assert "Gail Ours" not in client.get("/users?status=deactivated").get_data(as_text=True)


def test_a_manager_gets_not_found_for_another_practices_user(client, login_as, make, db):
    login_as(Role.MANAGER)
    theirs = make.user(Role.REFERRER)
    db.session.commit()

    assert client.get(f"/users/{theirs.id}").status_code == 404
    response = client.submit(f"/users/{theirs.id}/deactivate", {}, page="/users")
    assert response.status_code == 404
    db.session.refresh(theirs)
    assert theirs.active


def test_referrers_and_connectors_have_no_account_pages(client, login_as):
    login_as(Role.REFERRER)

    assert client.get("/users").status_code == 403
    assert client.get("/users/invite").status_code == 403


def test_inviting_in_the_browser_redirects_to_the_new_account(client, login_as, db):
    manager = login_as(Role.MANAGER)

    response = client.submit("/users/invite", {
        "name": "Dr Nadia Newgp", "email": "Nadia.Newgp@Test.Example", "role": "referrer"})

    assert response.status_code == 303, response.get_data(as_text=True)
    user = db.session.scalars(select(User).where(User.email == "nadia.newgp@test.example")).one()
    assert response.location == f"/users/{user.id}"
    assert user.practice_id == manager.practice_id
    page = client.get(response.location).get_data(as_text=True)
    assert "Invitation sent to nadia.newgp@test.example" in page
    assert "Waiting for them to choose a password" in page
    body = db.session.scalars(select(OutboxMessage)).one().body
    assert "http://localhost/set-password/" in body  # the request's own address


def test_invite_form_errors_are_shown_next_to_each_field(client, login_as, db):
    login_as(Role.MANAGER)

    response = client.submit("/users/invite", {"name": " ", "email": "", "role": "admin"})

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for message in ("Enter the person&#39;s full name", "Enter their email address",
                    "Select one of the roles shown"):
        assert message in page
    assert 'href="#name"' in page and 'href="#email"' in page
    assert outbox_count(db) == 0


def test_a_taken_email_is_refused_next_to_the_field(client, login_as, make, db):
    login_as(Role.MANAGER)
    taken = make.user(Role.REFERRER)
    db.session.commit()

    response = client.submit("/users/invite", {"name": "Twin", "email": taken.email,
                                               "role": "referrer"})

    assert response.status_code == 422
    assert "There is already an account with this email address" in response.get_data(as_text=True)


def test_changing_a_role_in_the_browser(client, login_as, make, db):
    manager = login_as(Role.MANAGER)
    gp = make.user(Role.REFERRER, practice=manager.practice)
    db.session.commit()

    response = client.submit(f"/users/{gp.id}/role", {"role": "manager"}, page=f"/users/{gp.id}")

    assert response.status_code == 303
    db.session.refresh(gp)
    assert gp.role is Role.MANAGER
    refused = client.submit(f"/users/{gp.id}/role", {"role": "admin"}, page=f"/users/{gp.id}")
    assert refused.status_code == 422
    assert "Select one of the roles shown" in refused.get_data(as_text=True)


def test_the_own_account_page_offers_no_changes(client, login_as):
    manager = login_as(Role.MANAGER)

    page = client.get(f"/users/{manager.id}").get_data(as_text=True)

    assert "This is your own account" in page
    assert f"/users/{manager.id}/deactivate" not in page


def test_the_admin_reads_the_outbox_with_the_link_clickable(client, login_as, make, db):
    login_as(Role.ADMIN)
    manager = make.user(Role.MANAGER)
    invite(manager, Role.REFERRER, practice=manager.practice)
    db.session.commit()
    message = db.session.scalars(select(OutboxMessage)).one()

    listing = client.get("/admin/outbox").get_data(as_text=True)
    page = client.get(f"/admin/outbox/{message.id}").get_data(as_text=True)

    assert message.subject in listing and f"/admin/outbox/{message.id}" in listing
    assert re.search(r'<a href="https://kindly\.test/set-password/[A-Za-z0-9_-]{43}"', page)
    assert client.get("/admin/outbox/99999999").status_code == 404


def test_only_an_admin_reads_the_outbox(client, login_as):
    login_as(Role.MANAGER)

    assert client.get("/admin/outbox").status_code == 403


def test_an_admin_chooses_the_practice_or_team_and_is_told_when_it_is_missing(
        client, login_as, make, db):
    login_as(Role.ADMIN)
    team = make.team(name="Riverside Connectors")
    make.practice(team=team), make.practice()  # two of each: a choice, not a fact
    db.session.commit()
    form = client.get("/users/invite").get_data(as_text=True)
    assert 'name="practice"' in form and 'name="team"' in form and 'value="admin"' in form

    missing = client.submit("/users/invite", {"name": "Cy", "email": "cy@test.example",
                                              "role": "connector", "team": ""})
    assert missing.status_code == 422
    assert "Select the team a connector works in" in missing.get_data(as_text=True)
    assert 'href="#team"' in missing.get_data(as_text=True)

    made = client.submit("/users/invite", {"name": "Cy", "email": "cy@test.example",
                                           "role": "connector", "team": str(team.id)})
    assert made.status_code == 303
    user = db.session.scalars(select(User).where(User.email == "cy@test.example")).one()
    assert user.team_id == team.id and user.practice_id is None
