"""Security headers on every response (referrals/headers.py).

The walk requests every GET route as everyone it is meant for: a visitor for public routes,
each allowed role signed in through the real form, an API client's token for /fhir. Route
arguments name a real referral, its patient and its practice's letter, so the pages that
show a person are really reached, and a made-up 1 stands in for the rest.
"""
from __future__ import annotations

import pytest
from flask import Response, url_for

from referrals import create_app
from referrals.access import API_CLIENT
from referrals.admin.service import create_api_client
from referrals.models import (
    CallOutcome,
    ChampionSuggestion,
    Connection,
    ConnectionKind,
    ConnectionStatus,
    HubCall,
    MatchStatus,
    Offer,
    OfferStatus,
    ReferralStatus,
    Role,
    SafeguardingConcern,
    SuggestionKind,
    Volunteer,
    VolunteerMatch,
    VolunteerOffer,
    VolunteerRequest,
    VolunteerStatus,
)

PASSWORD = "correct horse battery"
# Public, person-free and cacheable while the visitor is not signed in.
CACHEABLE_PAGES = {"directory.search", "directory.volunteer", "directory.offer"}


def assert_secure_headers(response, what: str) -> None:
    headers = response.headers
    assert headers.get("X-Frame-Options") == "DENY", what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") == "same-origin", what
    if response.mimetype != "application/pdf":
        policy = headers.get("Content-Security-Policy", "")
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives.get("script-src") == "'self'", what
        assert directives.get("style-src") == "'self'", what
        assert directives.get("object-src") == "'none'", what
        assert directives.get("frame-ancestors") == "'none'", what
        assert directives.get("base-uri") == "'self'", what
        assert directives.get("form-action") == "'self'", what
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, what
    assert "Strict-Transport-Security" not in headers, f"{what}: HSTS over plain HTTP"


def url_with(app, rule, values: dict) -> str:
    with app.test_request_context():
        return url_for(rule.endpoint, **{name: values.get(name, 1) for name in rule.arguments})


@pytest.fixture
def casework(make, db):
    """A referral in progress with its connector, and one account of every role around it."""
    team = make.team()
    practice = make.practice(team=team)
    users = {
        Role.REFERRER: make.user(Role.REFERRER, practice=practice),
        Role.MANAGER: make.user(Role.MANAGER, practice=practice),
        Role.CONNECTOR: make.user(Role.CONNECTOR, team=team),
        Role.COORDINATOR: make.user(Role.COORDINATOR, team=team),
        Role.ADMIN: make.user(Role.ADMIN),
    }
    referral = make.referral(practice, referrer=users[Role.REFERRER],
                             connector=users[Role.CONNECTOR], status=ReferralStatus.IN_PROGRESS)
    _, token = create_api_client("Header walk", [practice], actor=None, actor_label="test")
    db.session.commit()
    values = {"referral_id": referral.id, "sr_id": str(referral.id),
              "task_id": f"t-{referral.id}", "patient_id": str(referral.patient_id),
              "user_id": users[Role.CONNECTOR].id}
    # issue 15 (volunteers): a volunteer and their record, for their pages and the review.
    users[Role.VOLUNTEER] = make.user(Role.VOLUNTEER)
    volunteer = Volunteer(team=team, user_id=users[Role.VOLUNTEER].id, given_name="Val",
                          email=users[Role.VOLUNTEER].email, postcode="KB1 1AA",
                          offers=["lifts"], availability=["mon-morning"])
    db.session.add(volunteer)
    db.session.commit()
    values["volunteer_id"] = volunteer.id
    values |= community(db, make, team, referral, users, volunteer)
    return users, token, values


def community(db, make, team, referral, users, volunteer) -> dict:
    """Issue 15: a partner whose organisation was handed the person over, the volunteer
    as a champion matched with them (who raised a concern), a call, a suggestion: the
    route arguments of the partner's, volunteer's, champion's and phone line's pages."""
    users[Role.PARTNER] = make.user(Role.PARTNER)
    offer = Offer(id="offer-headers", name="Header Walkers", status=OfferStatus.ACTIVE,
                  organisation_id=users[Role.PARTNER].organisation_id, languages=[])
    connection = Connection(referral_id=referral.id, offer=offer, kind=ConnectionKind.REFERRAL,
                            status=ConnectionStatus.SUGGESTED, share_with_partner=True,
                            partner_contact="07700 900456",
                            created_by_id=users[Role.CONNECTOR].id)
    volunteer.status = VolunteerStatus.APPROVED
    volunteer.champion_districts = ["KB1"]
    request = VolunteerRequest(team_id=team.id, referral=referral, need=VolunteerOffer.LIFTS,
                               postcode="KB1 1AA", created_by_id=users[Role.CONNECTOR].id)
    match = VolunteerMatch(volunteer=volunteer, request=request, status=MatchStatus.PROPOSED,
                           proposed_by_id=users[Role.CONNECTOR].id)
    call = HubCall(team_id=team.id, taken_by_id=users[Role.COORDINATOR].id,
                   caller_name="Pat Jones", need="A weekly call",
                   outcome=CallOutcome.INFORMATION, information_given="The lunch club")
    suggestion = ChampionSuggestion(team_id=team.id, volunteer=volunteer,
                                    kind=SuggestionKind.NEW_GROUP, name="Knit and natter",
                                    postcode="KB1 1AA")
    db.session.add_all([offer, connection, request, match, call, suggestion])
    db.session.flush()
    concern = SafeguardingConcern(team_id=team.id, match_id=match.id,
                                  referral_id=referral.id, concern="Seemed frightened",
                                  raised_by_id=users[Role.VOLUNTEER].id)
    db.session.add(concern)
    db.session.commit()
    return {"offer_id": offer.id, "organisation_id": offer.organisation_id,
            "connection_id": connection.id, "request_id": request.id,
            "match_id": match.id, "call_id": call.id, "suggestion_id": suggestion.id,
            "concern_id": concern.id}


def callers_of(access, token):
    """Who is meant to use a route: (who, request headers, the role to sign in as)."""
    if access == "public":
        return [("a visitor", {}, None)]
    if access == API_CLIENT:
        return [("an API client", {"Authorization": f"Bearer {token}"}, None)]
    return [(role.value, {}, role) for role in sorted(access)]


def test_every_get_route_sends_the_security_headers_to_everyone_it_serves(app, client,
                                                                          casework):
    users, token, values = casework
    walk: dict = {}
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint != "static":
            access = getattr(app.view_functions[rule.endpoint], "access", None)
            for who, headers, role in callers_of(access, token):
                walk.setdefault(role, []).append((rule, who, headers))
    reached = set()

    # One role at a time, signing out in between: the test's app context is shared by
    # every request, so Flask-Login's cached user must be replaced, not left behind.
    for role, visits in sorted(walk.items(), key=lambda item: str(item[0] or "")):
        if role is not None:
            response = client.submit("/login", {"email": users[role].email,
                                                "password": PASSWORD})
            assert response.status_code == 302, response.get_data(as_text=True)
        for rule, who, headers in visits:
            url = url_with(app, rule, values)
            response = client.get(url, headers=headers)
            what = f"GET {url} as {who} ({response.status_code})"
            assert response.status_code < 500, what
            assert_secure_headers(response, what)
            cacheable = (rule.endpoint in CACHEABLE_PAGES and who == "a visitor"
                         or rule.endpoint.startswith("openreferral."))
            if not (cacheable and response.status_code == 200):
                assert response.headers.get("Cache-Control") == "no-store", what
            if response.status_code == 200:
                reached.add((rule.endpoint, who))
            # A streamed body (the CSV exports) holds its request context until read.
            response.close()
        if role is not None:
            client.submit("/logout", {}, page="/notifications")

    # The walk really reached the pages and resources that show this person.
    for must in [("intake.show_referral", "referrer"), ("intake.show_referral", "manager"),
                 ("caseload.workspace", "connector"), ("caseload.workspace", "coordinator"),
                 ("matching.suggestions", "connector"), ("outcomes.measures", "connector"),
                 ("intake.list_referrals", "referrer"), ("caseload.my_caseload", "connector"),
                 ("hub.workload", "coordinator"), ("admin.users", "admin"),
                 ("fhir.read_patient", "an API client"), ("fhir.read_task", "an API client"),
                 ("fhir.read_service_request", "an API client"),
                 ("fhir.search_patients", "an API client"), ("health.healthz", "a visitor"),
                 # issue 15: the partner's, volunteer's and champion's pages, the phone line
                 ("partners.handovers", "partner"), ("partners.handover", "partner"),
                 ("partners.listing", "partner"), ("volunteers.my_page", "volunteer"),
                 ("volunteering.match", "volunteer"), ("volunteering.concern", "volunteer"),
                 ("volunteering.concern", "coordinator"), ("champions.patch", "volunteer"),
                 ("champions.review", "coordinator"), ("calls.show", "connector"),
                 ("volunteering.request_detail", "connector"),
                 ("volunteers.review", "coordinator")]:
        assert must in reached, f"the walk never got a 200 from {must}"


def test_form_posts_and_errors_carry_the_headers_too(client, login_as):
    login_as(Role.REFERRER)

    for response in (client.post("/referrals/new", data={}),  # no CSRF token: 400
                     client.get("/no-such-page"),
                     client.post("/fhir/Patient", data="{}",
                                 content_type="application/fhir+json")):
        assert_secure_headers(response, f"{response.request.path} {response.status_code}")
        assert response.headers["Cache-Control"] == "no-store"


def test_the_public_directory_and_open_referral_api_may_be_cached(client, login_as):
    for url in ("/directory", "/directory/volunteer", "/openreferral/services",
                "/openreferral/taxonomies"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "public, max-age=300", url
    assert client.get("/openreferral/services").headers["Access-Control-Allow-Origin"] == "*"

    # A signed-in member of staff sees their own name in the directory's header.
    login_as(Role.CONNECTOR)
    assert client.get("/directory").headers["Cache-Control"] == "no-store"
    assert client.get("/openreferral/services").headers["Cache-Control"] == "public, max-age=300"


def test_static_files_keep_their_own_caching(client):
    response = client.get("/static/kindly.css")

    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers

    secure = client.get("/login", base_url="https://kindly.example")

    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_hsts_behind_a_proxy_that_says_the_visitor_came_over_https():
    app = create_app({"ENV_NAME": "test", "PROXY_FIX_HOPS": 1,
                      "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    client = app.test_client()

    assert "Strict-Transport-Security" not in client.get("/healthz-nowhere").headers
    behind = client.get("/healthz-nowhere", headers={"X-Forwarded-Proto": "https"})

    assert behind.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_a_pdf_keeps_its_download_headers_and_gets_no_page_policy():
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://"})

    @app.get("/_letter.pdf")
    def letter():
        return Response(b"%PDF-1.7", mimetype="application/pdf",
                        headers={"Content-Disposition": 'inline; filename="x.pdf"'})

    letter.access = "public"
    response = app.test_client().get("/_letter.pdf")

    assert response.headers["Content-Disposition"] == 'inline; filename="x.pdf"'
    assert response.headers["Cache-Control"] == "no-store"
    # Chrome's PDF viewer draws in a page of its own with inline styles; a page policy
    # would leave it blank.
    assert "Content-Security-Policy" not in response.headers
    assert_secure_headers(response, "a PDF")

