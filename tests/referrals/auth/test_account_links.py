"""Account pages end sessions: a manager deactivating a GP, or forcing a password reset,
signs them out everywhere; setting a password from a link signs out whoever else was
signed in. Each request runs in a fresh app context (the `web` fixture)."""
from __future__ import annotations

import re

from sqlalchemy import select

from referrals.models import OutboxMessage, Role
from tests.builders import Builders
from tests.referrals.auth.conftest import PASSWORD, REMEMBER, Account

NEW_PASSWORD = "seven yellow kites"


def gp_and_manager(web):
    """A GP, and a manager of the same practice signed in in a browser of their own."""
    with web.session() as session:
        make = Builders(session)
        gp = make.user(Role.REFERRER, password=PASSWORD)
        manager = make.user(Role.MANAGER, practice=gp.practice, password=PASSWORD)
        session.flush()
        gp, manager = Account(gp.id, gp.email), Account(manager.id, manager.email)
    browser = web.browser()
    assert browser.sign_in(manager).status_code == 302
    return gp, browser


def test_a_manager_deactivating_a_gp_signs_them_out_everywhere(web):
    gp, manager = gp_and_manager(web)
    desk, laptop = web.browser(), web.browser()
    desk.sign_in(gp)
    laptop.sign_in(gp, remember=True)
    remembered = laptop.cookie_value(REMEMBER)

    response = manager.submit(f"/users/{gp.id}/deactivate", {}, page=f"/users/{gp.id}")

    assert response.status_code == 303
    assert not desk.signed_in() and not laptop.signed_in()
    assert not web.browser_with(**{REMEMBER: remembered}).signed_in()
    assert desk.sign_in(gp).status_code == 401


def test_a_forced_reset_signs_them_out_and_the_link_signs_out_any_other_session(web):
    gp, manager = gp_and_manager(web)
    desk = web.browser()
    desk.sign_in(gp)

    assert manager.submit(f"/users/{gp.id}/reset-password", {}, page=f"/users/{gp.id}").status_code == 303
    assert not desk.signed_in()
    assert desk.sign_in(gp).status_code == 401  # the old password no longer works

    with web.session() as session:
        body = session.scalars(select(OutboxMessage.body)
                               .where(OutboxMessage.to == gp.email)).one()
    url = re.search(r"http://localhost(/set-password/\S+)", body)[1]
    phone = web.browser()
    response = phone.submit(url, {"new_password": NEW_PASSWORD,
                                  "confirm_password": NEW_PASSWORD})
    assert response.status_code == 303
    assert phone.sign_in(gp, password=NEW_PASSWORD).status_code == 302
    assert phone.signed_in()
