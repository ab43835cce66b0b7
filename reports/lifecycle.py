"""When letters are made: automatically as a referral closes with an outcome."""
from __future__ import annotations


def on_referral_closed(referral, **details) -> None:
    """Receiver for referrals.signals.referral_closed (connected by create_app)."""
