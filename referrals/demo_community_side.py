"""The demo's community side (issue 15), after the town and its referrals are built: the
volunteers (Dave first: matching finds him), a weekly-call request to match, the
champion, the phone line's calls, and the last quarter's figures for the hub report.
Partners are added with the referrals (their handovers are connections on them)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from referrals import demo_community, demo_matching, demo_numbers, demo_volunteers
from referrals.models import Role, Team, User

# Accounts made with the staff (demo.STAFF): Dave the volunteer, Maya the champion and
# Bev the partner (made with her organisation by referrals/demo_partners.py).
STAFF = [
    ("volunteer@kindly.example", "Dave Wilson", Role.VOLUNTEER, None, None),
    *demo_community.STAFF,
    ("partner@kindly.example", "Bev Collins", Role.PARTNER, None, None),
]


def build(team: Team, accounts: list[User], *, password: str, now: datetime,
          progress: Callable[[str], None] = lambda _: None) -> list[User]:
    """Add the community side; returns the accounts it made. Flushes."""
    demo_numbers.add(team, now=now)
    demo_volunteers.build(team, accounts, now=now, progress=progress)
    made = demo_matching.build(team=team, password=password, now=now)
    demo_community.build(team, accounts + made, now=now, progress=progress)
    # The champion's account sits in her volunteer record's team, as approval does.
    for account in accounts:
        if account.email == demo_community.CHAMPION_EMAIL and account.team_id is None:
            account.team = team
    return made
