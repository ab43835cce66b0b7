"""The main pages run under Kindly's Content-Security-Policy, enforced, with nothing refused.

Every browser test reports CSP violations (the `page` fixture listens for
`securitypolicyviolation`); these walk the main pages of each role on purpose, and first
prove that the policy is really enforced and a violation really reported.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from referrals.extensions import db
from referrals.models import Offer, OfferStatus, Referral, ReferralStatus, User

pytestmark = pytest.mark.browser


def first_id(live_server, query):
    with live_server.app.app_context():
        found = db.session.scalars(query.limit(1)).first()
        db.session.remove()
    assert found is not None, f"the demo has nothing for {query}"
    return found


def visit(page, path: str) -> None:
    response = page.goto(path)
    assert response.status == 200, f"GET {path} gave {response.status}"
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy, (path, policy)
    # static/kindly-early.js ran (it stands in for the NHS.UK template's inline script).
    expect(page.locator("body")).to_have_class(
        "js-enabled nhsuk-frontend-supported")
    page.wait_for_load_state("networkidle")


def test_the_policy_is_enforced_and_a_violation_is_reported(page, live_server, browser_problems):
    visit(page, "/login")

    page.evaluate("""() => {
        const script = document.createElement('script')
        script.textContent = 'window.inlineRan = true'
        document.body.append(script)
        const styled = document.createElement('p')
        styled.setAttribute('style', 'color: red')
        document.body.append(styled)
    }""")
    page.wait_for_timeout(200)  # violation events are dispatched asynchronously

    assert page.evaluate("() => window.inlineRan") is None
    refused = [problem for problem in browser_problems if problem.startswith("CSP violation")]
    assert any("script-src" in problem for problem in refused), browser_problems
    assert any("style-src" in problem for problem in refused), browser_problems
    browser_problems.clear()  # seen and expected: the page fixture must not fail on them


def test_public_pages(page, live_server):
    offer = first_id(live_server, select(Offer).where(Offer.status == OfferStatus.ACTIVE).order_by(Offer.id))
    for path in ("/login", "/directory", "/directory?q=walk", "/directory/volunteer",
                 f"/directory/offers/{offer.id}", "/directory/ask-a-connector"):
        visit(page, path)


def test_a_referrers_pages(page, sign_in, live_server):
    gp = first_id(live_server, select(User).where(User.email == "gp@kindly.example"))
    referral = first_id(live_server, select(Referral).where(
        Referral.practice_id == gp.practice_id, Referral.status == ReferralStatus.COMPLETED))
    sign_in("gp@kindly.example")
    for path in ("/", "/referrals", "/referrals/new", f"/referrals/{referral.id}", "/letters",
                 "/notifications"):
        visit(page, path)
    # The conditional reveals and the header menu are NHS.UK scripts that must still run.
    page.goto("/referrals/new")
    page.get_by_label("Interpreter for a spoken language").check()
    expect(page.get_by_label("Language", exact=True)).to_be_visible()


def test_a_connectors_pages(page, sign_in, live_server):
    jo = first_id(live_server, select(User).where(User.email == "connector@kindly.example"))
    referral = first_id(live_server, select(Referral).where(
        Referral.connector_id == jo.id, Referral.status == ReferralStatus.IN_PROGRESS))
    sign_in("connector@kindly.example")
    for path in ("/caseload", "/caseload/queue", f"/caseload/referrals/{referral.id}",
                 f"/caseload/referrals/{referral.id}/suggestions",
                 f"/caseload/referrals/{referral.id}/measures"):
        visit(page, path)


def test_a_coordinators_and_an_admins_pages(page, sign_in):
    sign_in("coordinator@kindly.example")
    for path in ("/hub", "/hub/settings", "/hub/directory", "/hub/directory/offers/new"):
        visit(page, path)
    page.context.clear_cookies()
    sign_in("admin@kindly.example")
    for path in ("/admin/users", "/admin/api-clients"):
        visit(page, path)
