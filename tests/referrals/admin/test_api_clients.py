"""The administrator's API client pages: create (token shown once), list, revoke."""
from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import func, select

from referrals.admin.service import client_for_token, create_api_client, revoke_api_client
from referrals.models import ApiClient, AuditEvent, Role

PAGE = "/admin/api-clients"
TOKEN = re.compile(r"kindly_[A-Za-z0-9_-]{20,}")


@pytest.fixture
def practices(make):
    team = make.team()
    return (make.practice(team=team, ods_code="A12345", name="Alpha Surgery"),
            make.practice(team=team, ods_code="B67890", name="Beta Surgery"))


@pytest.fixture
def admin(login_as, practices):
    return login_as(Role.ADMIN)


def clients(db) -> list[ApiClient]:
    return list(db.session.scalars(select(ApiClient).order_by(ApiClient.id)))


def fhir_search(client, token):
    return client.get("/fhir/ServiceRequest", headers={"Authorization": f"Bearer {token}"})


def create(client, **data):
    return client.submit(PAGE, data)


# --- creating ------------------------------------------------------------------------


def test_creating_a_client_shows_its_token_once_and_stores_only_a_hash(client, db, admin):
    response = create(client, name="Alpha EMIS", practices=["A12345", "B67890"])

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    tokens = set(TOKEN.findall(page))
    assert len(tokens) == 1
    token = tokens.pop()
    assert response.headers["Cache-Control"] == "no-store"
    [stored] = clients(db)
    assert stored.name == "Alpha EMIS"
    assert [p.ods_code for p in stored.practices] == ["A12345", "B67890"]
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert stored.token_hash != token
    assert token not in (stored.token_hash, stored.token_hint, stored.name)
    assert stored.token_hint == token[-4:]
    assert client_for_token(token) == stored


def test_the_token_is_never_shown_again_nor_kept_in_the_session(app, client, db, admin):
    page = create(client, name="Alpha EMIS", practices=["A12345"]).get_data(as_text=True)
    token = TOKEN.search(page).group(0)

    listing = client.get(PAGE).get_data(as_text=True)

    assert "Alpha EMIS" in listing
    assert token not in listing
    assert f"…{token[-4:]}" in listing
    cookie = client.get_cookie("session")
    session = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    assert token not in repr(session)
    assert not session.get("_flashes")


def test_a_token_made_in_the_admin_pages_works_on_the_fhir_api(client, db, admin):
    page = create(client, name="Alpha EMIS", practices=["A12345"]).get_data(as_text=True)
    token = TOKEN.search(page).group(0)

    response = fhir_search(client, token)

    assert response.status_code == 200
    assert response.json["resourceType"] == "Bundle"


def test_creating_a_client_is_audited_with_the_administrator(client, db, admin):
    create(client, name="Alpha EMIS", practices=["A12345"])

    [stored] = clients(db)
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_type == "api_client", AuditEvent.action == "create")).one()
    assert (event.entity_id, event.actor_id) == (stored.id, admin.id)
    assert event.detail == {"practices": ["A12345"]}


def test_the_form_offers_every_practice_as_a_checkbox(client, db, admin):
    page = client.get(PAGE).get_data(as_text=True)

    assert 'name="name"' in page
    assert re.search(r'type="checkbox"[^>]*value="A12345"|value="A12345"[^>]*type="checkbox"',
                     page)
    assert "Beta Surgery (B67890)" in page
    assert 'name="csrf_token"' in page


# --- errors next to their fields --------------------------------------------------


def field_error(page: str, field_id: str) -> str:
    """The error message the NHS.UK macros put beside a field (after its hidden "Error:")."""
    match = re.search(rf'id="{field_id}-error"[^>]*>\s*<span[^>]*>[^<]*</span>([^<]*)</span>',
                      page)
    assert match, f"no error message beside {field_id}"
    return " ".join(match.group(1).split())


@pytest.mark.parametrize("name", ["", "   "])
def test_a_client_needs_a_name(client, db, admin, name):
    response = create(client, name=name, practices=["A12345"])

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert "Give the API client a name" in field_error(page, "name")
    assert clients(db) == []


def test_a_client_needs_at_least_one_practice(client, db, admin):
    response = create(client, name="Alpha EMIS")

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Select at least one practice" in field_error(page, "practices")
    assert 'value="Alpha EMIS"' in page  # what was typed is kept
    assert clients(db) == []


def test_two_clients_cannot_share_a_name(client, db, admin, practices):
    create_api_client("Alpha EMIS", [practices[0]], actor=None, actor_label="test")
    db.session.commit()

    response = create(client, name=" Alpha EMIS ", practices=["B67890"])

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is already an API client called" in field_error(page, "name")
    assert len(clients(db)) == 1
    assert not TOKEN.search(page)


def test_a_name_longer_than_the_column_is_refused(client, db, admin):
    response = create(client, name="x" * 121, practices=["A12345"])

    assert response.status_code == 422
    assert "120 characters or fewer" in field_error(response.get_data(as_text=True), "name")
    assert clients(db) == []


def test_an_unknown_practice_is_refused(client, db, admin):
    response = create(client, name="Alpha EMIS", practices=["A12345", "Z99999"])

    assert response.status_code == 422
    assert "Unknown practice: Z99999" in field_error(response.get_data(as_text=True),
                                                     "practices")
    assert clients(db) == []


def test_creating_without_the_csrf_token_is_refused(client, db, admin):
    response = client.post(PAGE, data={"name": "Alpha EMIS", "practices": ["A12345"]})

    assert response.status_code == 400
    assert clients(db) == []


# --- the list -------------------------------------------------------------------------


def test_the_list_shows_each_client_its_practices_token_ending_and_status(
        client, db, admin, practices):
    alpha, alpha_token = create_api_client("Alpha EMIS", [practices[0]], actor=None)
    _, both_token = create_api_client("County gateway", list(practices), actor=None)
    revoke_api_client(alpha, actor=None)
    db.session.commit()

    page = client.get(PAGE).get_data(as_text=True)

    rows = re.findall(r'<tr class="nhsuk-table__row"[^>]*>(.*?)</tr>', page, re.DOTALL)[1:]
    # Without each cell's column heading, shown only on a small screen.
    rows = [re.sub(r'<span class="nhsuk-table__heading".*?</span>', "", row) for row in rows]
    text = [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]
    assert text[0].startswith("Alpha EMIS A12345")
    assert f"…{alpha_token[-4:]}" in text[0] and "Revoked" in text[0]
    assert "Revoke Alpha EMIS" not in text[0]
    assert text[1].startswith("County gateway A12345, B67890")
    assert f"…{both_token[-4:]}" in text[1] and "Active" in text[1]
    assert "Revoke County gateway" in text[1]
    assert alpha_token not in page and both_token not in page


def test_the_admin_navigation_leads_to_api_clients(client, db, admin):
    page = client.get("/admin/users").get_data(as_text=True)

    assert f'href="{PAGE}"' in page
    assert "API clients" in page


# --- revoking -------------------------------------------------------------------------


@pytest.fixture
def alpha(db, practices):
    api_client, token = create_api_client("Alpha EMIS", [practices[0]], actor=None)
    db.session.commit()
    return api_client, token


def test_revoking_asks_first_then_the_token_is_refused_with_401(client, db, admin, alpha):
    api_client, token = alpha
    assert fhir_search(client, token).status_code == 200
    confirm = f"{PAGE}/{api_client.id}/revoke"

    question = client.get(confirm).get_data(as_text=True)
    assert "Revoke Alpha EMIS?" in question
    assert api_client.active  # asking changes nothing

    response = client.submit(confirm, {})

    assert response.status_code == 302
    assert response.location.endswith(PAGE)
    assert not api_client.active
    assert "Revoked Alpha EMIS" in client.get(PAGE).get_data(as_text=True)
    refused = fhir_search(client, token)
    assert refused.status_code == 401
    assert refused.json["resourceType"] == "OperationOutcome"


def test_revoking_is_audited_with_the_administrator(client, db, admin, alpha):
    api_client, _ = alpha

    client.submit(f"{PAGE}/{api_client.id}/revoke", {})

    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_type == "api_client", AuditEvent.action == "revoke")).one()
    assert (event.entity_id, event.actor_id) == (api_client.id, admin.id)


def test_revoking_twice_changes_nothing_the_second_time(client, db, admin, alpha):
    api_client, _ = alpha
    url = f"{PAGE}/{api_client.id}/revoke"
    client.submit(url, {})
    revoked_at = api_client.revoked_at

    page = client.get(url).get_data(as_text=True)
    response = client.submit(url, {}, page=PAGE)

    assert "Alpha EMIS is revoked" in page
    assert response.status_code == 302
    assert api_client.revoked_at == revoked_at
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "revoke")) == 1


def test_revoking_needs_the_csrf_token(client, db, admin, alpha):
    api_client, token = alpha

    response = client.post(f"{PAGE}/{api_client.id}/revoke")

    assert response.status_code == 400
    assert api_client.active
    assert fhir_search(client, token).status_code == 200


@pytest.mark.parametrize("url", [f"{PAGE}/999999/revoke", f"{PAGE}/99999999999/revoke"])
def test_revoking_an_unknown_client_is_not_found(client, db, admin, url):
    assert client.get(url).status_code == 404


# --- access ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.REFERRER, Role.MANAGER, Role.CONNECTOR, Role.COORDINATOR])
def test_only_administrators_may_manage_api_clients(client, db, login_as, practices, alpha, role):
    api_client, _ = alpha
    login_as(role)
    revoke = f"{PAGE}/{api_client.id}/revoke"

    assert client.get(PAGE).status_code == 403
    assert client.get(revoke).status_code == 403
    assert client.submit(PAGE, {"name": "Mine", "practices": ["A12345"]},
                         page="/referrals").status_code == 403
    assert client.submit(revoke, {}, page="/referrals").status_code == 403
    assert [c.name for c in clients(db)] == ["Alpha EMIS"]
    assert api_client.active
