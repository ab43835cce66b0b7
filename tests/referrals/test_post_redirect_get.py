"""Issue 14: post/redirect/get on every form.

The `app` fixture carries a guard (tests/conftest.py, guard_post_redirect_get): every POST
any test sends that is answered "2xx with a page" fails that test. So every test that
submits a form successfully also proves it redirects, and every test that submits one
with errors proves the errors come with an error status. This module checks the guard
covers every POST endpoint in app.url_map, that the guard itself works, and walks the
intake forms: sent, redirected, and refreshed without sending again.
"""
from __future__ import annotations

import pytest
from flask import Flask, jsonify, redirect
from sqlalchemy import func, select

from referrals.access import API_CLIENT
from referrals.models import Notification, Referral, ReferralAddition, Role
from referrals.notifications.service import notify
from tests.conftest import PRG_EXCEPTIONS, PostWithoutRedirect, guard_post_redirect_get
from tests.referrals.intake.conftest import valid_form  # noqa: F401 (a fixture)
from tests.referrals.test_routes import access_of

# POST endpoints that are not forms: they answer JSON (the FHIR API, a GP system's
# client) or refuse every method, so post/redirect/get does not apply. The guard looks at
# pages only, so they need no exception; they are listed to keep this walk honest.
NOT_FORMS = {
    "openreferral.not_here": "the read-only Open Referral API: 405 for every write",
}


def post_endpoints(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}


def test_every_post_endpoint_is_a_guarded_form_an_api_or_a_reasoned_exception(app):
    api = {rule.endpoint for rule in app.url_map.iter_rules()
           if "POST" in rule.methods and access_of(app, rule) == API_CLIENT}
    forms = post_endpoints(app) - api - set(NOT_FORMS)

    assert len(forms) > 30, "the walk found too few forms: it is broken"
    assert "intake.new_referral" in forms and "directory.self_referral" in forms
    # Every exception is a real form endpoint, with its reason.
    assert set(PRG_EXCEPTIONS) <= forms, set(PRG_EXCEPTIONS) - forms
    assert all(reason.strip() for reason in PRG_EXCEPTIONS.values())
    assert set(NOT_FORMS) <= post_endpoints(app)
    # The guard is installed on the app every other test uses.
    assert any(getattr(f, "__name__", "") == "refuse_a_page_after_post"
               for f in app.after_request_funcs.get(None, []))


def test_the_guard_refuses_a_page_after_a_post_and_allows_redirects_errors_and_json():
    app = Flask(__name__)
    app.testing = True  # as the `app` fixture: the guard's failure reaches the test
    guard_post_redirect_get(app)
    app.add_url_rule("/page", "page", lambda: "<p>Saved</p>", methods=["POST"])
    app.add_url_rule("/error", "error", lambda: ("<p>Fix this</p>", 422), methods=["POST"])
    app.add_url_rule("/redirect", "go", lambda: redirect("/"), methods=["POST"])
    app.add_url_rule("/json", "json", lambda: jsonify(ok=True), methods=["POST"])
    app.add_url_rule("/get", "get", lambda: "<p>A page</p>")
    client = app.test_client()

    with pytest.raises(PostWithoutRedirect, match="POST /page"):
        client.post("/page")
    assert client.post("/error").status_code == 422
    assert client.post("/redirect").status_code == 302
    assert client.post("/json").status_code == 200
    assert client.get("/get").status_code == 200


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_referral_sent_then_refreshed_is_stored_once(client, login_as, valid_form, db):  # noqa: F811
    login_as(Role.REFERRER)
    data = valid_form()

    sent = client.submit("/referrals/new", data)

    assert sent.status_code in (302, 303)
    before = count(db, Referral)
    for _ in range(2):  # the person presses refresh on the page they landed on
        assert client.get(sent.location).status_code == 200
    assert count(db, Referral) == before


def test_added_information_sent_then_refreshed_is_stored_once(client, login_as, make, db):
    gp = login_as(Role.REFERRER)
    open_one = make.referral(gp.practice)
    db.session.commit()

    sent = client._client.post("/referrals/add-information", data={
        "addition-nhs_number": open_one.patient.nhs_number, "addition-text": "New phone",
        "addition-csrf_token": client.csrf_token("/referrals/new")})

    assert sent.status_code in (302, 303)
    client.get(sent.location)
    client.get(sent.location)
    assert count(db, ReferralAddition) == 1


def test_marking_notifications_read_redirects(client, login_as, db):
    user = login_as(Role.CONNECTOR)
    notify(user, "test", "Something happened")
    db.session.commit()

    sent = client.submit("/notifications/read", {}, page="/notifications")

    assert sent.status_code in (302, 303)
    assert db.session.scalar(select(Notification.read_at)) is not None
