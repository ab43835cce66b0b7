"""The SQL the period report is built from: which referrals count, and each one's facts
(its group for the inequalities tables, its first contact, its status at the end of the
period), as subqueries the figures then GROUP BY. Nothing here loads a row per referral.

Days are UK calendar days. PostgreSQL converts with the Europe/London zone; SQLite keeps
naive UTC text and has no zone database, so `uk_date` adds the hour of British Summer
Time itself, by the UK's rule. The two give the same dates (tests/reports/
test_period_sql.py checks them against zoneinfo around every change, on both).
"""
from __future__ import annotations

from sqlalchemy import Date, Integer, and_, case, exists, func, literal, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from referrals import ethnicity
from referrals.models import (
    Connection,
    ConnectionEvent,
    ConnectionStatus,
    Contact,
    Patient,
    PostcodeDeprivation,
    Referral,
    ReferralEvent,
    ReferralStatus,
)
from referrals.scopes import Period, Scope

CLOSED = (ReferralStatus.COMPLETED, ReferralStatus.DECLINED, ReferralStatus.UNABLE_TO_CONTACT)
OPEN = (ReferralStatus.RECEIVED, ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS)


class uk_date(FunctionElement):
    """The UK calendar date of a stored UTC time."""

    type = Date()
    inherit_cache = True


class day_number(FunctionElement):
    """A date as whole days since 1970-01-01, so two dates subtract to a number of days."""

    type = Integer()
    inherit_cache = True


@compiles(uk_date, "postgresql")
def _uk_date_pg(element, compiler, **kw):
    return f"CAST(timezone('Europe/London', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(uk_date, "sqlite")
def _uk_date_sqlite(element, compiler, **kw):
    value = compiler.process(element.clauses, **kw)
    # The UK rule since 1996: summer time from 01:00 UTC on the last Sunday of March to
    # 01:00 UTC on the last Sunday of October (the Sunday before 1 April or 1 November).
    year = f"substr({value}, 1, 4)"
    starts = f"date({year} || '-04-01', 'weekday 0', '-7 days') || ' 01:00:00'"
    ends = f"date({year} || '-11-01', 'weekday 0', '-7 days') || ' 01:00:00'"
    return (f"date(julianday({value}) + CASE WHEN {value} >= {starts} AND {value} < {ends} "
            "THEN 1.0 / 24 ELSE 0 END)")


@compiles(day_number, "postgresql")
def _day_number_pg(element, compiler, **kw):
    return f"(CAST({compiler.process(element.clauses, **kw)} AS DATE) - DATE '1970-01-01')"


@compiles(day_number, "sqlite")
def _day_number_sqlite(element, compiler, **kw):
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 2440587.5 AS INTEGER)"


# --- which referrals count ----------------------------------------------------------


def received(scope: Scope, period: Period):
    """Received in the period: created from the first day's UK midnight to the midnight
    after the last day."""
    return and_(scope.referrals(), Referral.created_at >= period.starts_at,
                Referral.created_at < period.ends_before)


def status_at_end(period: Period):
    """A referral's status at the end of the period, from its event history (not today's
    status): the last status event before the period ended."""
    return (select(ReferralEvent.to_status)
            .where(ReferralEvent.referral_id == Referral.id, ReferralEvent.kind == "status",
                   ReferralEvent.at < period.ends_before)
            .order_by(ReferralEvent.at.desc(), ReferralEvent.id.desc())
            .limit(1).correlate(Referral).scalar_subquery())


def closed(scope: Scope, period: Period):
    """Closed in the period: moved to completed, declined or unable to contact during it
    (those states are final, so a referral closes once). The connection and outcome
    figures count these, whose work is finished. Found from the period's closing events
    rather than by looking up every referral of the scope."""
    closing = (select(ReferralEvent.referral_id)
               .where(ReferralEvent.kind == "status", ReferralEvent.to_status.in_(CLOSED),
                      ReferralEvent.at >= period.starts_at,
                      ReferralEvent.at < period.ends_before))
    return and_(scope.referrals(), Referral.id.in_(closing))


# --- who the person is: the inequalities groups ---------------------------------------

AGE_BANDS = (("0-17", 0), ("18-24", 18), ("25-49", 25), ("50-64", 50), ("65-74", 65),
             ("75-84", 75), ("85+", 85))
AGE_LABELS = {"0-17": "Under 18", "18-24": "18 to 24", "25-49": "25 to 49",
              "50-64": "50 to 64", "65-74": "65 to 74", "75-84": "75 to 84",
              "85+": "85 and over"}
# NHS Data Dictionary ETHNIC CATEGORY, in its five groups (named as the question asks
# them); Z and 99 kept apart because "preferred not to say" and "never asked" call for
# different action.
ETHNIC_GROUPS = {g.name: "".join(code for code, _ in g.categories) for g in ethnicity.GROUPS}
ETHNIC_ROWS = (*ETHNIC_GROUPS, "Not stated (Z)", "Not known (99)")
IMD_ROWS = (*range(1, 11), 0)  # 0: postcode not in the deprivation table


def age_at_referral():
    """Whole years on the UK day the referral arrived."""
    on = uk_date(Referral.created_at)
    born = Patient.birth_date
    birthday_to_come = case(
        (func.extract("month", on) * 100 + func.extract("day", on)
         < func.extract("month", born) * 100 + func.extract("day", born), 1), else_=0)
    return func.extract("year", on) - func.extract("year", born) - birthday_to_come


def age_band():
    age = age_at_referral()
    return case(*[(age >= lowest, band) for band, lowest in reversed(AGE_BANDS[1:])],
                else_=AGE_BANDS[0][0])


def ethnic_group():
    code = Patient.ethnic_category
    return case(*[(code.in_(tuple(codes)), group) for group, codes in ETHNIC_GROUPS.items()],
                (code == "Z", "Not stated (Z)"), else_="Not known (99)")


def imd_decile():
    return func.coalesce(PostcodeDeprivation.imd_decile, literal(0))


DIMENSIONS = {"age": age_band, "sex": lambda: Patient.sex, "ethnicity": ethnic_group,
              "imd": imd_decile}


def with_person(query):
    """Join the person and their postcode's deprivation decile (if the table has it)."""
    return (query.join(Patient, Patient.id == Referral.patient_id)
            .outerjoin(PostcodeDeprivation, PostcodeDeprivation.postcode == Patient.postcode))


# --- per-referral facts --------------------------------------------------------------


def first_contact_facts(scope: Scope, period: Period):
    """One row per referral received in the period: its groups, the days from arrival to
    first contact (None when not made by the end of the period), and whether it met the
    team's target (1/0; None when that cannot be judged yet or at all)."""
    contacted = and_(Referral.first_contact_at.is_not(None),
                     Referral.first_contact_at < period.ends_before)
    days = case((contacted, day_number(uk_date(Referral.first_contact_at))
                 - day_number(uk_date(Referral.created_at))))
    end_status = status_at_end(period)
    within = case(
        (Referral.first_contact_due.is_(None), None),
        (contacted, case((day_number(uk_date(Referral.first_contact_at))
                          <= day_number(Referral.first_contact_due), 1), else_=0)),
        # Still waiting when the period ended, and the target day had passed.
        (and_(end_status.in_(OPEN), Referral.first_contact_due <= period.end), 0),
        else_=None)
    columns = [Referral.id.label("referral_id"), days.label("days"), within.label("within"),
               end_status.label("status")]
    columns += [make().label(name) for name, make in DIMENSIONS.items()]
    return with_person(select(*columns)).where(received(scope, period)).subquery("received")


def closed_facts(scope: Scope, period: Period):
    """One row per referral closed in the period: its groups, how many contacts were
    recorded by the end of the period, and whether the person went to at least one
    activity (a connection marked attended by then)."""
    contacts = (select(func.count()).select_from(Contact)
                .where(Contact.referral_id == Referral.id, Contact.at < period.ends_before)
                .correlate(Referral).scalar_subquery())
    attended = exists().where(
        Connection.referral_id == Referral.id, ConnectionEvent.connection_id == Connection.id,
        ConnectionEvent.to_status == ConnectionStatus.ATTENDED,
        ConnectionEvent.at < period.ends_before)
    columns = [Referral.id.label("referral_id"), contacts.label("contacts"),
               case((attended, 1), else_=0).label("attended")]
    columns += [make().label(name) for name, make in DIMENSIONS.items()]
    return with_person(select(*columns)).where(closed(scope, period)).subquery("closed")


def closed_people(scope: Scope, period: Period):
    """One row per referral closed in the period with its groups only: what the outcome
    and connection queries join (no per-referral subqueries for SQLite to repeat)."""
    columns = [Referral.id.label("referral_id")]
    columns += [make().label(name) for name, make in DIMENSIONS.items()]
    return with_person(select(*columns)).where(closed(scope, period)).subquery("people")


def median(values, value_column, group_column=None):
    """The median of `value_column` (ignoring NULLs) per group, by numbering the ordered
    values and averaging the middle one or two: (group, median, n) rows."""
    if group_column is None:  # PostgreSQL refuses a constant to PARTITION BY
        group, partition = literal_column("0"), None
    else:
        group, partition = group_column, group_column
    ranked = (select(group.label("grp"), value_column.label("v"),
                     func.row_number().over(partition_by=partition, order_by=value_column)
                     .label("rn"),
                     func.count().over(partition_by=partition).label("n"))
              .select_from(values).where(value_column.is_not(None)).subquery("ranked"))
    middle = ranked.c.rn.in_(((ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2))
    return (select(ranked.c.grp, func.avg(ranked.c.v * 1.0), func.max(ranked.c.n))
            .where(middle).group_by(ranked.c.grp))

