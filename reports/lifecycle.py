"""When letters are made: automatically as a referral closes with an outcome."""
from __future__ import annotations

import logging

from flask import current_app

from referrals.extensions import db
from referrals.models import LetterTrigger, ReferralStatus
from reports import store

log = logging.getLogger(__name__)

TRIGGERS = {
    ReferralStatus.COMPLETED: LetterTrigger.COMPLETED,
    ReferralStatus.DECLINED: LetterTrigger.DECLINED,
    ReferralStatus.UNABLE_TO_CONTACT: LetterTrigger.UNABLE_TO_CONTACT,
}


def on_referral_closed(referral, *, event=None, actor=None, actor_label="", now=None,
                       **_) -> None:
    """Receiver for referrals.signals.referral_closed (connected by create_app).

    Writes the letter in the closing's own transaction, so the two are committed
    together. A letter that cannot be made must not undo the closing: its work is
    rolled back to a savepoint and the referral stays on `store.outstanding()` for
    `flask letters` or the connector's "Produce a new version".
    """
    if not current_app.config.get("LETTERS_ON_CLOSE"):
        return
    trigger = TRIGGERS.get(referral.status)
    if trigger is None:
        return
    try:
        with db.session.begin_nested():
            store.produce_letter(referral, trigger=trigger, actor=actor,
                                 actor_label=actor_label, now=now)
    except Exception:  # any failure at all: keep the closing, report the letter
        log.exception("Outcome letter for referral %s (%s) not produced; it is left "
                      "outstanding", referral.id, referral.reference)
