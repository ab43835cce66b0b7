"""Domain events other layers may act on, without the domain importing them.

`reports` (the outcome letter) listens for `referral_closed`; create_app() connects it.
Receivers run in the same transaction as the change, before the caller commits.
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent with the Referral as sender and `event` (its ReferralEvent), `actor`, `actor_label`
# and `now`, once the referral has reached completed, declined or unable to contact.
referral_closed = _signals.signal("referral-closed")

# Issue 15 (volunteers → matching): sent with the Volunteer as sender, and `actor` (None for
# the renewal job), `actor_label` and `now`, once a volunteer is declined, lapses (an
# expired DBS check), takes a break or leaves. Matching ends or flags their matches.
volunteer_stepped_back = _signals.signal("volunteer-stepped-back")
