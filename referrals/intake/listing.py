"""Bounded, keyset-paged reads of referral lists (no OFFSET, no full scans)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import selectinload

from referrals.access import scope
from referrals.extensions import db
from referrals.models import Patient, Referral, ReferralStatus, User


@dataclass
class Page:
    rows: list[Referral]
    next_cursor: str | None
    prev_cursor: str | None


def encode_cursor(referral: Referral) -> str:
    return f"{referral.created_at.isoformat()}~{referral.id}"


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        stamp, _, ident = cursor.rpartition("~")
        at, referral_id = datetime.fromisoformat(stamp), int(ident)
    except ValueError:
        return None
    # Ids beyond 64 bits overflow both databases; no real cursor holds one.
    return (at, referral_id) if 0 <= referral_id < 2**63 else None


def referral_page(
    user: User,
    *,
    status: ReferralStatus | None = None,
    nhs_number: str | None = None,
    after: str | None = None,
    before: str | None = None,
    size: int = 25,
) -> Page:
    """One page of the referrals `user` may see, newest first.

    `after` continues past the last row of a page; `before` goes back from the
    first row. Each page reads at most size + 1 rows through an index.
    """
    query = scope(select(Referral), user)
    if status is not None:
        query = query.where(Referral.status == status)
    if nhs_number:
        query = query.join(Referral.patient).where(Patient.nhs_number == nhs_number)
    key = tuple_(Referral.created_at, Referral.id)
    going_back = False
    if (cursor := decode_cursor(after)) is not None:
        query = query.where(key < tuple_(*cursor)).order_by(
            Referral.created_at.desc(), Referral.id.desc()
        )
    elif (cursor := decode_cursor(before)) is not None:
        going_back = True
        query = query.where(key > tuple_(*cursor)).order_by(
            Referral.created_at.asc(), Referral.id.asc()
        )
    else:
        query = query.order_by(Referral.created_at.desc(), Referral.id.desc())
    query = query.limit(size + 1).options(
        selectinload(Referral.patient), selectinload(Referral.connector)
    )
    rows = list(db.session.scalars(query))
    more = len(rows) > size
    rows = rows[:size]
    if going_back:
        rows.reverse()
        has_next, has_prev = True, more
    else:
        has_next, has_prev = more, cursor is not None
    return Page(
        rows=rows,
        next_cursor=encode_cursor(rows[-1]) if rows and has_next else None,
        prev_cursor=encode_cursor(rows[0]) if rows and has_prev else None,
    )
