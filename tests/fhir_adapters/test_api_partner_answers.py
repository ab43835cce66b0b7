"""Issue 15: a partner organisation's answers reach the GP system over /fhir as the
connector's own would: attended is a completed Procedure, did not attend and no capacity
are not-done with their reason, and "taken on" is no Procedure yet."""
from __future__ import annotations

from datetime import date, timedelta

from referrals.models import ConnectionStatus, ReferralStatus, Role
from referrals.partners import service
from tests.fhir_adapters import offers

C = ConnectionStatus


def test_a_partners_answers_show_over_fhir(api, db, make, practice):
    referral = make.referral(practice, status=ReferralStatus.IN_PROGRESS)
    walk, lunch = offers.offer(db.session), offers.offer(db.session)
    lunch.organisation = walk.organisation
    partner = make.user(Role.PARTNER, organisation=walk.organisation)
    today = date.today()
    went = offers.connection(db.session, referral, walk, C.SUGGESTED, started_on=None)
    full = offers.connection(db.session, referral, lunch, C.SUGGESTED, started_on=None)
    service.answer_handover(went, answer=C.TAKEN_ON, on=today, actor=partner, today=today)
    db.session.commit()
    assert api.get(f"Procedure/{went.id}").status_code == 404  # nothing done yet

    service.answer_handover(went, answer=C.ATTENDED, on=today, actor=partner, today=today)
    service.answer_handover(full, answer=C.NO_CAPACITY, on=today, actor=partner, today=today,
                            capacity_returns_on=today + timedelta(days=14))
    db.session.commit()
    attended = api.get(f"Procedure/{went.id}").json
    assert (attended["status"], attended["performedDateTime"]) == ("completed", today.isoformat())
    no_room = api.get(f"Procedure/{full.id}").json
    assert (no_room["status"], no_room["statusReason"]["coding"][0]["code"]) == (
        "not-done", "no-capacity")
