"""Every route declares who may use it, and the declarations hold."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask import url_for

from referrals.access import API_CLIENT
from referrals.models import Role


def rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def access_of(app, rule):
    return getattr(app.view_functions[rule.endpoint], "access", None)


def dummy_url(app, rule) -> str:
    """The rule's URL with a made-up 1 for every argument."""
    with app.test_request_context():
        return url_for(rule.endpoint, **{name: 1 for name in rule.arguments})


def protected(app, method):
    """Routes for signed-in people (API routes answer tokens, not sign-in)."""
    found = [
        rule
        for rule in rules(app)
        if access_of(app, rule) not in ("public", API_CLIENT) and method in rule.methods
    ]
    assert found, f"no protected {method} routes found: the walk is broken"
    return found


def test_every_route_declares_who_may_use_it(app):
    undeclared = [rule.endpoint for rule in rules(app) if access_of(app, rule) is None]

    assert not undeclared, f"routes without allow()/public/signed_in: {undeclared}"


def test_every_declaration_is_public_api_client_or_a_non_empty_set_of_roles(app):
    for rule in rules(app):
        access = access_of(app, rule)
        assert access in ("public", API_CLIENT) or (
            access and all(isinstance(role, Role) for role in access)
        ), f"{rule.endpoint} declares {access!r}"


def test_sign_in_and_health_check_are_public_and_referrals_are_not(app):
    access = {rule.endpoint: access_of(app, rule) for rule in rules(app)}

    assert access["auth.login"] == "public"
    assert access["health.healthz"] == "public"
    assert access["intake.list_referrals"] != "public"
    assert access["intake.show_referral"] != "public"


def test_every_protected_page_sends_an_anonymous_visitor_to_sign_in(app, client):
    for rule in protected(app, "GET"):
        url = dummy_url(app, rule)
        response = client.get(url)

        assert response.status_code == 302, f"GET {url} gave {response.status_code}"
        assert urlsplit(response.location).path == "/login", f"GET {url} went elsewhere"


def test_every_protected_action_sends_an_anonymous_visitor_to_sign_in(app, client):
    for rule in protected(app, "POST"):
        url = dummy_url(app, rule)
        # A valid CSRF token, so it is the access rule that answers, not CSRF.
        response = client.submit(url, {}, page="/login")

        assert response.status_code == 302, f"POST {url} gave {response.status_code}"
        assert urlsplit(response.location).path == "/login", f"POST {url} went elsewhere"


@pytest.mark.parametrize("url", ["/referrals", "/referrals/new", "/referrals/1"])
def test_admin_sees_no_clinical_content(client, login_as, url):
    login_as(Role.ADMIN)

    assert client.get(url).status_code == 403


def test_admin_cannot_cancel_a_referral(client, login_as, make, db):
    referral = make.referral()
    db.session.commit()
    login_as(Role.ADMIN)

    response = client.submit(
        f"/referrals/{referral.id}/cancel", {"reason": "test"}, page="/admin/users"
    )

    assert response.status_code == 403


@pytest.mark.parametrize("role", [Role.CONNECTOR, Role.COORDINATOR, Role.MANAGER])
def test_only_referrers_may_open_the_referral_form(client, login_as, role):
    login_as(role)

    assert client.get("/referrals/new").status_code == 403


def test_a_connector_cannot_post_a_referral(client, login_as):
    login_as(Role.CONNECTOR)

    response = client.submit("/referrals/new", {"nhs_number": "9434765919"}, page="/referrals")

    assert response.status_code == 403


def test_users_only_see_the_navigation_for_their_role(client, login_as):
    login_as(Role.ADMIN)

    page = client.get("/admin/users").get_data(as_text=True)

    assert 'href="/admin/users"' in page
    assert 'href="/referrals' not in page


def test_every_api_route_refuses_a_caller_without_a_token(app, client):
    api_rules = [rule for rule in rules(app) if access_of(app, rule) == API_CLIENT]
    assert api_rules, "no API routes found: the walk is broken"
    for rule in api_rules:
        url = dummy_url(app, rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(url, method=method, data="{}",
                                   content_type="application/fhir+json")

            assert response.status_code == 401, f"{method} {url} gave {response.status_code}"
            assert response.json["resourceType"] == "OperationOutcome"


def test_the_report_routes_are_for_managers_and_coordinators_only(app):
    """Issue 13: who may ask for which scope is access.report_scope's; the routes only
    let the two report roles in (a manager then gets 404 for a PCN or the hub)."""
    access = {rule.endpoint: access_of(app, rule) for rule in rules(app)}
    report_routes = {endpoint for endpoint in access if endpoint.startswith("reports.")}

    assert report_routes >= {
        "reports.index", "reports.practice", "reports.practice_pdf", "reports.pcn",
        "reports.pcn_pdf", "reports.hub", "reports.hub_pdf", "reports.unmet"}
    for endpoint in report_routes:
        assert access[endpoint] == {Role.MANAGER, Role.COORDINATOR}, endpoint


@pytest.mark.parametrize("role", [Role.MANAGER, Role.COORDINATOR])
def test_reports_is_in_the_navigation_of_managers_and_coordinators(client, login_as, role):
    login_as(role)

    page = client.get("/referrals").get_data(as_text=True)

    assert 'href="/reports"' in page.split("</header>", 1)[0]


@pytest.mark.parametrize("role", [Role.REFERRER, Role.CONNECTOR, Role.ADMIN])
def test_reports_is_not_in_the_navigation_of_other_roles(client, login_as, role):
    login_as(role)

    page = client.get("/notifications").get_data(as_text=True)

    assert 'href="/reports"' not in page
