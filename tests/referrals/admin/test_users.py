"""The administrator's users page: deactivating and reactivating an account.

That deactivation ends the account's sessions, and reactivation does not bring them
back, is tested in tests/referrals/auth/test_sessions.py with fresh app contexts.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from referrals.models import AuditEvent, Role, User

PAGE = "/admin/users"


@pytest.fixture
def admin(login_as):
    return login_as(Role.ADMIN)


@pytest.fixture
def connector(make, db):
    user = make.user(Role.CONNECTOR, name="Casey Connector")
    db.session.commit()
    return user


def act(client, user, action):
    return client.submit(f"/admin/users/{user.id}/{action}", {}, page=PAGE)


def is_active(db, user) -> bool:
    db.session.expire_all()
    return db.session.get(User, user.id).active


def button_forms(page: str) -> list[str]:
    return re.findall(r'<form method="post" action="(/admin/users/\d+/\w+)">', page)


def test_each_other_account_has_a_deactivate_button_and_the_admins_own_has_none(
        client, db, admin, connector):
    page = client.get(PAGE).get_data(as_text=True)

    assert f"/admin/users/{connector.id}/deactivate" in button_forms(page)
    assert not [url for url in button_forms(page) if f"/users/{admin.id}/" in url]
    assert "Deactivate<span class=\"nhsuk-u-visually-hidden\"> Casey Connector</span>" in page


def test_deactivating_an_account_says_so_and_offers_to_reactivate(client, db, admin, connector):
    response = act(client, connector, "deactivate")

    assert response.status_code == 302 and response.location == PAGE
    assert not is_active(db, connector)
    page = client.get(PAGE).get_data(as_text=True)
    assert "Deactivated Casey Connector" in page
    assert f"/admin/users/{connector.id}/reactivate" in button_forms(page)


def test_reactivating_an_account_lets_it_sign_in_again(client, db, admin, connector):
    act(client, connector, "deactivate")

    response = act(client, connector, "reactivate")

    assert response.status_code == 302
    assert is_active(db, connector)
    assert "Reactivated Casey Connector" in client.get(PAGE).get_data(as_text=True)


def test_both_are_audited_with_the_administrator(client, db, admin, connector):
    act(client, connector, "deactivate")
    act(client, connector, "reactivate")

    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_type == "user", AuditEvent.entity_id == connector.id)
        .order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_id) for e in events] == [("deactivate", admin.id),
                                                        ("reactivate", admin.id)]


def test_doing_it_twice_changes_nothing_the_second_time(client, db, admin, connector):
    act(client, connector, "deactivate")
    response = act(client, connector, "deactivate")

    assert response.status_code == 302
    assert "already deactivated" in client.get(PAGE).get_data(as_text=True)
    assert db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.entity_type == "user", AuditEvent.entity_id == connector.id)).all() == [
        "deactivate"]


def test_an_administrator_cannot_deactivate_themselves(client, db, admin):
    response = act(client, admin, "deactivate")

    assert response.status_code == 302
    assert is_active(db, admin)
    assert "You cannot deactivate your own account" in client.get(PAGE).get_data(as_text=True)


@pytest.mark.parametrize("action", ["deactivate", "reactivate"])
def test_the_buttons_need_the_csrf_token(client, db, admin, connector, action):
    response = client.post(f"/admin/users/{connector.id}/{action}")

    assert response.status_code == 400
    assert is_active(db, connector)


@pytest.mark.parametrize("url", ["/admin/users/999999/deactivate",
                                 "/admin/users/99999999999/reactivate"])
def test_an_unknown_account_is_not_found(client, db, admin, url):
    assert client.submit(url, {}, page=PAGE).status_code == 404


@pytest.mark.parametrize("role", [Role.REFERRER, Role.MANAGER, Role.CONNECTOR,
                                  Role.COORDINATOR])
def test_only_administrators_may_deactivate(client, db, login_as, connector, role):
    login_as(role)

    response = client.submit(f"/admin/users/{connector.id}/deactivate", {},
                             page="/notifications")

    assert response.status_code == 403
    assert is_active(db, connector)
