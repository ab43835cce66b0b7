"""Letters needing action: a letter asking the practice to do something needs action until
someone there marks it done, by name and time; the count is in every practice page's
navigation, and the inbox can show only those letters. The newest version counts."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from referrals.extensions import db as _db
from referrals.models import (
    AuditEvent,
    LetterTrigger,
    OutcomeLetter,
    Referral,
    ReferralStatus,
    Role,
    utcnow,
)
from reports import letter_actions, store
from reports.letter_actions import ActionsAlreadyDone, LetterActionsRefused, letter_counts

S = ReferralStatus
ACTIONS = "Please review her pain relief."


@pytest.fixture(scope="module")
def tiny_pdf() -> bytes:
    """One real PDF, rendered once: these tests are about the letter's row, not its text."""
    from reports.pdf import render_pdf

    return render_pdf("<p>Outcome letter</p>")


@pytest.fixture
def letter_for(db, make, tiny_pdf):
    """`letter_for(practice, gp_actions=..., referral=None)`: store the next version of a
    (closed) referral's letter, asking for `gp_actions` (blank: nothing)."""

    def build(practice=None, *, gp_actions=ACTIONS, referral=None, minutes=0):
        referral = referral or make.referral(practice, status=S.COMPLETED)
        referral.gp_actions = gp_actions
        letter = store.store_letter(referral, tiny_pdf, trigger=LetterTrigger.ON_DEMAND,
                                    actor=None, actor_label="test",
                                    now=utcnow() + timedelta(minutes=minutes))
        db.session.commit()
        return letter

    return build


# --- the service ------------------------------------------------------------------------


def test_a_letter_with_gp_actions_needs_action_until_someone_marks_them_done(
        db, make, letter_for):
    practice = make.practice()
    gp, manager = make.user(Role.REFERRER, practice=practice), make.user(Role.MANAGER,
                                                                         practice=practice)
    letter = letter_for(practice)
    letter_for(practice, gp_actions="   ")  # a letter with nothing to do
    assert letter.has_actions
    assert letter_counts(gp) == letter_actions.LetterCounts(unread=2, needs_action=1)

    letter_actions.mark_actions_done(letter, actor=manager)
    db.session.commit()

    assert letter.actions_done_by == manager and letter.actions_done_at is not None
    assert letter_counts(gp).needs_action == 0
    assert letter_counts(gp).unread == 2  # marking actions done is not reading the letter
    audit = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_type == "outcome-letter", AuditEvent.action == "update")).one()
    assert audit.actor_id == manager.id and audit.entity_id == letter.id
    assert audit.patient_id is not None and audit.detail["actions_done"] is True


def test_a_letter_without_actions_cannot_be_marked(db, make, letter_for):
    practice = make.practice()
    letter = letter_for(practice, gp_actions="")

    with pytest.raises(LetterActionsRefused, match="does not ask"):
        letter_actions.mark_actions_done(letter, actor=make.user(Role.REFERRER,
                                                                 practice=practice))


def test_the_second_person_to_mark_is_told_who_did_it_first(db, make, letter_for):
    practice = make.practice()
    first, second = (make.user(Role.REFERRER, practice=practice) for _ in range(2))
    letter = letter_for(practice)
    letter_actions.mark_actions_done(letter, actor=first)

    with pytest.raises(ActionsAlreadyDone) as refused:
        letter_actions.mark_actions_done(letter, actor=second)

    assert refused.value.letter.actions_done_by == first


def test_the_newest_version_of_a_letter_decides_what_needs_action(db, make, letter_for):
    practice = make.practice()
    gp = make.user(Role.REFERRER, practice=practice)
    v1 = letter_for(practice)
    referral = db.session.get(Referral, v1.referral_id)
    letter_actions.mark_actions_done(v1, actor=gp)
    # A newer version asking for something again needs action, though v1 was done.
    v2 = letter_for(referral=referral, minutes=1)
    assert letter_counts(gp).needs_action == 1
    assert db.session.scalars(select(OutcomeLetter.id).where(
        letter_actions.needs_action())).all() == [v2.id]
    # A newer version asking for nothing settles it, though v2 was never marked.
    v3 = letter_for(referral=referral, gp_actions="", minutes=2)
    assert not v3.has_actions
    assert letter_counts(gp).needs_action == 0
    # An older version's actions can no longer be marked: the newest's are what count.
    with pytest.raises(LetterActionsRefused, match="newer version"):
        letter_actions.mark_actions_done(v2, actor=gp)


def test_counts_are_the_practices_own(db, make, letter_for):
    mine, theirs = make.practice(), make.practice()
    letter_for(mine)
    letter_for(theirs)
    letter_for(theirs)

    assert letter_counts(make.user(Role.MANAGER, practice=mine)).needs_action == 1
    assert letter_counts(make.user(Role.CONNECTOR)).needs_action == 0


# --- the navigation -------------------------------------------------------------------


def _badge_text(html: str) -> str:
    """The letters item of the navigation as a screen reader hears it."""
    item = re.search(r'href="/letters"[^>]*>(.*?)</a>', html, re.DOTALL).group(1)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip()


def test_every_practice_page_counts_letters_needing_action_in_the_navigation(
        client, login_as, make, letter_for):
    practice = make.practice()
    letter_for(practice)
    letter_for(practice, gp_actions="")
    login_as(Role.REFERRER, practice=practice)
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    engine = _db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        html = client.get("/referrals").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    assert _badge_text(html) == "Outcome letters , 1 needs action , 2 unread"
    # One statement for both counts, per page.
    assert sum("outcome_letter" in s for s in statements) == 1


def test_no_badge_when_nothing_waits_and_none_for_the_hub(client, login_as, make):
    login_as(Role.CONNECTOR)
    html = client.get("/caseload").get_data(as_text=True)
    assert "kindly-nav-badge" not in html


# --- the inbox and marking done ---------------------------------------------------------


def test_the_inbox_shows_only_letters_needing_action_on_request(
        client, login_as, make, letter_for):
    practice = make.practice()
    pending = letter_for(practice, referral=make.referral(practice, status=S.COMPLETED,
                                                          person={"given_name": "Winifred"}))
    letter_for(practice, referral=make.referral(practice, status=S.COMPLETED,
                                                person={"given_name": "Bartholomew"}),
               gp_actions="")
    login_as(Role.REFERRER, practice=practice)

    needs = client.get("/letters?show=needs-action").get_data(as_text=True)
    everything = client.get("/letters").get_data(as_text=True)
    odd = client.get("/letters?show=<script>").get_data(as_text=True)

    assert "Winifred" in needs and "Bartholomew" not in needs
    assert 'aria-current="page"><strong>Needs action (1)' in needs
    assert f'/letters/{pending.id}/actions-done' in needs
    assert "Winifred" in everything and "Bartholomew" in everything
    assert "Bartholomew" in odd  # an unknown filter shows everything


def test_marking_actions_done_names_the_person_and_leaves_needs_action(
        client, login_as, make, letter_for, db):
    practice = make.practice()
    letter = letter_for(practice)
    me = login_as(Role.MANAGER, practice=practice, name="Sandra Lowe")

    response = client.submit(f"/letters/{letter.id}/actions-done", {"show": "needs-action"},
                             page="/letters?show=needs-action")

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/letters?show=needs-action")
    after = client.get("/letters?show=needs-action").get_data(as_text=True)
    assert "marked as done" in after and "No letters need action" in after
    assert "Needs action (0)" in after and "need action" not in _badge_text(after)
    inbox = client.get("/letters").get_data(as_text=True)
    assert re.search(r"Actions done by Sandra Lowe on \d+ \w{3} \d{4}, \d\d:\d\d", inbox)
    db.session.expire_all()
    assert db.session.get(OutcomeLetter, letter.id).actions_done_by_id == me.id
    # Again (a second tab): a clear answer, not a 500, and the first mark is kept.
    again = client.submit(f"/letters/{letter.id}/actions-done", {}, page="/letters",
                          follow_redirects=True)
    assert again.status_code == 200
    assert re.search(r"Sandra Lowe already marked the actions for KND-\d{4}-\d+ as done, on "
                     r"\d+ \w{3} \d{4}, \d\d:\d\d\.", again.get_data(as_text=True))


def test_only_the_letters_own_practice_may_mark_it_done(client, login_as, make, letter_for,
                                                         db):
    letter = letter_for(make.practice())

    login_as(Role.REFERRER, practice=make.practice())
    assert client.submit(f"/letters/{letter.id}/actions-done", {},
                         page="/letters").status_code == 404
    assert client.submit("/letters/2147483647/actions-done", {},
                         page="/letters").status_code == 404
    db.session.expire_all()
    assert db.session.get(OutcomeLetter, letter.id).actions_done_at is None


def test_a_connector_cannot_mark_a_letters_actions_done(client, login_as, make, letter_for,
                                                        db):
    practice = make.practice()
    letter = letter_for(practice)
    login_as(Role.CONNECTOR, team=practice.team)

    assert client.submit(f"/letters/{letter.id}/actions-done", {},
                         page="/caseload").status_code == 403
    db.session.expire_all()
    assert db.session.get(OutcomeLetter, letter.id).actions_done_at is None


def test_marking_done_needs_the_forms_csrf_token(client, login_as, make, letter_for):
    practice = make.practice()
    letter = letter_for(practice)
    login_as(Role.REFERRER, practice=practice)

    assert client.post(f"/letters/{letter.id}/actions-done").status_code == 400


# --- the migration ------------------------------------------------------------------------


def test_the_migration_marks_existing_letters_with_gp_actions_as_needing_action(tmp_path):
    """Letters made before revision 9a41943f828c take has_actions from their referral."""
    import flask_migrate

    from tests.builders import Builders
    from tests.conftest import migrated_app

    with migrated_app(f"sqlite:///{tmp_path / 'backfill.db'}") as app, app.app_context():
        make = Builders(_db.session)
        practice = make.practice()
        letters = {}
        for name, actions in (("asks", ACTIONS), ("quiet", ""), ("blank", "  \n ")):
            referral = make.referral(practice, status=S.COMPLETED)
            referral.gp_actions = actions
            letters[name] = OutcomeLetter(
                referral_id=referral.id, practice_id=practice.id, number=1,
                trigger=LetterTrigger.COMPLETED, sha256="0" * 64, size=4, pdf=b"%PDF")
            _db.session.add(letters[name])
        _db.session.commit()
        ids = {name: letter.id for name, letter in letters.items()}
        _db.session.remove()
        flask_migrate.downgrade(revision="c8e459a185d9")
        flask_migrate.upgrade()

        flagged = dict(_db.session.execute(
            select(OutcomeLetter.id, OutcomeLetter.has_actions)).all())
        assert flagged == {ids["asks"]: True, ids["quiet"]: False, ids["blank"]: False}
        _db.session.remove()


def test_the_referral_page_offers_mark_done_and_then_says_who_did_it(
        client, login_as, make, letter_for):
    practice = make.practice()
    letter = letter_for(practice)
    login_as(Role.REFERRER, practice=practice, name="Dr Priya Shah")
    page = f"/referrals/{letter.referral_id}"

    before = client.get(page).get_data(as_text=True)
    response = client.submit(f"/letters/{letter.id}/actions-done", {"show": "referral"},
                             page=page)
    after = client.get(page).get_data(as_text=True)

    assert "Needs action" in before and "Mark actions as done" in before
    assert response.status_code == 303 and response.headers["Location"].endswith(page)
    assert "Mark actions as done" not in after
    assert re.search(r"Actions done by Dr Priya Shah on \d+ \w{3} \d{4}, \d\d:\d\d", after)
