def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "ok"
    assert response.json["status"] in ("ok", "degraded")  # degraded: see tests/referrals/test_health.py


def test_gp_can_refer_and_see_it_in_the_list(client, login_as, make):
    gp = login_as("referrer")
    number = make.nhs_number()
    response = client.submit("/referrals/new", {
        "nhs_number": f"{number[:3]} {number[3:6]} {number[6:]}", "given_name": "Ann",
        "family_name": "Bee", "birth_date": "31/03/1950", "sex": "female",
        "postcode": "kb1 1ab", "reasons": ["loneliness"], "no_known_risks": "y",
        "consent": "y",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    listing = client.get("/referrals").get_data(as_text=True)
    assert "Ann Bee" in listing
    assert gp.practice.name in listing
