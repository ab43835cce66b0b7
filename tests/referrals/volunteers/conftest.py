"""Shared pieces of the volunteer tests (issue 15)."""
from __future__ import annotations

import time
from datetime import date

import pytest

from referrals.directory import ratelimit
from referrals.models import Volunteer, VolunteerStatus

SIGN_UP = "/volunteer"


@pytest.fixture
def team(make):
    """A hub serving one practice: the only hub a sign-up can go to."""
    return make.practice(name="Kindlebury Health Centre", postcode="KB1 1AB").team


@pytest.fixture
def signup(team, db):
    """Sign-up form data that passes every rule; override any field (None drops it)."""
    db.session.commit()

    def build(**overrides):
        data = {"given_name": "Dave", "family_name": "Wilson", "email": "dave@example.com",
                "phone": "07700 900 456", "postcode": "kb1 2aa", "offers": ["befriending_calls"],
                "skills": "", "availability": ["mon-morning", "wed-evening"],
                "availability_note": "", "travel_miles": "5", "consent": "y"}
        data.update(overrides)
        return {key: value for key, value in data.items() if value is not None}

    return build


def send(client, data, *, seconds_ago=60, **kwargs):
    """Post the sign-up as a person would: with its CSRF token, some time after seeing it."""
    secret = client.application.config["SECRET_KEY"]
    data = {"shown": ratelimit.shown_token(secret, at=time.time() - seconds_ago), **data}
    return client.submit(SIGN_UP, data, **kwargs)


@pytest.fixture
def volunteer(make, db):
    """Make a volunteer in `team` (any status, any checks) straight into the database."""

    def build(team, *, status=VolunteerStatus.APPLIED, references_on=None, dbs_on=None,
              email=None, **kwargs):
        volunteer = Volunteer(team=team, given_name=kwargs.pop("given_name", "Dave"),
                              family_name=kwargs.pop("family_name", "Wilson"),
                              email=email or f"volunteer{make.nhs_number()}@example.com",
                              phone="07700 900 456", postcode="KB1 2AA",
                              offers=["befriending_calls"], availability=["mon-morning"],
                              consent_to_contact=True, status=status,
                              references_checked_on=references_on, dbs_checked_on=dbs_on,
                              **kwargs)
        db.session.add(volunteer)
        db.session.flush()
        return volunteer

    return build


def years_ago(years: int, today: date | None = None) -> date:
    today = today or date.today()
    return today.replace(year=today.year - years)
