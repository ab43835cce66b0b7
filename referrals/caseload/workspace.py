"""One referral's workspace as section pages: what each section loads and shows.

The workspace was one long page that loaded everything about a referral. Each section is
now its own URL (so it works without JavaScript and can be bookmarked) and loads only the
rows it shows, which keeps every section within the bench's page goal (bench/casework.py).
Two tabs are pages of their own blueprints (offers and outcome measures); the sub-navigation
names them all, and `NAV_ENDPOINTS` says which tab each endpoint belongs to.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from referrals import access, sharing
from referrals.access import Action
from referrals.caseload import listing, service
from referrals.caseload.forms import (
    AcceptForm,
    ContactForm,
    EthnicCategoryForm,
    FollowUpForm,
    RejectForm,
    RisksForm,
    SharingForm,
)
from referrals.intake import discrepancy
from referrals.models import (
    Connection,
    ConnectionEvent,
    Contact,
    FollowUpStatus,
    Offer,
    Referral,
    ReferralEvent,
    utcnow,
)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    endpoint: str
    anchor: str = ""  # where a redirect back to this section lands on its page


SUMMARY = Section("summary", "Summary", "caseload.workspace")
CONTACTS = Section("contacts", "Contacts", "caseload.contacts", "#contacts")
FOLLOW_UPS = Section("follow-ups", "Follow-ups", "caseload.follow_ups", "#follow-ups")
OFFERS = Section("offers", "Offers and connections", "matching.suggestions", "#connections")
MEASURES = Section("measures", "Outcome measures", "outcomes.measures")
SHARING = Section("sharing", "Sharing and risks", "caseload.sharing_and_risks", "#sharing")
HISTORY = Section("history", "History", "caseload.history", "#timeline")
# Not a tab: the ethnic group's long list of choices has a page of its own, reached from
# the summary (on the summary it took most of the page's time to render).
ETHNIC = Section("ethnic-group", "Ethnic group", "caseload.ethnic_category", "#ethnic-group")
# Issue 15 (matching): a page of the volunteering blueprint, like offers.
VOLUNTEERS = Section("volunteers", "Volunteers", "volunteering.for_referral")
TABS = (SUMMARY, CONTACTS, FOLLOW_UPS, OFFERS, VOLUNTEERS, MEASURES, SHARING, HISTORY)
BY_KEY = {s.key: s for s in (*TABS, ETHNIC)}

# The workspace's own sections: what each loads beyond the person (always shown).
_CONTACTS = selectinload(Referral.contacts)
LOADS = {
    # The summary counts failed attempts from the contacts only while nobody has been
    # reached (service.failed_attempts): it reads them then, and not once someone has.
    SUMMARY.key: (selectinload(Referral.reasons),),
    # Who recorded each contact, and each event's actor, joined to those rows' own SELECT.
    CONTACTS.key: (_CONTACTS.joinedload(Contact.recorded_by),),
    FOLLOW_UPS.key: (selectinload(Referral.follow_ups),),
    SHARING.key: (),
    ETHNIC.key: (),
    HISTORY.key: (
        selectinload(Referral.events).joinedload(ReferralEvent.actor),
        selectinload(Referral.connections).options(
            joinedload(Connection.offer).joinedload(Offer.organisation),
            selectinload(Connection.events).joinedload(ConnectionEvent.actor)),
    ),
}
# What a section shows of the rows the referral points to, beyond its person and team.
TO_ONE = {SUMMARY.key: (Referral.practice, Referral.referrer, Referral.connector)}


def _options(section: str, for_change: bool) -> tuple:
    # The rows a referral points to ride on its own SELECT as joins, one statement rather
    # than one each; a request that locks the row loads them after it, as FOR UPDATE
    # cannot lock the nullable side of an outer join (PostgreSQL).
    one = selectinload if for_change else joinedload
    return (*(one(to_one) for to_one in (Referral.patient, Referral.team,
                                         *TO_ONE.get(section, ()))),
            discrepancy.any_open(), *LOADS[section])


# Built once: loader options are immutable, and building them was a share of each request.
_OPTIONS = {(section, for_change): _options(section, for_change)
            for section in LOADS for for_change in (False, True)}

TEMPLATES = {SUMMARY.key: "caseload/workspace.html",
             CONTACTS.key: "caseload/workspace_contacts.html",
             FOLLOW_UPS.key: "caseload/workspace_follow_ups.html",
             SHARING.key: "caseload/workspace_sharing.html",
             HISTORY.key: "caseload/workspace_history.html",
             ETHNIC.key: "caseload/workspace_ethnic.html"}
# A form that failed is shown again on the section it belongs to.
FORM_SECTION = {"accept_form": SUMMARY.key, "reject_form": SUMMARY.key,
                "ethnic_form": ETHNIC.key, "contact_form": CONTACTS.key,
                "follow_up_form": FOLLOW_UPS.key, "sharing_form": SHARING.key,
                "risks_form": SHARING.key}


def load(referral_id: int, section: str = SUMMARY.key, *,
         for_change: bool = False) -> Referral:
    """A referral the user may see, with what `section` shows; else 404. A request that
    will change it loads it `for_change`: its row lock first, then the rest."""
    return access.referral_or_404(referral_id, *_OPTIONS[section, for_change],
                                  for_change=for_change)


def today() -> date:
    return utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def render(referral: Referral, section: str = SUMMARY.key, status: int = 200, **forms):
    """The section page; fresh forms for what the user may do there, or the failing form
    (with what was typed) passed in `forms`."""
    user = current_user._get_current_object()  # not the proxy: access.can reads it often
    conflict = forms.pop("conflict", None)
    context = {name: None for name in FORM_SECTION}
    context.update(_fresh_forms(referral, section))
    for form in context.values():
        if form is not None:
            form.started_from(referral.version)
    context.update(forms)
    day = today()
    extra = {}
    if section in (SUMMARY.key, CONTACTS.key):
        extra.update(
            offers_unable_to_contact=service.offers_unable_to_contact(referral),
            failed_attempts=service.failed_attempts(referral),
            max_attempts=service.max_attempts(referral))
    if section == CONTACTS.key:
        extra["contacts"] = list(reversed(referral.contacts))
    if section == FOLLOW_UPS.key:
        extra.update(
            scheduled=[f for f in referral.follow_ups if f.status is FollowUpStatus.SCHEDULED],
            past_follow_ups=[f for f in referral.follow_ups
                             if f.status is not FollowUpStatus.SCHEDULED])
    return render_template(
        TEMPLATES[section],
        referral=referral,
        section=BY_KEY[section],
        tabs=TABS,
        share=sharing.for_user(referral, user),
        details_to_check=discrepancy.open_for(referral),
        may_resolve=access.can(user, Action.RESOLVE_DISCREPANCY, referral),
        today=day,
        can_close=access.can(user, Action.CLOSE, referral),
        may_work=access.can(user, Action.RECORD_CONTACT, referral),
        may_set_preferences=access.can(user, Action.SET_PREFERENCES, referral),
        may_record_ethnic=access.can(user, Action.RECORD_ETHNIC_CATEGORY, referral),
        back_to_caseload=access.holds_caseload(user),
        first_contact_overdue=listing.first_contact_overdue(referral, day),
        conflict=conflict,
        **extra,
        **context,
    ), status


def _fresh_forms(referral: Referral, section: str) -> dict:
    """Fresh forms ignore what was posted: only the section's own, only if allowed."""
    user = current_user._get_current_object()  # not the proxy: access.can reads it often
    may_work = access.can(user, Action.RECORD_CONTACT, referral)
    if section == SUMMARY.key:
        return {
            "accept_form": AcceptForm(formdata=None)
            if access.can(user, Action.ACCEPT, referral) else None,
            "reject_form": RejectForm(formdata=None)
            if access.can(user, Action.REJECT, referral) else None,
        }
    if section == ETHNIC.key:
        return {"ethnic_form": EthnicCategoryForm(
            formdata=None, data={"ethnic_category": referral.patient.ethnic_category})
            if access.can(user, Action.RECORD_ETHNIC_CATEGORY, referral) else None}
    if section == CONTACTS.key:
        return {"contact_form": _fresh_contact_form() if may_work else None}
    if section == FOLLOW_UPS.key:
        return {"follow_up_form": FollowUpForm(formdata=None) if may_work else None}
    if section == SHARING.key:
        sharing_form = None
        if access.can(user, Action.SET_SHARING, referral):
            sharing_form = SharingForm(formdata=None)
            sharing_form.coded_only.data = referral.coded_only
        return {"sharing_form": sharing_form,
                "risks_form": RisksForm(formdata=None)
                if not referral.risks_stated and access.can(user, Action.RECORD_RISKS, referral)
                else None}
    return {}


def _fresh_contact_form() -> ContactForm:
    form = ContactForm(formdata=None)
    now = utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
    form.contact_date.data = now.date()
    form.contact_time.data = now.strftime("%H:%M")
    return form
