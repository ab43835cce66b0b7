"""Numbers, dates and times a connector types are read from the digits 0-9 only: "٣" is
not read as 3 nor "²" as a 500; each gets the field's error and nothing is saved."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from referrals.models import Contact, ReferralStatus, utcnow
from tests.referrals.caseload.test_views import LONDON, contact_form, sign_in, workspace_url

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.fixture
def connector(client, db, hub):
    return sign_in(client, db, hub.connector)


def yesterday() -> str:
    return (utcnow().astimezone(LONDON) - timedelta(days=1)).strftime("%d/%m/%Y")


@pytest.mark.parametrize("field, value", [
    ("duration", "١٥"),
    ("duration", "1²"),
    ("contact_date", yesterday().translate(ARABIC_INDIC)),
    ("contact_time", "١٠:٣٠"),
    ("contact_time", "1²:30"),
])
def test_a_contact_typed_in_other_digits_is_refused_next_to_the_field(
        client, db, make, hub, connector, page, field, value):
    referral = make.referral(hub.practice, status=ReferralStatus.ACCEPTED, connector=connector)
    db.session.commit()
    response = page(client.submit(f"/caseload/referrals/{referral.id}/contacts",
                                  contact_form(**({"contact_date": yesterday(),
                                                   "contact_time": "10:30"} | {field: value})),
                                  page=workspace_url(referral)))
    assert response.response.status_code == 422
    assert response.error_for(field)
    assert db.session.scalars(select(Contact).where(Contact.referral_id == referral.id)).all() == []
