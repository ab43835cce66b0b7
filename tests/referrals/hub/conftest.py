"""Fixtures for the coordinator's hub: one team with a practice, its coordinator and connectors."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from referrals.intake.service import create_referral
from referrals.models import Role, utcnow
from tests.referrals.intake.conftest import Page


@pytest.fixture
def page():
    return Page


@pytest.fixture
def team(make):
    return make.team(name="Vale Connectors", first_contact_days=5)


@pytest.fixture
def practice(make, team):
    return make.practice(team=team)


@pytest.fixture
def other_team(make):
    return make.team(name="Hill Connectors")


@pytest.fixture
def connector(make):
    """A connector in `team` with `capacity` (None by default: routing gives them nothing)."""

    def build(team, capacity=None, **settings):
        person = make.user(Role.CONNECTOR, team=team, capacity=capacity,
                           **({"name": settings.pop("name")} if "name" in settings else {}))
        for key, value in settings.items():
            setattr(person, key, value)
        make.session.flush()
        return person

    return build


@pytest.fixture
def refer(make):
    """A referral from `practice` made `days_ago` days ago, through intake (and routing)."""

    def build(practice, *, days_ago: float = 0, **overrides):
        at: datetime = utcnow() - timedelta(days=days_ago)
        referrer = make.user(Role.REFERRER, practice=practice)
        return create_referral(make.intake(practice, **overrides), actor=referrer, now=at)

    return build
