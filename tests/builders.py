"""Small builders for test data: `make.practice()`, `make.user(role)`, `make.referral()`."""
from __future__ import annotations

import itertools
from datetime import date

from referrals import workflow
from referrals.auth.service import create_user
from referrals.intake.service import (
    ConsentRecord,
    IntakeRequest,
    PersonDetails,
    ReasonEntry,
    create_referral,
)
from referrals.models import DirectoryOrganisation, Practice, ReferralStatus, Role, Sex, Team
from referrals.nhs_number import check_digit

S = ReferralStatus
# Moves that take a new referral to each status through the state machine.
PATH_TO = {
    S.RECEIVED: [],
    S.ACCEPTED: [S.ACCEPTED],
    S.IN_PROGRESS: [S.ACCEPTED, S.IN_PROGRESS],
    S.COMPLETED: [S.ACCEPTED, S.IN_PROGRESS, S.COMPLETED],
    S.DECLINED: [S.ACCEPTED, S.DECLINED],
    S.UNABLE_TO_CONTACT: [S.ACCEPTED, S.UNABLE_TO_CONTACT],
    S.REJECTED: [S.REJECTED],
    S.CANCELLED: [S.CANCELLED],
}


def test_nhs_numbers():
    """Valid NHS numbers from the never-issued 999 range, in order."""
    for n in itertools.count(1):
        first_nine = f"999{n:06d}"
        digit = check_digit(first_nine)
        if digit is not None:
            yield first_nine + str(digit)


test_nhs_numbers.__test__ = False  # a generator, not a test


class Builders:
    def __init__(self, session):
        self.session = session
        self._seq = itertools.count(1)
        self._numbers = test_nhs_numbers()

    def nhs_number(self) -> str:
        return next(self._numbers)

    def team(self, **kwargs) -> Team:
        team = Team(name=kwargs.pop("name", f"Team {next(self._seq)}"), **kwargs)
        self.session.add(team)
        self.session.flush()
        return team

    def practice(self, team: Team | None = None, **kwargs) -> Practice:
        n = next(self._seq)
        practice = Practice(
            ods_code=kwargs.pop("ods_code", f"T{n:05d}"),
            name=kwargs.pop("name", f"Practice {n}"),
            team=team if team is not None else self.team(),
            **kwargs,
        )
        self.session.add(practice)
        self.session.flush()
        return practice

    def user(self, role: Role, *, practice=None, team=None, password="correct horse battery",
             **kwargs):
        role = Role(role)
        if role.belongs_to_practice and practice is None:
            practice = self.practice()
        if role.belongs_to_team and team is None:
            team = practice.team if practice is not None else self.team()
        if role.belongs_to_organisation and kwargs.get("organisation") is None:
            kwargs["organisation"] = self.organisation()  # issue 15: a partner's
        return create_user(
            email=kwargs.pop("email", f"{role.value}{next(self._seq)}@test.example"),
            name=kwargs.pop("name", f"{role.label} {next(self._seq)}"),
            role=role, password=password, practice=practice, team=team, **kwargs,
        )

    def organisation(self, **kwargs) -> DirectoryOrganisation:
        """Issue 15: a directory organisation (a partner works for one)."""
        n = next(self._seq)
        organisation = DirectoryOrganisation(id=kwargs.pop("id", f"org-{n}"),
                                             name=kwargs.pop("name", f"Organisation {n}"),
                                             **kwargs)
        self.session.add(organisation)
        self.session.flush()
        return organisation

    def intake(self, practice: Practice, **overrides) -> IntakeRequest:
        person = dict(
            nhs_number=self.nhs_number(), given_name="Ada", family_name="Lovelace",
            birth_date=date(1950, 3, 31), sex=Sex.FEMALE, postcode="LS1 4AP",
            phone="07700 900123",
        )
        person.update(overrides.pop("person", {}))
        fields = dict(
            person=PersonDetails(**person),
            reasons=[ReasonEntry("loneliness")],
            practice=practice,
            consent=ConsentRecord(given=True),
            what_matters="Getting out more",
            no_known_risks=True,
        )
        fields.update(overrides)
        return IntakeRequest(**fields)

    def referral(self, practice: Practice | None = None, *, status=S.RECEIVED, referrer=None,
                 connector=None, **overrides):
        practice = practice or (referrer.practice if referrer else self.practice())
        referrer = referrer or self.user(Role.REFERRER, practice=practice)
        referral = create_referral(self.intake(practice, **overrides), actor=referrer)
        if connector is not None:
            referral.connector = connector
        for step in PATH_TO[ReferralStatus(status)]:
            workflow.transition(referral, step, actor=referrer, reason="test")
        self.session.flush()
        return referral
