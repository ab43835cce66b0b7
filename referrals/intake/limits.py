"""How long each text field of a referral may be, wherever it comes from.

The referral form's and the self-referral form's Length validators, the intake service's
check() (so the FHIR API too) and the connector's risks form all read this one table,
so the web and FHIR cannot drift apart.
"""
from __future__ import annotations

# Characters, counted after trimming. "risks" counts the risks as stored, one a line;
# "reason_other" each reason kept as "other"; the referrer's identifier is "system|value".
MAX_LENGTHS = {
    "given_name": 100,
    "family_name": 100,
    "postcode": 10,
    "phone": 30,
    "email": 254,
    "interpreter_language": 60,
    "reason_other": 500,
    "what_matters": 4000,
    "risks": 4000,
    "referrer_name": 200,
    "referrer_identifier": 120,
}
_LABELS = {
    "given_name": "Given name",
    "family_name": "Family name",
    "postcode": "Postcode",
    "phone": "Phone number",
    "email": "Email address",
    "interpreter_language": "Language",
    "reason_other": "The other reason for referral",
    "what_matters": "What matters to the person",
    "risks": "Known risks",
    "referrer_name": "The referrer's name",
    "referrer_identifier": "The referrer's identifier",
}


def too_long_message(name: str) -> str:
    return f"{_LABELS[name]} must be {MAX_LENGTHS[name]} characters or fewer"


def too_long(texts: dict[str, str]) -> dict[str, str]:
    """{field: message} for each of `texts` (by field name) longer than its limit."""
    return {name: too_long_message(name) for name, text in texts.items()
            if len(text.strip()) > MAX_LENGTHS[name]}
