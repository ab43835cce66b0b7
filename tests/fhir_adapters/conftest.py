"""Fixtures for the /fhir API: an API client with a token, and a caller that checks
every response it gets against the FHIR validators."""
from __future__ import annotations

import json

import pytest
from fhir.resources.R4B import get_fhir_model_class

from referrals.admin.service import create_api_client
from tests.fhir_adapters import validators

FHIR_JSON = "application/fhir+json"


def validate_r4b(body: dict) -> None:
    """Every resource we send must parse with the fhir.resources R4B model."""
    model = get_fhir_model_class(body["resourceType"])
    model.model_validate(body)


class Api:
    """Calls /fhir as an API client and validates every JSON response body."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.token = token

    def request(self, method: str, path: str, body=None, *, token: str | None = ...,
                headers: dict | None = None, content_type: str = FHIR_JSON, raw: bytes | None = None):
        token = self.token if token is ... else token
        sent = dict(headers or {})
        if token:
            sent.setdefault("Authorization", f"Bearer {token}")
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = self.client.open(path if path.startswith("/") else f"/fhir/{path}",
                                    method=method, data=data, headers=sent,
                                    content_type=content_type if data is not None else None)
        assert response.status_code != 500, response.get_data(as_text=True)
        if response.mimetype == FHIR_JSON:
            body = response.get_json()
            validate_r4b(body)
            validators.validate_independently(body)
        return response

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request("POST", path, body, **kwargs)

    def put(self, path, body=None, **kwargs):
        return self.request("PUT", path, body, **kwargs)


@pytest.fixture
def practice(make):
    return make.practice(ods_code="A12345", name="Alpha Surgery")


@pytest.fixture
def other_practice(make, practice):
    return make.practice(team=practice.team, ods_code="B67890", name="Beta Surgery")


@pytest.fixture
def api_client_and_token(db, practice):
    client, token = create_api_client("Test GP system", [practice], actor=None, actor_label="test")
    db.session.commit()
    return client, token


@pytest.fixture
def api(client, api_client_and_token):
    """An Api caller holding a token for `practice` only."""
    return Api(client, api_client_and_token[1])


@pytest.fixture
def other_api(client, db, other_practice):
    """A second API client, for `other_practice` only."""
    _, token = create_api_client("Other GP system", [other_practice], actor=None,
                                 actor_label="test")
    db.session.commit()
    return Api(client, token)
