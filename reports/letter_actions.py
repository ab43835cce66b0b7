"""Letters needing action: a letter whose "Plan and requested actions" asks the practice
to do something needs action until someone there marks the actions done.

Only the newest version of a referral's letter counts. A newer version says what the
connector asks for now (the plan may have changed, or been done by the hub), so an older
version's actions never need action, and a newer version with actions needs action again
even when an older one was marked done.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, select, update
from sqlalchemy.orm import aliased

from referrals import access, audit
from referrals.errors import DomainError
from referrals.extensions import db
from referrals.models import OutcomeLetter, Referral, User, utcnow


class LetterActionsRefused(DomainError):
    """The letter's actions cannot be marked done (none asked, or not this version)."""


class ActionsAlreadyDone(DomainError):
    """Someone else marked the actions done first; `letter` shows who and when."""

    def __init__(self, letter: OutcomeLetter):
        self.letter = letter
        super().__init__("Someone else has already marked these actions as done.")


@dataclass(frozen=True)
class LetterCounts:
    unread: int
    needs_action: int


def _newer_version_exists() -> ColumnElement[bool]:
    newer = aliased(OutcomeLetter)
    return exists().where(newer.referral_id == OutcomeLetter.referral_id,
                          newer.number > OutcomeLetter.number)


def needs_action() -> ColumnElement[bool]:
    """OutcomeLetter rows that need action (for a WHERE clause)."""
    return and_(OutcomeLetter.has_actions.is_(True), OutcomeLetter.actions_done_at.is_(None),
                ~_newer_version_exists())


def letter_counts(user: User) -> LetterCounts:
    """How many of the user's practice's letters are unread, and how many need action.

    One statement of two counts, each narrowed by an index that starts with the practice
    (ix_outcome_letter_practice_read, ix_outcome_letter_practice_actions), because the
    navigation asks on every page a practice user opens."""
    count = access.scope_letters(select(func.count(OutcomeLetter.id)), user)
    unread = count.where(OutcomeLetter.read_at.is_(None)).scalar_subquery()
    pending = count.where(needs_action()).scalar_subquery()
    row = db.session.execute(select(unread, pending)).one()
    return LetterCounts(unread=row[0] or 0, needs_action=row[1] or 0)


def is_newest(letter: OutcomeLetter) -> bool:
    return not db.session.scalar(
        select(_newer_version_exists()).where(OutcomeLetter.id == letter.id))


def mark_actions_done(letter: OutcomeLetter, *, actor: User,
                      now: datetime | None = None) -> OutcomeLetter:
    """Record that `actor` (practice staff; the caller has checked
    access.may_mark_letter_actions) did the letter's actions at `now`.

    Of two people marking at once, the first is kept (one UPDATE that only a letter not
    yet done matches) and the second gets ActionsAlreadyDone. Audits and flushes; the
    caller commits."""
    if not letter.has_actions:
        raise LetterActionsRefused("This letter does not ask the practice to do anything.")
    if not is_newest(letter):
        raise LetterActionsRefused(
            "A newer version of this letter has arrived. Its actions are the ones that "
            "count: mark them as done on the newest version.")
    now = now or utcnow()
    done = db.session.execute(
        update(OutcomeLetter)
        .where(OutcomeLetter.id == letter.id, OutcomeLetter.actions_done_at.is_(None))
        .values(actions_done_at=now, actions_done_by_id=actor.id)
        .execution_options(synchronize_session=False))
    db.session.refresh(letter)
    if done.rowcount != 1:
        raise ActionsAlreadyDone(letter)
    patient_id = db.session.scalar(select(Referral.patient_id)
                                   .where(Referral.id == letter.referral_id))
    audit.record("update", actor=actor, entity_type="outcome-letter", entity_id=letter.id,
                 patient_id=patient_id,
                 detail={"referral_id": letter.referral_id, "number": letter.number,
                         "actions_done": True})
    db.session.flush()
    return letter
