"""Every staff page reflows at 375 px wide (WCAG 1.4.10): nothing scrolls sideways.

The pages are not listed by hand. For the first demo account of each role, the test
starts at the role's home page and follows the same-origin GET links it finds there
(header, navigation, main content and footer) to MAX_DEPTH, visiting one page per route
(one referral workspace, one offer, …), and asserts on each that neither the document
nor the body is wider than the window. So a page added later is checked as soon as it
is linked from somewhere a role can reach. MUST_VISIT is the floor: the pages issue 14
named, which the crawl must reach, so that it cannot silently shrink. A page below the
navigation that an earlier role's crawl checked is not loaded again (see crawl()).

A referral and an offer get very long names, an email address and an address with no
place to break for the length of the module (put back afterwards), so long words are
checked too, not just the demo's short ones.
"""
from __future__ import annotations

from collections import deque
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from referrals import demo
from referrals.extensions import db
from referrals.models import Offer, OfferStatus, Referral, ReferralStatus, Role, User
from tests.browser.conftest import AXE_JS

pytestmark = pytest.mark.browser

NARROW = {"width": 375, "height": 812}
MAX_DEPTH = 2
# Not pages for people: machine APIs, downloads, the health JSON, assets.
SKIP_PREFIXES = ("/fhir", "/openreferral", "/healthz", "/static/", "/login")
SKIP_SUFFIXES = (".pdf", ".csv", ".json", ".xml", ".zip")

# The first demo account of each role (a role added to the demo is crawled too).
ACCOUNTS: dict[Role, str] = {}
for _email, _name, _role, *_ in demo.STAFF:
    ACCOUNTS.setdefault(_role, _email)

# The pages issue 14 named, by endpoint, and a few more each role must reach.
MUST_VISIT = {
    Role.REFERRER: {"intake.list_referrals", "intake.show_referral", "intake.new_referral",
                    "letters.inbox", "notifications.list_notifications",
                    "auth.change_password", "about.privacy", "about.accessibility",
                    "about.status"},
    Role.MANAGER: {"intake.list_referrals", "letters.inbox", "reports.index",
                   "reports.practice", "accounts.list_users", "accounts.invite",
                   "accounts.show_user"},
    Role.CONNECTOR: {"caseload.my_caseload", "caseload.triage_queue", "caseload.workspace",
                     "outcomes.measures", "matching.suggestions", "intake.list_referrals",
                     "directory.search", "directory.offer", "caseload.contacts",
                     "caseload.follow_ups", "caseload.sharing_and_risks", "caseload.history",
                     "caseload.ethnic_category", "caseload.offers_to_give"},
    Role.COORDINATOR: {"hub.workload", "hub.assign", "hub.availability", "hub.team_rules",
                       "directory_manage.list_offers", "directory_manage.show_offer",
                       "directory_manage.list_organisations", "reports.index"},
    Role.ADMIN: {"admin.users", "admin.api_clients", "accounts.list_users",
                 "accounts.outbox_list"},
}

# Issue 15 (matching): the hub's volunteer pages, and the demo volunteer's own matches
# (Dave is made by referrals/demo_matching.py when the demo has no volunteer account).
ACCOUNTS.setdefault(Role.VOLUNTEER, "volunteer@kindly.example")
MUST_VISIT[Role.CONNECTOR] |= {"volunteering.requests", "volunteering.request_detail",
                              "volunteering.for_referral"}
# (A request's own page is the connector's to reach: once the journey has matched the
# demo's request, the coordinator's list has none open to link to.)
MUST_VISIT[Role.COORDINATOR] |= {"volunteering.requests"}
MUST_VISIT.setdefault(Role.VOLUNTEER, set()).add("volunteering.matches")
# --- issue 15 (community): the phone line, champions' patches and suggestions ---
MUST_VISIT[Role.COORDINATOR] |= {"calls.index", "calls.new", "calls.show",
                                 "champions.suggestions", "champions.review",
                                 "champions.patches", "champions.set_patch"}
MUST_VISIT[Role.CONNECTOR] |= {"calls.index", "calls.new", "calls.show"}
# (The crawl signs in as Dave, who is no champion: his "Your patch" says so. The
# champion's own pages are walked, at 375 px with axe, by test_community_journey.)
MUST_VISIT.setdefault(Role.VOLUNTEER, set()).add("champions.patch")
# Issue 15 (partners): a partner organisation's pages.
MUST_VISIT.setdefault(Role.PARTNER, set()).update({
    "partners.handovers", "partners.handover", "partners.listings", "partners.listing",
    "partners.edit_listing"})

PUBLIC_MUST_VISIT = {"directory.search", "directory.offer", "directory.volunteer",
                     "accounts.forgot_password",
                     "directory.self_referral", "about.privacy", "about.accessibility",
                     "about.status"}

# A word with nowhere to break, longer than a phone is wide.
LONG_WORD = "Featherstonehaugh-Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaft"

# How wide the document and the body are, against the window.
WIDTHS = """() => {
  const d = document.documentElement, b = document.body;
  return {doc: [d.scrollWidth, d.clientWidth], body: [b.scrollWidth, b.clientWidth]};
}"""

# When a page is too wide: the elements and text reaching past the window's right edge.
CULPRITS = """() => {
  const limit = document.documentElement.clientWidth, found = [];
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + [...el.classList].map(c => '.' + c).join('');
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > limit + 1) {
      found.push(`${describe(el)} (right edge ${Math.round(r.right)} px): `
        + (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 60));
    }
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  while (walker.nextNode()) {
    range.selectNodeContents(walker.currentNode);
    const r = range.getBoundingClientRect();
    if (r.width > 0 && r.right > limit + 1) {
      found.push(`text in ${describe(walker.currentNode.parentElement)} (right edge `
        + `${Math.round(r.right)} px): ${walker.currentNode.textContent.trim().slice(0, 60)}`);
    }
  }
  return found.slice(0, 8);
}"""


@pytest.fixture(scope="module")
def long_words(live_server):
    """A connector's referral, a completed one with a letter and an offer, with long words.

    Answers the URLs to check besides the crawl (the long referral's own pages), and puts
    the demo back afterwards so the other browser tests see the town they expect.
    """
    app = live_server.app
    with app.app_context():
        jo = db.session.scalars(select(User).where(User.email == ACCOUNTS[Role.CONNECTOR])).one()
        gp = db.session.scalars(select(User).where(User.email == ACCOUNTS[Role.REFERRER])).one()
        active = db.session.scalars(select(Referral).where(
            Referral.connector_id == jo.id, Referral.practice_id == gp.practice_id,
            Referral.status.in_([ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS]))
            .order_by(Referral.id)).first()
        closed = db.session.scalars(select(Referral).where(
            Referral.practice_id == gp.practice_id,
            Referral.status == ReferralStatus.COMPLETED).order_by(Referral.id)).first()
        offer = db.session.scalars(select(Offer).where(Offer.status == OfferStatus.ACTIVE)
                                   .order_by(Offer.id)).first()
        saved = []
        for referral in (active, closed):
            p = referral.patient
            saved.append((p, {"given_name": p.given_name, "family_name": p.family_name,
                              "email": p.email}))
            p.given_name, p.family_name = "Bartholomew-Maximilian", LONG_WORD
            p.email = f"{LONG_WORD.lower()}@kindly.example"
        saved.append((offer, {"name": offer.name}))
        offer.name = f"{offer.name} {LONG_WORD}"
        if offer.organisation is not None:
            saved.append((offer.organisation, {"name": offer.organisation.name}))
            offer.organisation.name = f"{LONG_WORD} Community Trust"
        for site in offer.sites:
            saved.append((site.location, {"address_1": site.location.address_1}))
            site.location.address_1 = f"Flat 1, {LONG_WORD} House"
        db.session.commit()
        urls = {
            Role.CONNECTOR: [f"/caseload/referrals/{active.id}",
                             f"/caseload/referrals/{active.id}/measures",
                             f"/caseload/referrals/{active.id}/suggestions",
                             f"/directory/offers/{offer.id}"],
            Role.REFERRER: [f"/referrals/{active.id}", "/referrals"],
            Role.MANAGER: [f"/referrals/{closed.id}", "/letters"],
            Role.COORDINATOR: [f"/hub/directory/offers/{offer.id}"],
            None: [f"/directory/offers/{offer.id}"],
        }
        db.session.remove()
    yield urls
    with app.app_context():
        for obj, values in saved:
            obj = db.session.merge(obj, load=True)
            for key, value in values.items():
                setattr(obj, key, value)
        db.session.commit()
        db.session.remove()


def endpoint_of(adapter, path: str) -> str | None:
    try:
        endpoint, _ = adapter.match(path, method="GET")
    except HTTPException:
        return None
    return endpoint


def wanted(url: str, origin: str) -> bool:
    parts = urlsplit(url)
    return (f"{parts.scheme}://{parts.netloc}" == origin
            and not parts.path.startswith(SKIP_PREFIXES)
            and not parts.path.endswith(SKIP_SUFFIXES))


def cache_static_files(page, origin: str) -> None:
    """Fetch each stylesheet, script and image once per crawl, not once per page: the
    server sends them without a max-age, so the browser would ask again every time."""
    kept = {}

    def serve(route):
        url = route.request.url
        if url not in kept:
            response = route.fetch()
            kept[url] = {"status": response.status, "headers": response.headers,
                         "body": response.body()}
        route.fulfill(**kept[url])

    page.route(f"{origin}/static/**", serve)


def crawl(page, live_server, start: list[tuple[str, int]], checked: set[str],
          must: set[str]) -> tuple[dict[str, str], list[str]]:
    """Visit one page per route from `start`, to MAX_DEPTH links deep; answer the pages
    visited (endpoint -> path) and the ones that scroll sideways, with what is too wide, or
    that axe-core finds a violation on.

    To keep the module quick, a page deeper than the navigation that another role's crawl
    has `checked` already is not visited again (unless it is one this role `must` reach);
    the pages this crawl visits are added to `checked`."""
    adapter = live_server.app.url_map.bind(urlsplit(live_server.url).netloc)
    cache_static_files(page, live_server.url)
    queue = deque(start)
    seen: set[str] = set()
    visited: dict[str, str] = {}
    failures = []
    while queue:
        url, depth = queue.popleft()
        endpoint = endpoint_of(adapter, urlsplit(url).path)
        if endpoint is None or endpoint in seen:
            continue
        seen.add(endpoint)
        if depth > 1 and endpoint in checked and endpoint not in must:
            continue
        response = page.goto(url)
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        # A redirect (the home page to the role's start) counts as the page it lands on.
        path = urlsplit(page.url).path
        landed = endpoint_of(adapter, path) or endpoint
        seen.add(landed)
        visited[landed] = path
        checked.add(landed)
        size = page.evaluate(WIDTHS)
        # axe-core on every page the crawl reaches (WCAG 2.2 AA), in the same pass.
        page.evaluate(AXE_JS.read_text())
        failures.extend(f"{landed} ({path}) axe-core: {problem}" for problem in page.evaluate(
            "async () => (await axe.run()).violations.map(v => v.id + ' (' + v.impact + '): '"
            " + v.nodes.map(n => n.target.join(' ')).join(', '))"))
        if size["doc"][0] > size["doc"][1] or size["body"][0] > size["body"][1]:
            failures.append(
                f"{landed} ({path}) scrolls sideways at 375 px: document {size['doc'][0]} px "
                f"in {size['doc'][1]}, body {size['body'][0]} in {size['body'][1]}; too wide: "
                + "; ".join(page.evaluate(CULPRITS)))
        if depth < MAX_DEPTH:
            links = page.eval_on_selector_all(
                "a[href]:not([download])", "links => links.map(a => a.href.split('#')[0])")
            queue.extend((link, depth + 1) for link in links if wanted(link, live_server.url))
    return visited, failures


@pytest.fixture(scope="module")
def checked() -> set[str]:
    """The routes this module has checked so far, whoever for."""
    return set()


@pytest.mark.parametrize("role", list(ACCOUNTS), ids=lambda role: role.value)
def test_every_page_of_the_role_reflows_at_375_px(role, page, sign_in, live_server, long_words,
                                                  checked):
    sign_in(ACCOUNTS[role])
    page.set_viewport_size(NARROW)
    start = [("/", 0)] + [(url, 1) for url in long_words.get(role, [])]
    must = MUST_VISIT.get(role, set())
    visited, failures = crawl(page, live_server, start, checked, must)
    assert not failures, f"as {role.label}:\n" + "\n".join(failures)
    missing = must - set(visited)
    assert not missing, (f"the crawl as {role.label} never reached {sorted(missing)}; "
                         f"it visited {sorted(visited)}")


def test_every_public_page_reflows_at_375_px(page, live_server, long_words, checked):
    page.set_viewport_size(NARROW)
    start = [("/directory", 0), ("/login", 0)] + [(url, 1) for url in long_words[None]]
    visited, failures = crawl(page, live_server, start, checked, PUBLIC_MUST_VISIT)
    assert not failures, "signed out:\n" + "\n".join(failures)
    missing = PUBLIC_MUST_VISIT - set(visited)
    assert not missing, f"the public crawl never reached {sorted(missing)}; it visited {sorted(visited)}"


# --- issue 15 (volunteers): the volunteer's own pages, the coordinator's review, the
# public sign-up.
MUST_VISIT.setdefault(Role.VOLUNTEER, set()).update({
    "volunteers.my_page", "volunteers.edit_details", "volunteers.step_back",
    "volunteers.download_page"})
MUST_VISIT[Role.COORDINATOR] |= {"volunteers.review_list", "volunteers.review"}
PUBLIC_MUST_VISIT |= {"volunteers.sign_up"}
