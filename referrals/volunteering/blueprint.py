"""The volunteering blueprint, shared by its view modules (staff, volunteer, concerns)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint

from referrals.models import utcnow
from referrals.scheduler import local_day

# No url_prefix: a referral's volunteers page is a workspace section, under its URL.
bp = Blueprint("volunteering", __name__)
PREFIX = "/volunteering"

ID = "<int(max=2147483647):{}>"
REFERRAL_ID, REQUEST_ID, MATCH_ID = (ID.format(n) for n in ("referral_id", "request_id",
                                                            "match_id"))


def today() -> date:
    return local_day(utcnow())
