"""Recording outcome measures for a referral, and the change from baseline."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("outcomes", __name__, url_prefix="/caseload/referrals")
