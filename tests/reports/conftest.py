"""Fixtures for letters: a hub (tests/referrals/caseload), a referral's story told through
the casework and matching services, and a PDF read back as text with pdftotext."""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from referrals.caseload import service as casework
from referrals.matching import service as matching
from referrals.models import (
    CompletionMode,
    ConnectionKind,
    ConnectionStatus,
    ContactChannel,
    ContactOutcome,
    Offer,
    OfferStatus,
    Referral,
    ReferralStatus,
    Timepoint,
)
from referrals.outcomes.service import record_measurement
from tests.referrals.caseload import conftest as caseload

hub = caseload.hub  # one team, its practice and connectors


def _pdf_tools_missing() -> str | None:
    """Why letters cannot be printed here (WeasyPrint's system libraries or poppler's
    pdftotext missing), or None."""
    try:
        import weasyprint  # noqa: F401  (loads Pango through cffi)
    except OSError as exc:
        return f"WeasyPrint cannot load its libraries: {exc}"
    if shutil.which("pdftotext") is None:
        return "pdftotext (poppler-utils) is not installed"
    return None


# Modules that import WeasyPrint cannot even be collected without Pango; the others skip
# with the reason (the fixture below), so a bare machine still says what it left out.
if _pdf_tools_missing() and not os.environ.get("KINDLY_REQUIRE_PDF"):
    collect_ignore = ["test_letters.py", "test_lifecycle.py", "test_pdf.py", "test_views.py",
                      "test_monthly.py"]


@pytest.fixture(autouse=True, scope="session")
def _pdf_tools():
    # A bare machine lacks Pango and poppler; .ci/run installs them and sets
    # KINDLY_REQUIRE_PDF so that CI fails instead of skipping.
    if reason := _pdf_tools_missing():
        if os.environ.get("KINDLY_REQUIRE_PDF"):
            pytest.fail(f"KINDLY_REQUIRE_PDF is set but {reason}")
        pytest.skip(reason)
ONS4 = ("life_satisfaction", "worthwhile", "happy", "anxious")
UCLA3 = ("lack_companionship", "left_out", "isolated")

S = ReferralStatus
C = ConnectionStatus


def pdftotext(pdf: bytes) -> str:
    """The PDF's text as poppler lays it out (pages end with a form feed)."""
    done = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], input=pdf,
                          capture_output=True, check=True)
    return done.stdout.decode("utf-8")


@dataclass
class Story:
    referral: Referral
    now: datetime  # when the letter is written


def offer(session, name: str) -> Offer:
    item = Offer(id=str(uuid.uuid4()), name=name, status=OfferStatus.ACTIVE)
    session.add(item)
    session.flush()
    return item


@pytest.fixture
def tell(db, make, hub):
    """`tell(...)`: a referral for `hub.practice` held by `hub.connector`, taken through a
    demo-sized story to `status` (completed by default): five contacts by phone and face to
    face, ONS4 and UCLA-3 at baseline and follow-up, three connections (attended, did not
    attend, no capacity), then closed with a note. Returns a Story."""

    def tell(status=S.COMPLETED, *, person=None, what_matters="Getting out more",
             closing_note="Goes to the walking group every week and feels much better.",
             gp_actions="", coded_only=False, connection_note="Would like someone to go "
             "with her the first time.", **intake) -> Story:
        connector = hub.connector
        referral = make.referral(hub.practice, connector=connector, status=S.ACCEPTED,
                                 person=person or {}, what_matters=what_matters, **intake)
        # Closing sets both (the connector answers them on the closing form); an open
        # referral's letter takes them as they stand.
        referral.gp_actions, referral.coded_only = gp_actions, coded_only
        closing = {"actor": connector, "note": closing_note, "gp_actions": gp_actions,
                   "coded_only": coded_only}
        start = referral.created_at
        at = lambda days: start + timedelta(days=days)
        if status is S.UNABLE_TO_CONTACT:
            for day in (1, 3, 5):
                casework.record_contact(referral, actor=connector, at=at(day),
                                        method=ContactChannel.PHONE,
                                        outcome=ContactOutcome.NO_ANSWER, now=at(day))
            casework.close_referral(referral, "unable_to_contact", **closing, now=at(6))
            return Story(referral, now=at(7))
        if status is S.DECLINED:
            casework.close_referral(referral, "declined", **closing, now=at(2))
            return Story(referral, now=at(3))
        contacts = [(1, ContactChannel.PHONE, ContactOutcome.NO_ANSWER),
                    (2, ContactChannel.PHONE, ContactOutcome.SPOKE),
                    (9, ContactChannel.FACE_TO_FACE, ContactOutcome.SPOKE),
                    (20, ContactChannel.PHONE, ContactOutcome.SPOKE),
                    (34, ContactChannel.FACE_TO_FACE, ContactOutcome.SPOKE)]
        for day, method, outcome in contacts:
            casework.record_contact(referral, actor=connector, at=at(day), method=method,
                                    outcome=outcome, notes="Working note: not for the GP.",
                                    now=at(day))
        for day, timepoint, ons4, ucla3 in (
                (2, Timepoint.BASELINE, (3, 5, 4, 7), (3, 3, 2)),
                (34, Timepoint.FOLLOW_UP, (6, 7, 6, 4), (2, 1, 1))):
            for code, answers in (("ons4", dict(zip(ONS4, ons4, strict=True))),
                                  ("ucla3", dict(zip(UCLA3, ucla3, strict=True)))):
                record_measurement(referral, code, timepoint=timepoint,
                                   mode=CompletionMode.ASSISTED, completed_on=at(day).date(),
                                   answers=answers, actor=connector, now=at(day))
        plan = [("Kindlebury Walking Group", ConnectionKind.REFERRAL, [C.ACCEPTED, C.ATTENDED],
                 connection_note),
                ("Tuesday Lunch Club", ConnectionKind.SIGNPOST, [C.ACCEPTED, C.DID_NOT_ATTEND],
                 ""),
                ("Community Garden", ConnectionKind.SIGNPOST, [C.NO_CAPACITY], "")]
        for k, (name, kind, moves, note) in enumerate(plan):
            on = at(10 + k).date()
            connection = matching.record_connection(
                referral, offer(db.session, name), kind=kind, on=on, notes=note,
                actor=connector, today=on, now=at(10 + k))
            for step, move in enumerate(moves, start=1):
                day = at(10 + k + 7 * step)
                matching.update_connection(connection, status=move, on=day.date(),
                                           actor=connector, today=day.date(), now=day)
        if status is S.COMPLETED:
            casework.close_referral(referral, "completed", **closing, now=at(40))
        return Story(referral, now=at(41))

    return tell


# --- helper "lifecycle": letters as referrals close, and who may see them -------------------


@pytest.fixture
def letters_on_close(app):
    """Turn on the letter written as a referral closes (TestConfig keeps it off)."""
    app.config["LETTERS_ON_CLOSE"] = True
    yield
    app.config["LETTERS_ON_CLOSE"] = False


@pytest.fixture
def letter_world(make):
    """Two teams; team A serves practices A and B. Everyone a letter could reach."""
    from types import SimpleNamespace

    from referrals.models import Role

    team = make.team(max_contact_attempts=3)
    practice_a = make.practice(team=team)
    practice_b = make.practice(team=team)
    other_team = make.team()
    return SimpleNamespace(
        team=team,
        practice_a=practice_a,
        practice_b=practice_b,
        referrer_a=make.user(Role.REFERRER, practice=practice_a),
        connector=make.user(Role.CONNECTOR, team=team),
        colleague=make.user(Role.CONNECTOR, team=team),
        coordinator=make.user(Role.COORDINATOR, team=team),
        other_connector=make.user(Role.CONNECTOR, team=other_team),
        other_coordinator=make.user(Role.COORDINATOR, team=other_team),
    )
