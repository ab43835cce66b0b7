"""Fixtures for outcome measures: a hub with a referral its connector holds, and a
licensed organisation's wording file (placeholder text, never the real instrument's)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from referrals.models import Practice, Referral, ReferralStatus, Role, Team, User, utcnow
from referrals.outcomes.instruments import EXTENSION, load_definitions

LONDON = ZoneInfo("Europe/London")


def local_today() -> date:
    return utcnow().astimezone(LONDON).date()


@dataclass
class Hub:
    team: Team
    practice: Practice
    connector: User
    colleague: User
    coordinator: User
    referral: Referral  # in progress, held by `connector`


@pytest.fixture
def hub(make) -> Hub:
    team = make.team()
    practice = make.practice(team=team)
    connector = make.user(Role.CONNECTOR, team=team)
    referral = make.referral(practice, status=ReferralStatus.IN_PROGRESS, connector=connector)
    return Hub(team=team, practice=practice, connector=connector,
               colleague=make.user(Role.CONNECTOR, team=team),
               coordinator=make.user(Role.COORDINATOR, team=team), referral=referral)


def placeholder_wording(code: str, item_ids: list[str]) -> dict:
    """What an organisation's licensed file looks like, with made-up wording."""
    return {
        "code": code,
        "intro": f"Placeholder introduction for {code}.",
        "items": [{"id": item_id, "text": f"Placeholder question {n}"}
                  for n, item_id in enumerate(item_ids, start=1)],
        "licence": "Placeholder: used under the organisation's own licence.",
    }


SWEMWBS_ITEMS = ["optimistic", "useful", "relaxed", "dealing_with_problems",
                 "thinking_clearly", "close_to_others", "own_mind"]
MYCAW_ITEMS = ["concern_1", "concern_2", "wellbeing"]


@pytest.fixture
def licensed_files(tmp_path):
    """Licensed wording files for SWEMWBS and MYCaW, as an organisation would supply."""
    paths = []
    for code, items in (("swemwbs", SWEMWBS_ITEMS), ("mycaw", MYCAW_ITEMS)):
        path = tmp_path / f"{code}-licensed.json"
        path.write_text(json.dumps(placeholder_wording(code, items)))
        paths.append(path)
    return paths


@pytest.fixture
def licensed(app, monkeypatch, licensed_files):
    """The app with SWEMWBS and MYCaW configured from licensed files."""
    monkeypatch.setitem(app.extensions, EXTENSION, load_definitions(licensed_files))
    return app.extensions[EXTENSION]
