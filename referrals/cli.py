"""`flask --app wsgi <command>`: seed-demo, create-user, deactivate-user, reactivate-user,
grant-identifiable-exports, scheduler (and the directory's, import-imd and the data
generator's, registered from their packages)."""
from __future__ import annotations

import click
from flask import Flask, current_app
from sqlalchemy import select

from referrals.extensions import db
from referrals.models import Practice, Role, Team, utcnow


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_user)
    app.cli.add_command(deactivate_user)
    app.cli.add_command(reactivate_user)
    app.cli.add_command(grant_identifiable_exports)
    app.cli.add_command(create_api_client)
    app.cli.add_command(revoke_api_client)
    app.cli.add_command(run_scheduler)
    from referrals.directory import cli as directory_cli
    from referrals.generate import cli as generate_cli

    directory_cli.register(app)
    from referrals.deprivation import cli as deprivation_cli

    deprivation_cli.register(app)
    generate_cli.register(app)


@click.command("seed-demo")
@click.option("--password", default="kindly-demo", show_default=True,
              help="Password for every demo account.")
@click.option("--force", is_flag=True, help="Add the demo even if the database holds data.")
@click.option("--if-empty", is_flag=True, help="Do nothing (successfully) if there are accounts.")
def seed_demo(password: str, force: bool, if_empty: bool) -> None:
    """Build the demo market town: practices, a connector hub, people and referrals."""
    from referrals import demo, demo_history, jobs
    from referrals.auth import passwords

    if (weak := passwords.problem(password)) is not None:
        # Checked before building anything, not half-way through the accounts.
        raise click.BadParameter(weak, param_hint="--password")

    if demo.has_data() and not force:
        if if_empty:
            click.echo("The database already has accounts; not seeding the demo.")
            return
        raise click.ClickException(
            "This database already holds data. Refusing to add demo people to it; "
            "use --force if it really is a scratch database."
        )
    if force and demo.is_present():
        # Its names are fixed, so a second copy would fail half-way with a traceback.
        raise click.ClickException(
            "The demo town is already in this database; --force adds it beside other "
            "data, not twice."
        )
    accounts = demo.build(password=password, progress=click.echo)
    api_client, token = demo.build_api_client()
    now = utcnow()
    if current_app.config["DEMO_HISTORY"]:
        demo_history.add(now=now, api_client=api_client, progress=click.echo)
    monthly = sum(extra(now) for extra in demo_history.EXTRAS.values())
    db.session.commit()
    # The closed referrals' outcome letters (and last month's reports) are jobs
    # (referrals.jobs): run them now, so the demo has them before anyone signs in.
    written = jobs.run_due(limit=10_000)
    stored = _stored_reports() if monthly else 0
    if written - stored:
        click.echo(f"Wrote {written - stored} outcome letters.")
    if stored:
        click.echo(f"Stored last month's report for {stored} practices.")
    click.echo(f"\nDemo accounts (password: {password})")
    width = max(len(a.email) for a in accounts)
    for account in accounts:
        place = account.practice or account.team or account.organisation  # issue 15: a partner's
        where = place.name if place is not None else ""
        click.echo(f"  {account.email:<{width}}  {account.role.label:<17} {where}")
    practices = ", ".join(p.ods_code for p in api_client.practices)
    click.echo(f"\nDemo FHIR API client {api_client.name!r} ({practices}); its token, shown once:")
    click.echo(f"  {token}")


def _stored_reports() -> int:
    from sqlalchemy import func

    from referrals.models import StoredReport

    return db.session.scalar(select(func.count()).select_from(StoredReport)) or 0


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--practice", "practice_ods", help="ODS code of the practice (referrer, manager).")
@click.option("--team", "team_name", help="Connector team name (connector, coordinator).")
@click.option("--capacity", type=int, help="Caseload capacity (connectors).")
@click.password_option(help="Prompted for, twice, when not given.")
def create_user(email, name, role, practice_ods, team_name, capacity, password) -> None:
    """Create a staff account."""
    from referrals.auth.service import AccountInvalid
    from referrals.auth.service import create_user as create

    practice = team = None
    if practice_ods:
        practice = db.session.scalars(select(Practice).where(Practice.ods_code == practice_ods.upper())).first()
        if practice is None:
            raise click.BadParameter(f"no practice with ODS code {practice_ods}", param_hint="--practice")
    if team_name:
        team = db.session.scalars(select(Team).where(Team.name == team_name)).first()
        if team is None:
            raise click.BadParameter(f"no team called {team_name!r}", param_hint="--team")
    try:
        user = create(email=email, name=name, role=Role(role), password=password,
                      practice=practice, team=team, capacity=capacity)
    except AccountInvalid as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Created {user.role.label.lower()} {user.email}.")


@click.command("deactivate-user")
@click.argument("email")
def deactivate_user(email) -> None:
    """Stop an account signing in, and sign it out everywhere at once."""
    from referrals.auth import service

    user = _account(email)
    changed = service.deactivate_user(user, actor=None, actor_label="cli")
    db.session.commit()
    click.echo(f"Deactivated {user.email}; every session of theirs has ended." if changed
               else f"{user.email} was already deactivated.")


@click.command("reactivate-user")
@click.argument("email")
def reactivate_user(email) -> None:
    """Let a deactivated account sign in again (old sessions stay ended)."""
    from referrals.auth import service

    user = _account(email)
    changed = service.reactivate_user(user, actor=None, actor_label="cli")
    db.session.commit()
    click.echo(f"Reactivated {user.email}; they can sign in with their password." if changed
               else f"{user.email} was already active.")


@click.command("grant-identifiable-exports")
@click.argument("email")
@click.option("--revoke", is_flag=True, help="Take the permission away instead.")
def grant_identifiable_exports(email, revoke) -> None:
    """Let a manager or coordinator export report rows with names and NHS numbers."""
    from referrals import access
    from referrals.auth import service

    user = _account(email)
    changed = service.set_identifiable_exports(user, not revoke, actor=None, actor_label="cli")
    db.session.commit()
    if revoke:
        click.echo(f"{user.email} can no longer export identifiable rows." if changed
                   else f"{user.email} could not export identifiable rows anyway.")
        return
    click.echo(f"{user.email} can now export identifiable rows (each export is audited)."
               if changed else f"{user.email} could already export identifiable rows.")
    if not access.may_export_identifiable(user):
        click.echo("Note: it takes effect only while they are an active practice manager "
                   "or hub coordinator.", err=True)


def _account(email: str):
    from referrals.auth.service import find_user

    user = find_user(email)
    if user is None:
        raise click.ClickException(f"No account for {email!r}")
    return user


@click.command("create-api-client")
@click.argument("name")
@click.option("--practice", "practice_codes", multiple=True, required=True,
              help="ODS code of a practice the client acts for (repeat for more).")
def create_api_client(name, practice_codes) -> None:
    """Create a FHIR API client for one or more practices and print its token once."""
    from referrals.admin.service import ApiClientInvalid
    from referrals.admin.service import create_api_client as create

    practices = []
    for code in practice_codes:
        practice = db.session.scalars(select(Practice).where(Practice.ods_code == code.upper())).first()
        if practice is None:
            raise click.BadParameter(f"no practice with ODS code {code}", param_hint="--practice")
        practices.append(practice)
    try:
        client, token = create(name, practices, actor=None, actor_label="cli")
    except ApiClientInvalid as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Created API client {client.name!r} for {', '.join(p.ods_code for p in practices)}.")
    click.echo("Its bearer token (shown once; Kindly keeps only a hash):")
    click.echo(token)


@click.command("revoke-api-client")
@click.argument("name")
def revoke_api_client(name) -> None:
    """Revoke an API client's token."""
    from referrals.admin.service import revoke_api_client as revoke
    from referrals.models import ApiClient

    client = db.session.scalars(select(ApiClient).where(ApiClient.name == name)).first()
    if client is None:
        raise click.ClickException(f"No API client called {name!r}")
    revoke(client, actor=None, actor_label="cli")
    db.session.commit()
    click.echo(f"Revoked {name!r}.")


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Run every job once, now, and exit (e.g. from cron).")
def run_scheduler(once: bool) -> None:
    """Run the reminder and escalation scheduler in this process (production: exactly one)."""
    from referrals import jobs, scheduler
    from referrals.models import utcnow

    if once:
        for name, count in scheduler.run_all(now=utcnow()).items():
            click.echo(f"{name}: {count} delivered")
        click.echo(f"jobs: {jobs.run_due(limit=1000)} done")
        return
    click.echo("Scheduler running (Ctrl+C to stop).")
    try:
        scheduler.build(current_app._get_current_object()).start()
    except (KeyboardInterrupt, SystemExit):
        click.echo("Scheduler stopped.")
