"""Thirty-odd searches people really type, over a small town's directory written for
this test: each names the offers it must find and, where it matters, those it must not.
On SQLite (FTS5) and PostgreSQL (text search) alike."""
from __future__ import annotations

import pytest

from referrals.directory import vocabulary
from referrals.directory.search import DirectoryQuery, search
from referrals.models import (
    DirectoryOrganisation,
    Offer,
    OfferAttribute,
    OfferKind,
    Taxonomy,
    TaxonomyTerm,
)

ORGANISATIONS = {"age": "Age Friendly Kindlebury", "cvs": "Kindlebury Voluntary Action",
                 "ca": "Citizens Advice Kindlebury", "church": "St Mary's Church"}

# key: (name, description, category codes, organisation)
OFFERS = {
    "choir": ("Kindlebury Community Choir",
              "A friendly choir for all voices. No need to read music.", ["music-singing"], "cvs"),
    "brain": ("Singing for the Brain",
              "Singing sessions for people living with dementia and their carers.", [], "age"),
    "oldies": ("Golden Oldies", "Sing along to songs from the fifties and sixties.", [], "age"),
    "housing": ("Housing advice drop-in", "Help with tenancy problems, repairs and rent.",
                ["housing"], "ca"),
    "tenants": ("Riverside Housing tenants' association",
                "Meet other tenants and raise issues with the landlord.", [], "cvs"),
    "phone": ("Telephone befriending", "A volunteer phones you every week for a chat.",
              ["befriending"], "age"),
    "visits": ("Home visiting friends",
               "Befriending visits for older people who live alone.", [], "age"),
    "friendship": ("Friendship Club",
                   "A social group for anyone feeling lonely or isolated.", [], "cvs"),
    "chatty": ("Chatty Café", "Tables where you can sit and talk to someone new.",
               ["social-groups"], "cvs"),
    "health_walks": ("Walking for Health",
                     "Gentle led walks of up to an hour, every Tuesday.", [], "cvs"),
    "ramblers": ("Kindlebury Ramblers", "Longer countryside walks at weekends.", [], "cvs"),
    "buggy": ("Buggy walks", "A walk in the park for new parents.", [], "cvs"),
    "money": ("Money clinic", "Free advice on debt, benefits and budgeting.",
              ["money-debt"], "ca"),
    "debt": ("Debt Support Trust", "One-to-one help to deal with debts and creditors.", [],
             "ca"),
    "dementia_carers": ("Dementia Carers' Support Group",
                        "Monthly meeting for people caring for someone with dementia.",
                        ["carers"], "age"),
    "memory": ("Memory Café",
               "A relaxed café for people with dementia and those who care for them.", [],
               "age"),
    "young_carers": ("Young Carers Club", "Activities and a break for young carers aged 8 to 17.",
                     ["carers"], "cvs"),
    "shed": ("Kindlebury Men's Shed", "Woodwork, repairs and a brew in a shared workshop.",
             ["mens-sheds"], "cvs"),
    "garden": ("Community Garden", "Grow vegetables and flowers with others.", [], "cvs"),
    "allotment": ("Allotment Buddies", "Share a plot and learn to grow your own food.", [],
                  "cvs"),
    "hospice_garden": ("Hospice garden volunteer", "Help keep the hospice grounds tidy.", [],
                       "cvs"),
    "bereavement": ("Bereavement Support Group", "Meet others who have lost someone close.",
                    ["bereavement"], "church"),
    "widowed": ("Widowed and Young", "Peer support for people whose partner has died.", [],
                "cvs"),
    "art": ("Art for Wellbeing", "Painting and drawing classes for beginners.", [], "cvs"),
    "crafts": ("Craft Corner", "Card making, collage and crafts.", ["arts-crafts"], "church"),
    "knit": ("Knit and Natter", "Bring your knitting or crochet and enjoy a chat.", [],
             "church"),
    "chair": ("Chair-based exercise for older people",
              "Gentle exercises done sitting down, for people over 65.", [], "age"),
    "tai_chi": ("Tai Chi for balance",
                "Slow movements to improve balance and prevent falls in older age.", [], "age"),
    "swim": ("Over 50s swimming", "Quiet sessions at the leisure centre pool.", [], "cvs"),
    "coffee": ("Coffee morning at St Mary's", "Tea, coffee and cake every Thursday.", [],
               "church"),
    "lunch": ("Lunch Club", "A hot two-course lunch and company.", ["food-lunch-clubs"], "church"),
    "food_bank": ("Kindlebury Food Bank", "Emergency food parcels, no questions asked.", [],
                  "church"),
    "online": ("Get Online Sessions", "Help with smartphones, tablets and email.", [], "cvs"),
    "low_mood": ("Anxiety and low mood group", "A peer group to talk about worries.", [],
                 "cvs"),
    "heart": ("Healthy Heart Club", "Advice and gentle activity after a heart attack.", [],
              "age"),
    "arthritis": ("Arthritis support group", "For people living with arthritis.", [], "age"),
    "dance": ("Tea dance", "Ballroom dancing to live music every Friday.", [], "church"),
    "cook": ("Cook and Eat", "Learn to cook simple healthy meals on a budget.", [], "cvs"),
    "warm": ("Warm Space", "A warm place to spend the day, with hot drinks.", [], "church"),
}

# query: (offers it must find, offers it must not find)
QUERIES = {
    "lonely": ({"friendship", "phone", "visits", "chatty"}, {"housing"}),
    "loneliness": ({"friendship", "phone", "visits"}, set()),
    "isolated": ({"friendship", "phone", "visits"}, set()),
    "befriending": ({"phone", "visits", "friendship"}, set()),
    "walking": ({"health_walks", "ramblers", "buggy"}, set()),
    "walk": ({"health_walks", "ramblers", "buggy"}, set()),
    "walkng": ({"health_walks", "ramblers", "buggy"}, set()),
    "choir": ({"choir", "brain", "oldies"}, {"housing", "tenants"}),
    "singing": ({"choir", "brain", "oldies"}, {"housing", "tenants"}),
    "sing": ({"choir", "brain", "oldies"}, {"housing", "tenants"}),
    "chior": ({"choir"}, {"housing"}),
    "choirr": ({"choir"}, {"housing"}),
    "money advice": ({"money", "debt"}, set()),
    "debt": ({"money", "debt"}, set()),
    "dementia carers": ({"dementia_carers", "memory", "brain"}, {"young_carers"}),
    "dementia": ({"dementia_carers", "memory", "brain"}, set()),
    "carers": ({"dementia_carers", "young_carers"}, set()),
    "men's shed": ({"shed"}, set()),
    "mens shed": ({"shed"}, set()),
    "gardening": ({"garden", "allotment", "hospice_garden"}, set()),
    "bereavement": ({"bereavement", "widowed"}, set()),
    "bereavment": ({"bereavement"}, set()),
    "grief": ({"bereavement"}, set()),
    "art": ({"art", "crafts"}, {"heart", "arthritis"}),
    "exercise for older people": ({"chair", "tai_chi"}, set()),
    "knit": ({"knit"}, set()),
    "knitting": ({"knit"}, set()),
    "coffee morning": ({"coffee", "chatty"}, set()),
    "swimming": ({"swim"}, set()),
    "food bank": ({"food_bank"}, set()),
    "computer help": ({"online"}, set()),
    "anxiety": ({"low_mood"}, set()),
    "dancing": ({"dance"}, set()),
    "cookery": ({"cook"}, set()),
}


@pytest.fixture
def directory(db):
    """The town's offers (all active groups); key -> offer id."""
    db.session.add(Taxonomy(id=vocabulary.TAXONOMY_ID, name=vocabulary.TAXONOMY_NAME))
    for category in vocabulary.CATEGORIES:
        db.session.add(TaxonomyTerm(id=category.id, code=category.code, name=category.name,
                                    taxonomy_id=vocabulary.TAXONOMY_ID))
    organisations = {key: DirectoryOrganisation(id=f"org-{key}", name=name)
                     for key, name in ORGANISATIONS.items()}
    for key, (name, description, codes, organisation) in OFFERS.items():
        db.session.add(Offer(
            id=f"offer-{key}", name=name, description=description, kind=OfferKind.GROUP,
            organisation=organisations[organisation], is_free=True,
            attributes=[OfferAttribute(id=f"attr-{key}-{code}",
                                       taxonomy_term_id=vocabulary.CATEGORY_BY_CODE[code].id)
                        for code in codes]))
    db.session.flush()
    return {key: f"offer-{key}" for key in OFFERS}


def found(text: str) -> set[str]:
    results = search(DirectoryQuery(text=text, per_page=200))
    return {hit.offer.id.removeprefix("offer-") for hit in results.hits}


def test_each_search_finds_what_it_must_and_not_what_it_must_not(directory):
    # One directory for every query (it takes longer to build than to search); every
    # query that fails is reported, not just the first.
    wrong = {}
    for text, (must, must_not) in QUERIES.items():
        results = found(text)
        if not must <= results or must_not & results:
            wrong[text] = {"missed": sorted(must - results),
                           "wrongly found": sorted(must_not & results)}
    assert not wrong, f"{len(wrong)} of {len(QUERIES)} searches wrong: {wrong}"


def test_the_words_typed_rank_above_their_synonyms(directory):
    hits = search(DirectoryQuery(text="choir")).hits
    assert hits[0].offer.id == directory["choir"]
    # "befriending" is in both befriending offers; the Friendship Club only has "lonely".
    ranked = [hit.offer.id for hit in search(DirectoryQuery(text="befriending")).hits]
    assert set(ranked[:2]) == {directory["phone"], directory["visits"]}
    assert ranked.index(directory["friendship"]) > 1


def test_a_mistyped_word_is_corrected_and_said_so_but_known_words_are_left_alone(directory):
    assert search(DirectoryQuery(text="walkng")).corrected_text == "walking"
    assert search(DirectoryQuery(text="Chior")).corrected_text == "choir"
    # Another form of an indexed word, and a synonym, are not typos.
    assert search(DirectoryQuery(text="walks")).corrected_text is None
    assert search(DirectoryQuery(text="lonely")).corrected_text is None
    # Asked for exactly what was typed: nothing is corrected, so nothing is found.
    exact = search(DirectoryQuery(text="walkng", correct=False))
    assert exact.corrected_text is None and exact.total == 0


def test_when_no_offer_has_every_word_offers_with_any_of_them_are_shown(directory):
    assert {"knit", "swim"} <= found("knitting swimming")


def test_words_combine_with_the_other_filters(directory, db):
    db.session.get(Offer, directory["ramblers"]).kind = OfferKind.VOLUNTEERING
    db.session.flush()
    assert found_with(DirectoryQuery(text="walking", kinds={OfferKind.VOLUNTEERING})) == {
        "ramblers"}


def found_with(query: DirectoryQuery) -> set[str]:
    return {hit.offer.id.removeprefix("offer-") for hit in search(query).hits}


def test_the_index_follows_every_change_to_an_offer_its_organisation_and_categories(
        directory, db):
    offer = db.session.get(Offer, directory["warm"])
    offer.name, offer.description = "Winter warmth hub", "Soup and board games."
    db.session.flush()
    assert "warm" in found("soup") and "warm" not in found("drinks")

    offer.organisation = db.session.get(DirectoryOrganisation, "org-ca")
    db.session.flush()
    assert "warm" in found("citizens")

    db.session.get(DirectoryOrganisation, "org-church").name = "Kindlebury Parish"
    db.session.flush()
    assert "coffee" in found("parish") and found("church") == set()

    db.session.get(TaxonomyTerm, vocabulary.CATEGORY_BY_CODE["mens-sheds"].id).name = \
        "Workshops"
    db.session.flush()
    assert "shed" in found("workshops")

    offer.attributes.append(OfferAttribute(
        id="attr-warm-lunch", taxonomy_term_id=vocabulary.CATEGORY_BY_CODE["food-lunch-clubs"].id))
    db.session.flush()
    assert "warm" in found("lunch clubs")

    db.session.add(Offer(id="offer-new", name="Ukulele orchestra", is_free=True))
    db.session.flush()
    assert found("ukulele") == {"new"}
    # A word only the new offer has is one a typo is corrected to.
    assert search(DirectoryQuery(text="ukelele")).corrected_text == "ukulele"

    db.session.delete(db.session.get(Offer, "offer-new"))
    db.session.flush()
    assert found("ukulele") == set()
