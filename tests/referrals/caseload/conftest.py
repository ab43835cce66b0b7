"""Fixtures for casework: one team with a practice, its connectors and coordinator."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from referrals.models import Practice, Role, Team, User
from tests.referrals.intake.conftest import Page


@dataclass
class Hub:
    team: Team
    practice: Practice
    connector: User
    colleague: User
    coordinator: User
    other_team_connector: User


@pytest.fixture
def hub(make) -> Hub:
    team = make.team(max_contact_attempts=3)
    practice = make.practice(team=team)
    other = make.practice()
    return Hub(
        team=team,
        practice=practice,
        connector=make.user(Role.CONNECTOR, team=team),
        colleague=make.user(Role.CONNECTOR, team=team),
        coordinator=make.user(Role.COORDINATOR, team=team),
        other_team_connector=make.user(Role.CONNECTOR, team=other.team),
    )


@pytest.fixture
def page():
    return Page

