"""The outcome letter back to the GP (PRSB "message back to GP and referrer").

Three steps, each testable and timed on its own: `build_outcome_letter` reads one
referral and returns plain frozen dataclasses; `render_outcome_letter` turns them into
HTML with templates/letters/outcome.html (autoescaped, so anything a person typed stays
text); `print_letter` makes the PDF (reports.pdf, with the letter styles).

Everything in a letter comes from the one referral's own rows and relationships (its
patient, practice, team, connector, reasons, events, contacts, connections and
measurements), never from a query across people, so it cannot carry anyone else's data.
Reading the record is audited by whoever asks for the letter (reports.store).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from referrals import sharing
from referrals.models import ConnectionStatus, Referral, ReferralStatus
from referrals.nhs_number import format_nhs_number
from referrals.outcomes.service import outcome_summary
from referrals.reasons import BY_CODE, label_for
from reports import codes
from reports.codes import Code
from reports.date_words import date_range, long_date
from reports.pdf import render_pdf

TEMPLATE = "letters/outcome.html"
STYLESHEETS = ("letter.css",)  # templates/letters/, compiled once by reports.pdf
SERVICE = "Social prescribing service"
CODED_ONLY_NOTICE = sharing.CODED_ONLY_NOTICE
NO_ACTIONS = "No actions required"
CLOSED = frozenset({ReferralStatus.COMPLETED, ReferralStatus.DECLINED,
                    ReferralStatus.UNABLE_TO_CONTACT})
# How a connection still under way reads to a GP.
STILL_GOING = {
    ConnectionStatus.SUGGESTED: "Suggested, still being considered",
    ConnectionStatus.ACCEPTED: "Accepted, not started yet",
    # Issue 15: the organisation has said it will take them on.
    ConnectionStatus.TAKEN_ON: "Taken on by the organisation, not started yet",
}


@dataclass(frozen=True)
class Practice:
    name: str
    address: str
    postcode: str
    ods_code: str


@dataclass(frozen=True)
class Person:
    name: str
    birth_date: date
    nhs_number: str  # 3-3-4, "Not given", or "" (a self-referral without one: no line)
    postcode: str


@dataclass(frozen=True)
class ReferralDetails:
    received_on: date
    referrer: str
    reasons: tuple[str, ...]
    what_matters: str  # "" when not recorded or not shared
    # The wait from referral to the first contact that reached the person, in words.
    first_contact: str


@dataclass(frozen=True)
class Contacts:
    count: int
    reached: int  # contacts that reached the person
    first_on: date | None
    last_on: date | None
    methods: tuple[str, ...]


@dataclass(frozen=True)
class ConnectionLine:
    offer: str
    kind: str  # Signpost / Referral
    outcome: str
    on: date | None  # when it started (attended) or was last settled
    note: str  # "" when none or not shared


@dataclass(frozen=True)
class ScoreLine:
    label: str
    baseline: str
    latest: str
    change: str  # "+3 (better)", "No change", "" when either end is missing
    scale: str  # "0 to 10"


@dataclass(frozen=True)
class Measure:
    name: str
    baseline_on: date | None
    latest_on: date | None
    latest_label: str  # Follow-up / Closing
    scores: tuple[ScoreLine, ...]


@dataclass(frozen=True)
class Closing:
    status: str
    on: date
    reason: str  # "" when none or not shared


@dataclass(frozen=True)
class Connector:
    name: str
    team: str
    phone: str
    email: str


@dataclass(frozen=True)
class OutcomeLetterData:
    reference: str
    letter_date: date
    greeting: str  # "Dear Dr Shah", "Dear colleague"
    team: str
    service: str
    practice: Practice
    # The connector's request to the GP. Kept even when the person asked for coded
    # information only (referrals.sharing: written for the practice to act on, and
    # leaving it out could leave an action undone). "" means "No actions required".
    gp_actions: str
    coded_only: bool
    person: Person
    referral: ReferralDetails
    status: str  # the referral's status now, for an on-demand letter before it closes
    contacts: Contacts
    connections: tuple[ConnectionLine, ...]
    measures: tuple[Measure, ...]
    closing: Closing | None
    codes: tuple[Code, ...]
    no_code: str  # what to say instead when there is no code
    connector: Connector


# --- assembly --------------------------------------------------------------------


def build_outcome_letter(referral: Referral, *, now: datetime) -> OutcomeLetterData:
    """The letter's content for one referral as it stands at `now`.

    Its words come through referrals.sharing for the practice: when the person asked
    that only coded information be shared (`coded_only`), every piece of free text
    about them is left out: what matters to them, the detail of an "other" reason,
    connection notes and the closing note. Contact notes are never in the letter: they
    are the connector's working notes, not a message to the GP.
    """
    zone = ZoneInfo(current_app.config["TIMEZONE"])

    def day(moment: datetime | None) -> date | None:
        return moment.astimezone(zone).date() if moment is not None else None

    share = sharing.policy(referral, sharing.Audience.PRACTICE)
    patient, practice = referral.patient, referral.practice
    engaged = referral.status is ReferralStatus.IN_PROGRESS or any(
        e.to_status is ReferralStatus.IN_PROGRESS for e in referral.events)
    letter_codes, no_code = codes.codes_for(referral.status, engaged=engaged)
    return OutcomeLetterData(
        reference=referral.reference or "",
        letter_date=day(now),
        greeting=_greeting(referral),
        team=referral.team.name if referral.team else "",
        service=SERVICE,
        practice=Practice(name=practice.name, address=practice.address,
                          postcode=practice.postcode, ods_code=practice.ods_code),
        gp_actions=share.text(referral, "gp_actions"),
        coded_only=not share.free_text,
        person=Person(
            name=patient.full_name, birth_date=patient.birth_date,
            nhs_number=format_nhs_number(patient.nhs_number) if patient.nhs_number
            else "" if referral.is_self_referral else "Not given",
            postcode=patient.postcode),
        referral=ReferralDetails(
            received_on=day(referral.created_at), referrer=_referrer(referral),
            reasons=tuple(_reason(r.code, share.text(r, "detail")) for r in referral.reasons),
            what_matters=share.text(referral, "what_matters"),
            first_contact=_first_contact(referral, day)),
        status=referral.status.label,
        contacts=_contacts(referral, day),
        connections=tuple(_connection(c, share) for c in referral.connections),
        measures=tuple(_measures(referral)),
        closing=_closing(referral, day, share),
        codes=letter_codes,
        no_code=no_code,
        connector=_connector(referral),
    )


def _referrer(referral: Referral) -> str:
    if referral.referrer is not None:
        return referral.referrer.name
    if referral.is_self_referral:
        return "Self-referral"
    return referral.referrer_name or "Not recorded"


# Titles a name may start with: the greeting keeps the title and the family name.
TITLES = frozenset({"dr", "doctor", "nurse", "sister", "mr", "mrs", "ms", "miss", "mx",
                    "prof", "professor"})


def _greeting(referral: Referral) -> str:
    """"Dear Dr Shah" to a referrer whose name has a title, "Dear Priya Shah" to one
    whose name has none (a referrer may be a GP, a nurse or other practice staff, so no
    title is guessed), and "Dear colleague" when nobody is named. A self-referral's
    letter goes to the practice's team."""
    if referral.is_self_referral and referral.referrer is None:
        return f"Dear colleagues at {referral.practice.name}"
    name = (referral.referrer.name if referral.referrer is not None
            else referral.referrer_name or "").split()
    if not name:
        return "Dear colleague"
    if len(name) > 1 and name[0].rstrip(".").lower() in TITLES:
        return f"Dear {name[0]} {name[-1]}"
    return f"Dear {' '.join(name)}"


def _first_contact(referral: Referral, day: Callable) -> str:
    """The wait from referral to the first contact that reached the person, in UK
    calendar days (as the national dataset counts it, reports.national)."""
    received, reached = day(referral.created_at), day(referral.first_contact_at)
    if reached is None:
        tries = len(referral.contacts)
        attempts = f" ({tries} attempt{'s' if tries != 1 else ''})" if tries else ""
        return f"First contact: none, the person was not reached{attempts}"
    days = (reached - received).days
    if days <= 0:
        return f"First contact: the day of referral, {long_date(reached)}"
    return f"First contact: {days} day{'s' if days != 1 else ''} after referral, " \
           f"on {long_date(reached)}"


def _reason(code: str, detail: str) -> str:
    label = label_for(code)
    reason = BY_CODE.get(code)
    if detail and reason is not None and reason.needs_detail:
        return f"{label}: {detail}"
    return label


def _contacts(referral: Referral, day: Callable) -> Contacts:
    contacts = referral.contacts
    methods = dict.fromkeys(c.method.label for c in contacts)  # first use order, no repeats
    return Contacts(
        count=len(contacts), reached=sum(1 for c in contacts if c.outcome.reached),
        first_on=day(contacts[0].at) if contacts else None,
        last_on=day(contacts[-1].at) if contacts else None,
        methods=tuple(methods))


def _connection(connection, share: sharing.Policy) -> ConnectionLine:
    status = connection.status
    on = connection.started_on
    if on is None and connection.events:
        on = connection.events[-1].on
    return ConnectionLine(
        offer=connection.offer.name, kind=connection.kind.short_label,
        outcome=STILL_GOING.get(status, status.label), on=on,
        note=share.text(connection, "notes"))


def _closing(referral: Referral, day: Callable, share: sharing.Policy) -> Closing | None:
    if referral.status not in CLOSED:
        return None
    event = next((e for e in reversed(referral.events)
                  if e.kind == "status" and e.to_status is referral.status), None)
    if event is None:
        return None
    return Closing(status=referral.status.label, on=day(event.at),
                   reason=share.text(event, "reason"))


def _connector(referral: Referral) -> Connector:
    team = referral.team.name if referral.team else ""
    person = referral.connector
    if person is None:
        return Connector(name="", team=team, phone="", email="")
    return Connector(name=person.name, team=team, phone=person.phone, email=person.email)


# --- outcome measures ------------------------------------------------------------


def _measures(referral: Referral):
    for change in outcome_summary(referral):
        rows = tuple(_score_line(row) for row in change.rows)
        latest = {getattr(row.latest_timepoint, "label", row.latest_timepoint)
                  for row in change.rows if row.latest_timepoint}
        yield Measure(
            name=change.instrument.name, baseline_on=change.baseline_on,
            latest_on=change.latest_on,
            latest_label=latest.pop() if len(latest) == 1 else "Latest",
            scores=rows)


def _score_line(row) -> ScoreLine:
    change = ""
    if row.change is not None:
        if row.change == 0:
            change = "No change"
        else:
            word = {True: " (better)", False: " (worse)"}.get(row.better, "")
            change = f"{'+' if row.change > 0 else '−'}{_number(abs(row.change))}{word}"
    scale = ""
    if row.minimum is not None and row.maximum is not None:
        scale = f"{_number(row.minimum)} to {_number(row.maximum)}"
    return ScoreLine(label=row.label, baseline=_number(row.baseline),
                     latest=_number(row.latest), change=change, scale=scale)


def _number(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:g}" if float(value).is_integer() else f"{value:.2f}".rstrip("0")


# --- rendering -------------------------------------------------------------------


def render_outcome_letter(data: OutcomeLetterData) -> str:
    """The letter as HTML (the app's Jinja environment, autoescaped)."""
    template = current_app.jinja_env.get_template(TEMPLATE)
    return template.render(letter=data, coded_only_notice=CODED_ONLY_NOTICE,
                           no_actions=NO_ACTIONS, long_date=long_date,
                           date_range=date_range)


def print_letter(html: str) -> bytes:
    """The PDF of a letter's HTML, with the letter styles."""
    return render_pdf(html, stylesheets=STYLESHEETS)


def outcome_letter_pdf(referral: Referral, *, now: datetime) -> bytes:
    """Build, render and print one referral's outcome letter."""
    return print_letter(render_outcome_letter(build_outcome_letter(referral, now=now)))
