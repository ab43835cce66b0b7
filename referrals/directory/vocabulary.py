"""The directory's controlled lists: offer categories, accessibility features, languages,
and THE mapping from reasons for referral to categories.

Categories are published as one Open Referral taxonomy ("Kindly activity categories"), so
their ids are fixed UUIDs derived from their codes: an export, the demo file and a
re-import all agree on them.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

TAXONOMY_NAMESPACE = uuid.UUID("5d0f6b0e-7f53-4d0c-9a47-2f3b6c1e9a10")
TAXONOMY_ID = str(uuid.uuid5(TAXONOMY_NAMESPACE, "kindly-activity-categories"))
TAXONOMY_NAME = "Kindly activity categories"
TAXONOMY_DESCRIPTION = (
    "What a community offer is about, in the words connectors use; each reason for "
    "referral maps to one or more of these."
)


def term_id(code: str) -> str:
    return str(uuid.uuid5(TAXONOMY_NAMESPACE, f"category:{code}"))


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    description: str

    @property
    def id(self) -> str:
        return term_id(self.code)


CATEGORIES: tuple[Category, ...] = (
    Category("social-groups", "Social groups and coffee mornings",
             "Regular places to meet people and chat."),
    Category("befriending", "Befriending",
             "A volunteer who visits or phones regularly."),
    Category("bereavement", "Bereavement support", "Support after someone has died."),
    Category("carers", "Carers' support", "Support, breaks and groups for unpaid carers."),
    Category("physical-activity", "Walking and physical activity",
             "Walking groups, gentle exercise, sport and dance."),
    Category("food-lunch-clubs", "Lunch clubs and food",
             "Shared meals, lunch clubs, community cafés and food support."),
    Category("mens-sheds", "Men's sheds", "Workshops where people make, mend and talk."),
    Category("arts-crafts", "Arts and crafts", "Making things together: art, crafts, knitting."),
    Category("music-singing", "Music and singing", "Choirs, singing and music groups."),
    Category("gardening-nature", "Gardening and nature",
             "Community gardens, allotments and conservation."),
    Category("digital-skills", "Digital skills", "Help with phones, tablets and getting online."),
    Category("money-debt", "Money and debt advice", "Benefits, debt and budgeting advice."),
    Category("housing", "Housing advice", "Help with housing problems and tenancy."),
    Category("mental-wellbeing", "Mental wellbeing and peer support",
             "Talking groups, peer support and wellbeing courses."),
    Category("health-conditions", "Living with a health condition",
             "Support groups for long-term conditions."),
    Category("learning-work", "Learning and work", "Courses, skills and help into work."),
    Category("volunteering", "Volunteering", "Ways to give time and help others."),
)
CATEGORY_BY_CODE = {c.code: c for c in CATEGORIES}
CATEGORY_BY_ID = {c.id: c for c in CATEGORIES}

# THE mapping from reasons for referral (referrals.reasons) to offer categories; the
# matcher and the "suggested for" hints read it from here and nowhere else.
REASON_CATEGORIES: dict[str, tuple[str, ...]] = {
    "social-isolation": ("social-groups", "befriending", "food-lunch-clubs", "mens-sheds",
                         "arts-crafts", "music-singing", "gardening-nature"),
    "loneliness": ("befriending", "social-groups", "food-lunch-clubs", "music-singing",
                   "mens-sheds"),
    "bereavement": ("bereavement", "befriending", "social-groups"),
    "low-mood": ("mental-wellbeing", "physical-activity", "gardening-nature", "arts-crafts",
                 "music-singing"),
    "carer-support": ("carers",),
    "long-term-condition": ("health-conditions", "physical-activity", "mental-wellbeing"),
    "physical-activity": ("physical-activity", "gardening-nature"),
    "money-debt": ("money-debt",),
    "housing": ("housing", "money-debt"),
    "employment-volunteering": ("volunteering", "learning-work", "digital-skills"),
    "other": (),
}


def categories_for_reasons(codes) -> set[str]:
    """Category codes that serve any of these reasons for referral."""
    return {c for code in codes for c in REASON_CATEGORIES.get(code, ())}


@dataclass(frozen=True)
class Feature:
    code: str
    label: str


# What a venue or offer provides; a person's access needs are chosen from the same list.
ACCESSIBILITY: tuple[Feature, ...] = (
    Feature("step-free", "Step-free access"),
    Feature("accessible-toilet", "Accessible toilet"),
    Feature("hearing-loop", "Hearing loop"),
    Feature("seating", "Seating available throughout"),
    Feature("parking", "Blue badge parking"),
    Feature("public-transport", "Near a bus stop"),
    Feature("quiet-space", "Quiet space"),
    Feature("large-print", "Large print materials"),
    Feature("bsl", "British Sign Language"),
    Feature("dementia-friendly", "Dementia friendly"),
)
ACCESSIBILITY_BY_CODE = {f.code: f for f in ACCESSIBILITY}

# ISO 639-1 codes for the languages the town's offers are run in.
LANGUAGES: dict[str, str] = {
    "en": "English", "cy": "Welsh", "pl": "Polish", "pa": "Punjabi", "ur": "Urdu",
    "bn": "Bengali", "gu": "Gujarati", "ar": "Arabic", "ro": "Romanian", "pt": "Portuguese",
    "so": "Somali", "uk": "Ukrainian", "zh": "Chinese", "bfi": "British Sign Language",
}
LANGUAGE_BY_NAME = {name.casefold(): code for code, name in LANGUAGES.items()}

# RFC 5545 weekday codes (as HSDS schedules use them), Monday first.
WEEKDAYS: tuple[tuple[str, str], ...] = (
    ("MO", "Monday"), ("TU", "Tuesday"), ("WE", "Wednesday"), ("TH", "Thursday"),
    ("FR", "Friday"), ("SA", "Saturday"), ("SU", "Sunday"),
)
WEEKDAY_NAMES = dict(WEEKDAYS)


@dataclass(frozen=True)
class Term:
    """A term of one of Kindly's own small taxonomies (offer kind, capacity status)."""

    taxonomy: str
    code: str
    name: str

    @property
    def id(self) -> str:
        return str(uuid.uuid5(TAXONOMY_NAMESPACE, f"{self.taxonomy}:{self.code}"))


# Open Referral has no field for what kind of offer a service is or whether it has room,
# so both travel as attributes linking the service to a term of these taxonomies.
KIND_TAXONOMY = "kindly-offer-kind"
CAPACITY_TAXONOMY = "kindly-capacity-status"
KIND_TAXONOMY_ID = str(uuid.uuid5(TAXONOMY_NAMESPACE, KIND_TAXONOMY))
CAPACITY_TAXONOMY_ID = str(uuid.uuid5(TAXONOMY_NAMESPACE, CAPACITY_TAXONOMY))
KIND_TERMS = {
    "group": Term(KIND_TAXONOMY, "group", "Group or activity"),
    "service": Term(KIND_TAXONOMY, "service", "Service"),
    "volunteering": Term(KIND_TAXONOMY, "volunteering", "Volunteering opportunity"),
}
CAPACITY_TERMS = {
    "open": Term(CAPACITY_TAXONOMY, "open", "Open to new people"),
    "waiting-list": Term(CAPACITY_TAXONOMY, "waiting-list", "Waiting list"),
    "full": Term(CAPACITY_TAXONOMY, "full", "Full: not taking anyone new"),
}
