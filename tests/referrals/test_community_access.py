"""Issue 15: a partner or volunteer session never reaches staff pages. The walk reads
app.url_map, so a route added by anyone later is covered without being listed here."""
from __future__ import annotations

import pytest

from referrals.matching import service as matching
from referrals.models import ConnectionKind, ReferralStatus, Role
from tests.conftest import Client
from tests.referrals.matching import test_connections as connections
from tests.referrals.test_routes import access_of, dummy_url, rules

hub, offers = connections.hub, connections.offers
COMMUNITY_ROLES = (Role.PARTNER, Role.VOLUNTEER)


def not_for(app, role: Role, method: str) -> list[str]:
    """Every signed-in route for `method` whose declared access leaves out `role`."""
    found = [dummy_url(app, rule) for rule in rules(app)
             if method in rule.methods and isinstance(access_of(app, rule), frozenset)
             and role not in access_of(app, rule)]
    assert len(found) > 20, f"only {len(found)} {method} routes found: the walk is broken"
    return found


@pytest.mark.parametrize("role", COMMUNITY_ROLES)
def test_a_community_session_is_refused_every_route_not_declared_for_it(
        app, client, login_as, role):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("access is declared per route, not per database: one walk is enough")
    login_as(role)
    token = client.csrf_token("/account/password")
    refused = {}
    for url in not_for(app, role, "GET"):
        if (status := client.get(url).status_code) not in (403, 404):
            refused[f"GET {url}"] = status
    for url in not_for(app, role, "POST"):
        status = client.post(url, data={"csrf_token": token}).status_code
        if status not in (403, 404):
            refused[f"POST {url}"] = status
    assert not refused, f"a {role.value} session reached: {refused}"


def test_a_partner_never_sees_another_organisations_handovers(
        app, client, db, make, hub, offers):
    ours, theirs = offers("Befrienders"), offers("Choir")
    referral = make.referral(hub.practice, connector=hub.connector,
                             status=ReferralStatus.IN_PROGRESS, person={"given_name": "Ada"})
    handover = matching.Handover(share=True, contact="07700 900456")
    mine = matching.record_connection(referral, ours, kind=ConnectionKind.REFERRAL,
                                      handover=handover, actor=hub.connector,
                                      today=connections.TODAY)
    hidden = matching.record_connection(referral, theirs, kind=ConnectionKind.REFERRAL,
                                        handover=handover, actor=hub.connector,
                                        today=connections.TODAY)
    partner_b = make.user(Role.PARTNER, organisation=theirs.organisation)
    db.session.commit()
    other = Client(app.test_client())
    other.submit("/login", {"email": partner_b.email, "password": "correct horse battery"})
    assert other.get(f"/partner/handovers/{hidden.id}").status_code == 200
    assert other.get(f"/partner/handovers/{mine.id}").status_code == 404
    listed = other.get("/partner").get_data(as_text=True)
    assert f"/partner/handovers/{hidden.id}" in listed
    assert f"/partner/handovers/{mine.id}" not in listed
