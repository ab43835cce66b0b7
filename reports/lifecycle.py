"""When letters are made: as a referral closes with an outcome, and when a connector asks.

Either way the letter is a job (referrals.jobs) that runs after the change has
committed: the closing never waits for WeasyPrint, nor holds its transaction (on
SQLite, the write lock) while a PDF renders, and a letter that fails is retried rather
than lost. Until it exists, the referral's pages say the letter is being prepared.
"""
from __future__ import annotations

import functools

from flask import current_app
from sqlalchemy.orm import selectinload

from referrals import jobs
from referrals.extensions import db
from referrals.models import (
    Connection,
    Job,
    LetterTrigger,
    Referral,
    ReferralStatus,
    User,
    utcnow,
)
from reports import store

KIND = "outcome-letter"
TRIGGERS = {
    ReferralStatus.COMPLETED: LetterTrigger.COMPLETED,
    ReferralStatus.DECLINED: LetterTrigger.DECLINED,
    ReferralStatus.UNABLE_TO_CONTACT: LetterTrigger.UNABLE_TO_CONTACT,
}


def on_referral_closed(referral, *, event=None, actor=None, actor_label="", now=None,
                       **_) -> None:
    """Receiver for referrals.signals.referral_closed (connected by create_app): the
    letter becomes a job in the closing's transaction, one per closing event, so two
    closings racing can never make two letters (only one of them commits)."""
    if not current_app.config.get("LETTERS_ON_CLOSE"):
        return
    trigger = TRIGGERS.get(referral.status)
    if trigger is None:
        return
    key = f"{_prefix(referral)}close-{event.id if event is not None else referral.version}"
    jobs.enqueue(KIND, key, _payload(referral, trigger, actor, actor_label), now=now)


def request_letter(referral: Referral, *, actor: User) -> bool:
    """A connector asks for a new version now. Asking twice from the same version of the
    referral makes one letter. Returns whether a new job was made."""
    key = f"{_prefix(referral)}v{referral.version}-on-demand"
    return jobs.enqueue(KIND, key, _payload(referral, LetterTrigger.ON_DEMAND, actor, "")) \
        is not None


def being_prepared(referral: Referral) -> Job | None:
    """The job of a letter for this referral still waiting to be rendered (or rendering)."""
    return jobs.waiting(KIND, _prefix(referral))


def _prefix(referral: Referral) -> str:
    return f"letter:{referral.id}:"


def _payload(referral: Referral, trigger: LetterTrigger, actor, actor_label: str) -> dict:
    return {"referral_id": referral.id, "trigger": trigger.value,
            "actor_id": actor.id if actor is not None else None, "actor_label": actor_label}


# --- the job's two halves (registered by create_app) ------------------------------------


def prepare(payload: dict):
    """Read the referral into the letter's data; return the rendering, to run after the
    read transaction has ended."""
    from reports import letters  # WeasyPrint loads only when a letter is first made

    referral = db.session.get(Referral, payload["referral_id"], options=[
        selectinload(Referral.patient), selectinload(Referral.practice),
        selectinload(Referral.connections).selectinload(Connection.offer)])
    now = utcnow()
    data = letters.build_outcome_letter(referral, now=now)
    return functools.partial(_render, data, letters)


def _render(data, letters) -> dict:
    pdf = letters.print_letter(letters.render_outcome_letter(data))
    return {"pdf": pdf, "coded_only": data.coded_only, "has_actions": bool(data.gp_actions)}


def store_prepared(payload: dict, rendered: dict) -> None:
    """Store the rendered PDF as the referral's next letter version (in the transaction
    that marks the job done)."""
    referral = db.session.get(Referral, payload["referral_id"])
    actor = db.session.get(User, payload["actor_id"]) if payload.get("actor_id") else None
    store.store_letter(referral, rendered["pdf"], trigger=LetterTrigger(payload["trigger"]),
                       actor=actor, actor_label=payload.get("actor_label") or "",
                       coded_only=rendered["coded_only"],
                       has_actions=rendered.get("has_actions"))


def register_jobs() -> None:
    jobs.register(KIND, prepare=prepare, store=store_prepared)
