"""Generated people: 60% women, older than the population, ethnic categories in about
England's 2021 census proportions, living mostly near their practice."""
from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from referrals.generate.places import PracticeInfo
from referrals.generate.writer import Ids, Writer
from referrals.nhs_number import check_digit

GIVEN = {
    "female": ["Margaret", "Joan", "Aisha", "Sarah", "Evelyn", "Grace", "Patricia", "Zainab",
               "Lucy", "Irene", "Hannah", "Doreen", "Chloe", "Nia", "Maureen", "Fatima",
               "Susan", "Linda", "Agnieszka", "Priya", "Janet", "Olivia", "Amara", "Brenda"],
    "male": ["George", "Arthur", "Dennis", "Mohammed", "Liam", "Kenneth", "Tariq", "Frank",
             "Peter", "Raymond", "Owen", "Callum", "Stanley", "Imran", "Tomasz", "Kwame",
             "Derek", "Brian", "Sanjay", "Keith", "Gary", "David", "Harold", "Ian"],
}
FAMILY = ["Walker", "Hughes", "Begum", "Thompson", "Clarke", "Ali", "Wright", "Robinson",
          "Evans", "Khan", "Turner", "Edwards", "Green", "Hall", "Wood", "Jackson", "Harris",
          "Lewis", "Morris", "Cooper", "Ward", "Baker", "Kowalski", "Mensah", "Patel", "Smith",
          "Jones", "Taylor", "Brown", "Davies", "Singh", "Kaur", "O'Brien", "Murphy"]
SEXES = (("female", 60), ("male", 38.5), ("other", 0.5), ("unknown", 1))
# Ages of the people referred: older than the population, as the evaluations find.
AGE_BANDS = (((18, 29), 8), ((30, 44), 12), ((45, 64), 28), ((65, 79), 32), ((80, 98), 20))
# NHS Data Dictionary ETHNIC CATEGORY among those who said (ONS census 2021, England,
# rounded), then Z (asked, preferred not to say) and 99 (never asked) on top.
ETHNIC_STATED = {"A": 73.5, "B": 0.9, "C": 6.4, "D": 0.8, "E": 0.5, "F": 0.8, "G": 0.9,
                 "H": 3.3, "J": 2.8, "K": 1.1, "L": 1.7, "M": 1.1, "N": 2.6, "P": 0.5,
                 "R": 0.7, "S": 2.4}
ETHNIC_NOT_STATED = {"Z": 4.0, "99": 14.0}
ETHNIC_CODES = list(ETHNIC_STATED) + list(ETHNIC_NOT_STATED)
ETHNIC_WEIGHTS = ([w * (100 - sum(ETHNIC_NOT_STATED.values())) / 100
                   for w in ETHNIC_STATED.values()] + list(ETHNIC_NOT_STATED.values()))


def nhs_numbers() -> Iterator[str]:
    """Valid NHS numbers from the never-issued 999 range, in order."""
    n = 0
    while True:
        n += 1
        first_nine = f"999{n:06d}"
        if (digit := check_digit(first_nine)) is not None:
            yield first_nine + str(digit)


def add_patient(rng: random.Random, ids: Ids, out: Writer, numbers: Iterator[str],
                practice: PracticeInfo, districts, *, source: str, today: date,
                at: datetime, ethnic_category: str | None = None) -> tuple[int, str, bool]:
    """Write one person; return their id, postcode and whether their NHS number is known.
    Their ethnic category is drawn in census proportions unless given."""
    sex = rng.choices([s for s, _ in SEXES], [w for _, w in SEXES])[0]
    (low, high), = rng.choices([band for band, _ in AGE_BANDS], [w for _, w in AGE_BANDS])
    born = today - timedelta(days=rng.randint(low * 365 + 1, high * 365 + 360))
    # Most live in their practice's district; the rest nearby.
    district = practice.district if rng.random() < 0.8 else rng.choice(districts)
    postcode = rng.choice(district.postcodes)
    given = rng.choice(GIVEN.get(sex) or GIVEN[rng.choice(["female", "male"])])
    family = rng.choice(FAMILY)
    # Someone referring themselves may not know their NHS number.
    known = source != "self" or rng.random() < 0.7
    patient_id = ids("patient")
    needs = []
    if rng.random() < 0.08:
        needs.append("large-print")
    interpreter = ""
    if rng.random() < 0.03:
        needs.append("spoken-interpreter")
        interpreter = rng.choice(["Polish", "Punjabi", "Urdu", "Romanian", "Arabic"])
    out.add("patient", {
        "id": patient_id, "nhs_number": next(numbers) if known else None,
        "nhs_number_status": "01" if source == "fhir" else "",
        "ethnic_category": ethnic_category if ethnic_category is not None
        else rng.choices(ETHNIC_CODES, ETHNIC_WEIGHTS)[0],
        "given_name": given, "family_name": family, "birth_date": born, "sex": sex,
        "postcode": postcode, "phone": f"07700 900{rng.randint(0, 999):03d}",
        "email": f"{given.lower()}.{family.lower().replace(chr(39), '')}@example.com"
        if rng.random() < 0.35 else "",
        "preferred_contact": rng.choices(["phone", "text", "email", "letter"],
                                         [60, 25, 10, 5])[0],
        "communication_needs": needs, "interpreter_language": interpreter,
        "practice_id": practice.id, "created_at": at, "updated_at": at})
    return patient_id, postcode, known
