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
