"""`flask create-api-client` and `flask revoke-api-client`, inside the rolled-back `db`."""
from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from referrals.admin.service import client_for_token, create_api_client
from referrals.models import ApiClient, AuditEvent

TOKEN = re.compile(r"kindly_[A-Za-z0-9_-]{20,}")


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def practices(make):
    team = make.team()
    return (make.practice(team=team, ods_code="A12345"), make.practice(team=team, ods_code="B67890"))


def clients(db) -> list[ApiClient]:
    return list(db.session.scalars(select(ApiClient).order_by(ApiClient.id)))


# --- create-api-client -----------------------------------------------------------------


def test_create_api_client_prints_its_token_once_and_stores_a_hash(db, runner, practices):
    result = runner.invoke(args=["create-api-client", "Alpha EMIS",
                                 "--practice", "a12345", "--practice", "B67890"])

    assert result.exit_code == 0, result.output
    tokens = TOKEN.findall(result.output)
    assert len(tokens) == 1
    token = tokens[0]
    assert "Created API client 'Alpha EMIS' for A12345, B67890." in result.output
    assert "shown once" in result.output
    [stored] = clients(db)
    assert [p.ods_code for p in stored.practices] == ["A12345", "B67890"]
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (stored.token_hash, stored.token_hint)
    assert client_for_token(token) == stored


def test_each_client_gets_its_own_token(db, runner, practices):
    first = runner.invoke(args=["create-api-client", "One", "--practice", "A12345"])
    second = runner.invoke(args=["create-api-client", "Two", "--practice", "A12345"])

    assert TOKEN.search(first.output).group(0) != TOKEN.search(second.output).group(0)
    assert len({c.token_hash for c in clients(db)}) == 2


def test_create_api_client_is_audited_as_the_cli(db, runner, practices):
    runner.invoke(args=["create-api-client", "Alpha EMIS", "--practice", "A12345"])

    event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "api_client")).one()
    assert (event.action, event.actor_label, event.actor_id) == ("create", "cli", None)


def test_create_api_client_rejects_an_unknown_ods_code(db, runner, practices):
    result = runner.invoke(args=["create-api-client", "Alpha EMIS",
                                 "--practice", "A12345", "--practice", "Z99999"])

    assert result.exit_code != 0
    assert "no practice with ODS code Z99999" in result.output
    assert not TOKEN.search(result.output)
    assert clients(db) == []


def test_create_api_client_needs_a_practice(db, runner, practices):
    result = runner.invoke(args=["create-api-client", "Alpha EMIS"])

    assert result.exit_code == 2
    assert "--practice" in result.output
    assert clients(db) == []


def test_create_api_client_refuses_a_name_already_taken(db, runner, practices):
    create_api_client("Alpha EMIS", [practices[0]], actor=None)

    result = runner.invoke(args=["create-api-client", "Alpha EMIS", "--practice", "B67890"])

    assert result.exit_code == 1
    assert "There is already an API client called 'Alpha EMIS'" in result.output
    assert "Traceback" not in result.output
    assert not TOKEN.search(result.output)
    assert len(clients(db)) == 1


@pytest.mark.parametrize(("name", "message"), [
    ("   ", "Give the API client a name"),
    ("x" * 121, "Keep the name to 120 characters or fewer"),
])
def test_create_api_client_explains_a_name_it_cannot_use(db, runner, practices, name, message):
    result = runner.invoke(args=["create-api-client", name, "--practice", "A12345"])

    assert result.exit_code == 1
    assert message in result.output
    assert clients(db) == []


# --- revoke-api-client -----------------------------------------------------------------


def test_revoke_api_client_revokes_its_token(db, runner, practices):
    client, token = create_api_client("Alpha EMIS", [practices[0]], actor=None)

    result = runner.invoke(args=["revoke-api-client", "Alpha EMIS"])

    assert result.exit_code == 0, result.output
    assert "Revoked 'Alpha EMIS'." in result.output
    assert client.revoked_at is not None
    assert client_for_token(token) is None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "revoke")).one()
    assert (event.entity_id, event.actor_label) == (client.id, "cli")


def test_revoking_one_client_leaves_the_others_working(db, runner, practices):
    create_api_client("Alpha EMIS", [practices[0]], actor=None)
    other, other_token = create_api_client("Beta SystmOne", [practices[1]], actor=None)

    runner.invoke(args=["revoke-api-client", "Alpha EMIS"])

    assert client_for_token(other_token) == other


def test_revoke_api_client_refuses_an_unknown_name(db, runner, practices):
    result = runner.invoke(args=["revoke-api-client", "Nobody"])

    assert result.exit_code == 1
    assert "No API client called 'Nobody'" in result.output
