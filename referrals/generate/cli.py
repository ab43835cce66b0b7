"""`flask --app wsgi generate-data --tier {pcn,county} [--seed N] [--today YYYY-MM-DD]`."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from referrals import workdays
from referrals.extensions import db
from referrals.generate.build import generate, now_on
from referrals.generate.tiers import TIERS
from referrals.generate.writer import bulk_connection, clear, stored_rows
from referrals.models import utcnow

DEFAULT_SEED = 13
DEFAULT_PASSWORD = "kindly-generated"
# Any of these holding a row means the database is in use: never mix generated people in.
IN_USE = ("referral", "patient", "user_account", "practice", "team")


def register(app: Flask) -> None:
    app.cli.add_command(generate_data)


@click.command("generate-data")
@click.option("--tier", required=True, type=click.Choice(sorted(TIERS)),
              help="pcn: 5 practices, 1,000 referrals over a year; county: 146 practices, "
                   "67,000 referrals over three years.")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True,
              help="The same seed (and --today) gives the same data.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The data ends at midday UK time on this day [default: the last "
                   "midday that has passed].")
@click.option("--password", default=DEFAULT_PASSWORD, show_default=True,
              help="The password of every generated account.")
@click.option("--clear", "--force", "wipe", is_flag=True,
              help="Delete EVERYTHING in this database first (it must be a scratch one).")
@click.option("--audit/--no-audit", default=True, show_default=True,
              help="An audit event for every change (--no-audit: only for the referral's "
                   "creation and status moves).")
@with_appcontext
def generate_data(tier: str, seed: int, today, password: str, wipe: bool, audit: bool) -> None:
    """Fill a scratch database with realistic synthetic data at a tier's scale."""
    from referrals.auth import passwords
    from referrals.auth.service import hash_password

    if current_app.config.get("ENV_NAME") == "production":
        raise click.ClickException("generate-data never runs with the production "
                                   "configuration: generated people are not real people.")
    if (weak := passwords.problem(password)) is not None:
        raise click.BadParameter(weak, param_hint="--password")
    db.session.remove()  # the run writes on its own connection; hold no lock here
    with bulk_connection(db.engine) as connection:
        if stored_rows(connection, *IN_USE):
            if not wipe:
                raise click.ClickException(
                    "This database already holds data. Refusing to mix generated people "
                    "with it; use --clear to delete everything in it first (a scratch "
                    "database only).")
            click.echo("Deleting everything in the database first (--clear).")
            clear(connection)
    chosen = TIERS[tier]
    day = today.date() if today else _last_midday()
    click.echo(f"Generating the {tier} tier (seed {seed}, up to midday on {day:%-d %b %Y}).")
    with _progress(chosen.referrals) as progress:
        result = generate(db.engine, chosen, seed=seed, today=day,
                          password_hash=hash_password(password), audit=audit,
                          progress=progress)
    click.echo(f"Done in {result.seconds:.1f} s. Rows written:")
    for table, rows in sorted(result.rows.items()):
        click.echo(f"  {table:<24} {rows:>10,}")
    click.echo(f"\nEvery generated account's password: {password}")
    shown: set[str] = set()
    for email, role in result.staff:
        if role not in shown:
            shown.add(role)
            click.echo(f"  {email:<44} {role}")


def _last_midday():
    """Today if its midday (UK) has passed, else yesterday: nothing generated lies in the
    future, and a run any time until the next midday gives the same data."""
    now = utcnow()
    day = workdays.uk_date(now)
    return day if now_on(day) <= now else day - timedelta(days=1)


@contextmanager
def _progress(total: int):
    """A bar on a terminal; in a log (no terminal), a line at every tenth."""
    if sys.stdout.isatty():
        with click.progressbar(length=total, label="  referrals", show_pos=True,
                               show_eta=True) as bar:
            yield lambda done: bar.update(done - bar.pos)
        return
    reported = [0]

    def report(done: int) -> None:
        if done * 10 // total > reported[0]:
            reported[0] = done * 10 // total
            click.echo(f"  referrals {done:,}/{total:,}")

    yield report
