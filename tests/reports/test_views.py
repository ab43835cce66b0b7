"""The practice's outcome-letter inbox, the PDF download, and a new version on demand:
a letter is only visible to its own practice and team."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from referrals.models import (
    AuditEvent,
    LetterTrigger,
    OutcomeLetter,
    ReferralStatus,
    Role,
    utcnow,
)
from reports import letters, store

S = ReferralStatus


@pytest.fixture
def lettered(db, make):
    """`lettered(practice, ...)`: a closed referral with `versions` stored letters."""

    def build(practice, *, connector=None, status=S.COMPLETED, versions=1, at=None, **intake):
        referral = make.referral(practice, connector=connector, status=status, **intake)
        for n in range(versions):
            store.produce_letter(referral, trigger=LetterTrigger.ON_DEMAND, actor=None,
                                 actor_label="test", now=(at or utcnow()) + timedelta(minutes=n))
        db.session.commit()
        return referral

    return build


def pdf_url(referral, version=None) -> str:
    return f"/referrals/{referral.id}/letter.pdf" + (f"?version={version}" if version else "")


# --- the download ---------------------------------------------------------------------------


def test_the_practice_downloads_the_latest_letter_as_an_inline_pdf(
        client, login_as, letter_world, lettered):
    referral = lettered(letter_world.practice_a, versions=2)
    login_as(Role.REFERRER, practice=letter_world.practice_a)

    response = client.get(pdf_url(referral))

    assert response.status_code == 200
    assert response.data.startswith(b"%PDF-")
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'inline; filename="{referral.reference}-outcome-letter-v2.pdf"')
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.data == store.latest_letter(referral).pdf


def test_an_earlier_version_is_downloaded_by_its_number(client, login_as, letter_world,
                                                        lettered):
    referral = lettered(letter_world.practice_a, versions=2)
    login_as(Role.MANAGER, practice=letter_world.practice_a)

    response = client.get(pdf_url(referral, 1))

    assert response.status_code == 200
    assert "-outcome-letter-v1.pdf" in response.headers["Content-Disposition"]
    assert response.data == store.letter_version(referral, 1).pdf


@pytest.mark.parametrize("version", ["3", "0", "-1", "x", "1.0", "99999999999", "١"])
def test_a_version_that_does_not_exist_is_not_found(client, login_as, letter_world, lettered,
                                                     version):
    referral = lettered(letter_world.practice_a, versions=2)
    login_as(Role.REFERRER, practice=letter_world.practice_a)

    assert client.get(f"{pdf_url(referral)}?version={version}").status_code == 404


def test_a_referral_without_a_letter_has_nothing_to_download(client, login_as, make,
                                                              letter_world):
    referral = make.referral(letter_world.practice_a, status=S.COMPLETED)
    login_as(Role.REFERRER, practice=letter_world.practice_a)

    assert client.get(pdf_url(referral)).status_code == 404
    assert client.get("/referrals/2147483647/letter.pdf").status_code == 404


def test_every_download_is_audited(db, client, login_as, letter_world, lettered):
    referral = lettered(letter_world.practice_a)
    user = login_as(Role.REFERRER, practice=letter_world.practice_a)

    client.get(pdf_url(referral))
    client.get(pdf_url(referral))

    reads = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "read", AuditEvent.entity_type == "outcome-letter")).all()
    assert len(reads) == 2
    assert {(e.actor_id, e.patient_id, e.entity_id) for e in reads} == {
        (user.id, referral.patient_id, store.latest_letter(referral).id)}


# --- who may see a letter -------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.REFERRER, Role.MANAGER])
def test_another_practice_cannot_see_the_letter(client, login_as, letter_world, lettered, role):
    referral = lettered(letter_world.practice_a)
    login_as(role, practice=letter_world.practice_b)  # same connector team, other practice

    assert client.get(pdf_url(referral)).status_code == 404
    assert client.get(pdf_url(referral, 1)).status_code == 404
    assert referral.reference not in client.get("/letters").get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.CONNECTOR, Role.COORDINATOR])
def test_another_team_cannot_see_the_letter(client, login_as, make, letter_world, lettered,
                                            role):
    referral = lettered(letter_world.practice_a, connector=letter_world.connector)
    login_as(role, team=make.team())

    assert client.get(pdf_url(referral)).status_code == 404


def test_a_connector_of_the_team_not_holding_the_referral_cannot_see_it(
        client, login_as, letter_world, lettered):
    referral = lettered(letter_world.practice_a, connector=letter_world.connector)
    login_as(Role.CONNECTOR, team=letter_world.team)

    assert client.get(pdf_url(referral)).status_code == 404


def test_the_connector_holding_it_and_the_team_coordinator_can_read_it(
        client, login_as, letter_world, lettered):
    connector = login_as(Role.CONNECTOR, team=letter_world.team)
    referral = lettered(letter_world.practice_a, connector=connector)
    assert client.get(pdf_url(referral)).status_code == 200

    client.post("/logout", data={"csrf_token": client.csrf_token("/notifications")})
    login_as(Role.COORDINATOR, team=letter_world.team)
    assert client.get(pdf_url(referral)).status_code == 200


@pytest.mark.parametrize("url", ["/letters", "/referrals/{id}/letter.pdf"])
def test_an_administrator_sees_no_letters(client, login_as, letter_world, lettered, url):
    referral = lettered(letter_world.practice_a)
    login_as(Role.ADMIN)

    assert client.get(url.format(id=referral.id)).status_code == 403


@pytest.mark.parametrize("role", [Role.CONNECTOR, Role.COORDINATOR])
def test_the_inbox_is_for_the_practice(client, login_as, letter_world, role):
    login_as(role, team=letter_world.team)

    assert client.get("/letters").status_code == 403


def test_hub_reads_leave_the_practice_unread_mark_alone(db, client, login_as, letter_world,
                                                       lettered):
    login_as(Role.COORDINATOR, team=letter_world.team)
    referral = lettered(letter_world.practice_a)

    client.get(pdf_url(referral))

    db.session.expire_all()
    assert store.latest_letter(referral).read_at is None


# --- the inbox ------------------------------------------------------------------------------


def inbox_order(page: str, references: list[str]) -> list[str]:
    return sorted(references, key=page.index)


def test_the_inbox_lists_unread_letters_first_then_newest(db, client, login_as, letter_world,
                                                          lettered):
    practice = letter_world.practice_a
    start = utcnow() - timedelta(days=10)
    oldest = lettered(practice, at=start, person={"given_name": "Olive"})
    middle = lettered(practice, at=start + timedelta(days=1), person={"given_name": "Milo"})
    newest = lettered(practice, at=start + timedelta(days=2), person={"given_name": "Nia"})
    elsewhere = lettered(letter_world.practice_b, person={"given_name": "Bea"})
    user = login_as(Role.REFERRER, practice=practice)
    refs = [oldest.reference, middle.reference, newest.reference]

    page = client.get("/letters").get_data(as_text=True)
    assert inbox_order(page, refs) == [newest.reference, middle.reference, oldest.reference]
    assert "3 unread" in page
    assert "Olive Lovelace" in page
    assert elsewhere.reference not in page and "Bea Lovelace" not in page

    assert client.get(pdf_url(newest)).status_code == 200  # opening marks it read
    page = client.get("/letters").get_data(as_text=True)
    assert inbox_order(page, refs) == [middle.reference, oldest.reference, newest.reference]
    assert "2 unread" in page
    letter = db.session.scalars(select(OutcomeLetter).where(
        OutcomeLetter.referral_id == newest.id)).one()
    assert letter.read_by_id == user.id and letter.read_at is not None


def test_only_the_first_opening_sets_the_read_receipt(db, client, login_as, make, letter_world,
                                                      lettered):
    referral = lettered(letter_world.practice_a)
    first = login_as(Role.REFERRER, practice=letter_world.practice_a)
    client.get(pdf_url(referral))
    db.session.expire_all()
    read_at = store.latest_letter(referral).read_at

    client.post("/logout", data={"csrf_token": client.csrf_token("/notifications")})
    login_as(Role.MANAGER, practice=letter_world.practice_a)
    client.get(pdf_url(referral))

    db.session.expire_all()
    letter = store.latest_letter(referral)
    assert (letter.read_by_id, letter.read_at) == (first.id, read_at)


def test_the_inbox_lists_every_version_and_links_each(client, login_as, letter_world, lettered):
    referral = lettered(letter_world.practice_a, versions=2)
    login_as(Role.MANAGER, practice=letter_world.practice_a)

    page = client.get("/letters").get_data(as_text=True)

    assert f'href="/referrals/{referral.id}/letter.pdf?version=1"' in page
    assert f'href="/referrals/{referral.id}/letter.pdf?version=2"' in page
    assert "Completed" in page


def test_the_inbox_is_audited_and_in_the_practice_navigation(db, client, login_as,
                                                             letter_world, lettered):
    referral = lettered(letter_world.practice_a)
    login_as(Role.REFERRER, practice=letter_world.practice_a)

    page = client.get("/letters").get_data(as_text=True)

    assert 'href="/letters"' in page
    listed = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "list", AuditEvent.entity_type == "outcome-letter")).one()
    assert listed.detail["shown"] == [store.latest_letter(referral).id]


def test_an_empty_inbox_says_so(client, login_as):
    login_as(Role.REFERRER)

    page = client.get("/letters").get_data(as_text=True)

    assert "No outcome letters yet" in page


def test_the_inbox_pages(app, client, login_as, letter_world, lettered, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    referrals = [lettered(letter_world.practice_a) for _ in range(3)]
    login_as(Role.REFERRER, practice=letter_world.practice_a)

    first = client.get("/letters").get_data(as_text=True)
    second = client.get("/letters?page=2").get_data(as_text=True)

    shown = [r.reference for r in referrals]
    assert sum(ref in first for ref in shown) == 2 and "/letters?page=2" in first
    assert sum(ref in second for ref in shown) == 1
    assert client.get("/letters?page=abc").status_code == 200


# --- producing a new version ----------------------------------------------------------------


def workspace(referral) -> str:
    return f"/caseload/referrals/{referral.id}"


def produce_url(referral) -> str:
    return f"/caseload/referrals/{referral.id}/letter"


def test_the_connector_produces_a_new_version_from_the_workspace(
        db, client, login_as, letter_world, lettered):
    connector = login_as(Role.CONNECTOR, team=letter_world.team)
    referral = lettered(letter_world.practice_a, connector=connector)

    page = client.get(workspace(referral)).get_data(as_text=True)
    assert "Outcome letter" in page and "Produce a new version" in page
    assert f'href="/referrals/{referral.id}/letter.pdf?version=1"' in page

    response = client.submit(produce_url(referral), {}, page=workspace(referral))

    assert response.status_code == 302
    assert response.location.endswith(workspace(referral) + "#outcome-letter")
    db.session.expire_all()
    latest = store.latest_letter(referral)
    assert (latest.number, latest.trigger, latest.created_by_id) == (
        2, LetterTrigger.ON_DEMAND, connector.id)
    page = client.get(workspace(referral)).get_data(as_text=True)
    assert "The outcome letter is being prepared." in page  # rendered after the request
    assert "letter.pdf?version=2" in page


def test_a_coordinator_may_produce_the_first_letter(db, client, login_as, make, letter_world):
    referral = make.referral(letter_world.practice_a, connector=letter_world.connector,
                             status=S.DECLINED)
    db.session.commit()
    login_as(Role.COORDINATOR, team=letter_world.team)
    assert "Produce the outcome letter" in client.get(workspace(referral)).get_data(as_text=True)

    client.submit(produce_url(referral), {}, page=workspace(referral))

    db.session.expire_all()
    assert store.latest_letter(referral).number == 1


def test_producing_needs_the_csrf_token(db, client, login_as, letter_world, lettered):
    connector = login_as(Role.CONNECTOR, team=letter_world.team)
    referral = lettered(letter_world.practice_a, connector=connector)

    response = client.post(produce_url(referral))

    assert response.status_code == 400
    db.session.expire_all()
    assert store.latest_letter(referral).number == 1


def test_no_letter_for_a_referral_still_open(db, client, login_as, make, letter_world):
    connector = login_as(Role.CONNECTOR, team=letter_world.team)
    referral = make.referral(letter_world.practice_a, connector=connector, status=S.IN_PROGRESS)
    db.session.commit()
    assert "Produce" not in client.get(workspace(referral)).get_data(as_text=True)

    response = client.submit(produce_url(referral), {}, page=workspace(referral))

    assert response.status_code == 302
    assert store.latest_letter(referral) is None


@pytest.mark.parametrize("who", ["colleague", "other_team"])
def test_a_connector_not_holding_it_cannot_produce_it(db, client, login_as, make, letter_world,
                                                      lettered, who):
    referral = lettered(letter_world.practice_a, connector=letter_world.connector)
    login_as(Role.CONNECTOR, team=letter_world.team if who == "colleague" else make.team())

    response = client.submit(produce_url(referral), {}, page="/notifications")

    assert response.status_code == 404
    db.session.expire_all()
    assert store.latest_letter(referral).number == 1


@pytest.mark.parametrize("role", [Role.REFERRER, Role.MANAGER, Role.ADMIN])
def test_only_the_hub_produces_letters(client, login_as, letter_world, lettered, role):
    referral = lettered(letter_world.practice_a)
    login_as(role, practice=letter_world.practice_a if role is not Role.ADMIN else None)

    response = client.submit(produce_url(referral), {}, page="/notifications")

    assert response.status_code == 403


def test_a_failed_rendering_is_reported_not_a_server_error(db, client, login_as, letter_world,
                                                          lettered, monkeypatch):
    connector = login_as(Role.CONNECTOR, team=letter_world.team)
    referral = lettered(letter_world.practice_a, connector=connector)

    def broken(html):
        raise RuntimeError("no fonts")

    monkeypatch.setattr(letters, "print_letter", broken)
    response = client.submit(produce_url(referral), {}, page=workspace(referral),
                             follow_redirects=True)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Being prepared" in page and "The last attempt failed (RuntimeError: no fonts)" in page
    assert "Produce a new version" not in page  # asked once is enough
    assert store.latest_letter(referral).number == 1


def test_the_referral_page_links_to_the_letter(client, login_as, letter_world, lettered):
    referral = lettered(letter_world.practice_a)
    login_as(Role.REFERRER, practice=letter_world.practice_a)

    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)

    assert f'href="/referrals/{referral.id}/letter.pdf"' in page


# --- closing through the form, end to end (the real letter) ------------------------------


def test_closing_through_the_form_writes_a_letter_the_practice_then_reads(
        db, client, login_as, make, letter_world, letters_on_close):
    from tests.reports.conftest import pdftotext

    connector = login_as(Role.CONNECTOR, team=letter_world.team)
    referral = make.referral(letter_world.practice_a, connector=connector, status=S.IN_PROGRESS)
    db.session.commit()
    close = f"/caseload/referrals/{referral.id}/close"
    page = client.get(close).get_data(as_text=True)
    assert "Plan and requested actions for the GP" in page
    assert "Share only coded information with the practice" in page

    response = client.submit(close, {
        "closing": "completed", "note": "Goes to the walking group now.",
        "gp_actions": "Please review her pain relief at the next appointment."})

    assert response.status_code == 302
    db.session.expire_all()
    letter = store.latest_letter(referral)
    assert letter.trigger is LetterTrigger.COMPLETED and letter.coded_only is False
    assert "Please review her pain relief" in pdftotext(letter.pdf)

    client.post("/logout", data={"csrf_token": client.csrf_token("/notifications")})
    login_as(Role.REFERRER, practice=letter_world.practice_a)
    assert referral.reference in client.get("/letters").get_data(as_text=True)
    response = client.get(pdf_url(referral))
    assert response.status_code == 200
    assert "Please review her pain relief" in pdftotext(response.data)


def test_closing_with_coded_information_only_is_kept_on_the_letter(
        db, client, login_as, make, letter_world, letters_on_close):
    connector = login_as(Role.CONNECTOR, team=letter_world.team)
    referral = make.referral(letter_world.practice_a, connector=connector, status=S.ACCEPTED)
    db.session.commit()

    client.submit(f"/caseload/referrals/{referral.id}/close", {
        "closing": "declined", "note": "Does not want the service.", "coded_only": "y"})

    db.session.expire_all()
    assert referral.status is S.DECLINED and referral.coded_only is True
    assert store.latest_letter(referral).coded_only is True
