"""CSRF everywhere: every route that changes something refuses a request without a token,
even from someone signed in who may use it. The only exceptions are the blueprints in
referrals.CSRF_EXEMPT_BLUEPRINTS, and those may hold only bearer-token (API client)
routes and routes that refuse every change."""
from __future__ import annotations

import pytest

from referrals import CSRF_EXEMPT_BLUEPRINTS
from referrals.access import API_CLIENT
from referrals.extensions import csrf
from referrals.models import Role
from tests.conftest import Client
from tests.referrals.test_routes import access_of, dummy_url, rules

CHANGING = ("POST", "PUT", "PATCH", "DELETE")
REFUSED = "security token"  # what the CSRF error page says (referrals/errorpages.py)
PASSWORD = "correct horse battery"


def changing_routes(app):
    return [(rule, method) for rule in rules(app) for method in CHANGING
            if method in rule.methods]


def blueprint_of(app, rule):
    return app.blueprints.get(rule.endpoint.rpartition(".")[0])


class Visitors:
    """One test client per role, signed in through the real login form; one anonymous."""

    def __init__(self, app, db, make):
        self.app, self.db, self.make = app, db, make
        self.clients: dict[Role | None, Client] = {None: Client(app.test_client())}

    def who_may_use(self, access) -> Client:
        if access == "public":
            return self.clients[None]
        role = min(access, key=list(Role).index)
        if role not in self.clients:
            user = self.make.user(role, password=PASSWORD)
            self.db.session.commit()
            client = Client(self.app.test_client())
            with self.app.app_context():
                signed_in = client.submit("/login", {"email": user.email, "password": PASSWORD})
            assert signed_in.status_code == 302, f"could not sign in as {role}"
            self.clients[role] = client
        return self.clients[role]

    def send(self, access, url: str, method: str, **kwargs):
        """One request in its own app context: the `db` fixture's context would otherwise
        keep the first signed-in user (Flask-Login caches it on `g`) for every client."""
        client = self.who_may_use(access)
        with self.app.app_context():
            return client.open(url, method=method, **kwargs)


def csrf_offenders(app, visitors: Visitors) -> list[str]:
    """Every state-changing route that does not refuse a request without a CSRF token."""
    offenders = []
    exempt = {app.blueprints[name] for name in CSRF_EXEMPT_BLUEPRINTS}
    for rule, method in changing_routes(app):
        access = access_of(app, rule)
        url = dummy_url(app, rule)
        if blueprint_of(app, rule) in exempt:
            if access == API_CLIENT:
                continue  # a bearer token, which no other site can make a browser send
            answer = visitors.send(access, url, method)
            if answer.status_code not in (404, 405):  # nothing here, or read-only
                offenders.append(f"{method} {url} is exempt from CSRF but is not read-only "
                                 f"(answered {answer.status_code})")
            continue
        if access == API_CLIENT:
            offenders.append(f"{method} {url} takes a bearer token outside an exempt blueprint")
            continue
        answer = visitors.send(access, url, method, data={"x": "1"})
        if answer.status_code != 400 or REFUSED not in answer.get_data(as_text=True):
            offenders.append(f"{method} {url} answered {answer.status_code} without a CSRF token")
    return offenders


@pytest.fixture
def visitors(app, db, make):
    return Visitors(app, db, make)


def test_csrf_protection_is_on_in_the_app_under_test(app):
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    assert app.config.get("WTF_CSRF_CHECK_DEFAULT", True) is True


def test_the_exceptions_are_the_documented_two():
    # The FHIR API (bearer tokens) and the read-only Open Referral API; nothing else.
    assert set(CSRF_EXEMPT_BLUEPRINTS) == {"fhir", "openreferral"}


def test_every_route_that_changes_something_refuses_a_request_without_a_csrf_token(
        app, visitors):
    routes = changing_routes(app)
    assert len(routes) > 30, "the walk found too few routes: it is broken"

    assert csrf_offenders(app, visitors) == []


def test_exempting_another_blueprint_is_caught(app, visitors, monkeypatch):
    """The walk can fail: exempt the caseload blueprint as create_app() would."""
    monkeypatch.setattr(csrf, "_exempt_blueprints",
                        {*csrf._exempt_blueprints, app.blueprints["caseload"]})

    offenders = csrf_offenders(app, visitors)

    assert offenders, "exempting the caseload went unnoticed"
    assert all("/caseload/" in line for line in offenders), offenders


def test_adding_a_blueprint_to_the_exception_list_is_caught(app, visitors, monkeypatch):
    monkeypatch.setitem(CSRF_EXEMPT_BLUEPRINTS, "hub", "a careless exemption")
    monkeypatch.setattr(csrf, "_exempt_blueprints",
                        {*csrf._exempt_blueprints, app.blueprints["hub"]})

    offenders = csrf_offenders(app, visitors)

    assert offenders and all("/hub/" in line and "not read-only" in line
                             for line in offenders), offenders
