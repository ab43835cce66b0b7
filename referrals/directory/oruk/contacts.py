"""Organizations and a service's contacts and phones, both ways: Kindly keeps one contact
name and one phone number; the source's own contact and phone objects are kept in `extra`
unless export would write them anyway, and export lays Kindly's values on top.
"""
from __future__ import annotations

import copy

from referrals.directory.oruk.formats import _extra_out, _put
from referrals.directory.oruk.reader import _Reader
from referrals.directory.oruk.terms import generated_id
from referrals.models import DirectoryOrganisation, Offer

# --- export ------------------------------------------------------------------------


_ORG_HANDLED = frozenset({"id", "name", "description", "email", "website", "phones"})


def organization(org: DirectoryOrganisation) -> dict:
    extra = org.extra or {}
    out = _extra_out(extra, _ORG_HANDLED)
    out.update(id=org.id, name=org.name, description=org.description or "")
    _put(out, "email", org.email)
    _put(out, "website", org.website)
    phones = _phones_out(extra.get("phones"), org.phone, org.id, "organization_id")
    if phones:
        out["phones"] = phones
    return out


def _phones_out(kept, number: str, parent_id: str, link: str) -> list[dict]:
    phones = copy.deepcopy(kept) if isinstance(kept, list) else []
    if phones and isinstance(phones[0], dict):
        if number:
            phones[0]["number"] = number
        else:
            phones.pop(0)  # a phone without a number is not a phone (HSDS requires it)
    elif number:
        phones.append({"id": generated_id(parent_id, "phone"), link: parent_id, "number": number})
    return phones


def _generated_phones(number: str, parent_id: str, link: str) -> list[dict]:
    return _phones_out(None, number, parent_id, link)


def organization_summary(org: DirectoryOrganisation) -> dict:
    """The organization's one-to-one fields (as a service list nests it)."""
    return {k: val for k, val in organization(org).items() if not isinstance(val, (list, dict))}


def _contacts_out(offer: Offer) -> list[dict]:
    kept = (offer.extra or {}).get("contacts")
    contacts = copy.deepcopy(kept) if isinstance(kept, list) else []
    if contacts and isinstance(contacts[0], dict):
        if offer.contact_name:
            contacts[0]["name"] = offer.contact_name
        else:
            contacts[0].pop("name", None)
    elif offer.contact_name:
        contacts.append({"id": generated_id(offer.id, "contact"), "service_id": offer.id,
                         "name": offer.contact_name})
    if not _service_phone_kept(offer) and contacts and isinstance(contacts[0], dict) \
            and isinstance(contacts[0].get("phones"), list) and contacts[0]["phones"]:
        # The phone lives with the contact (as in the demo file): Kindly's number goes there.
        contacts[0]["phones"] = _phones_out(contacts[0]["phones"], offer.contact_phone,
                                            contacts[0].get("id", offer.id), "contact_id")
    return contacts


def _service_phone_kept(offer: Offer) -> bool:
    kept = (offer.extra or {}).get("phones")
    return isinstance(kept, list) and bool(kept)


def _service_phones_out(offer: Offer, contacts: list[dict]) -> list[dict]:
    if _service_phone_kept(offer):
        return _phones_out(offer.extra["phones"], offer.contact_phone, offer.id, "service_id")
    on_contact = bool(contacts) and isinstance(contacts[0], dict) and bool(
        contacts[0].get("phones"))
    if on_contact or not offer.contact_phone:
        return []
    return _generated_phones(offer.contact_phone, offer.id, "service_id")


# --- import ------------------------------------------------------------------------


def organisation_fields(data, where: str) -> dict:
    r = _Reader(data, where)
    extra = r.rest(_ORG_HANDLED)
    org = {"id": r.id(), "name": r.text("name", required=True),
           "description": r.text("description"), "email": r.text("email"),
           "website": r.text("website")}
    phones = r.items("phones")
    org["phone"] = phones[0][0].text("number") if phones else ""
    if phones and [p for _, p in phones] != _generated_phones(org["phone"], org["id"],
                                                               "organization_id"):
        extra["phones"] = [copy.deepcopy(p) for _, p in phones]
    org["extra"] = extra
    return org


def _contacts(r: _Reader, offer: dict, extra: dict) -> None:
    contacts = r.items("contacts")
    phones = r.items("phones")
    offer["contact_name"] = contacts[0][0].text("name") if contacts else ""
    if phones:
        offer["contact_phone"] = phones[0][0].text("number")
    elif contacts:
        contact_phones = contacts[0][0].items("phones")
        offer["contact_phone"] = contact_phones[0][0].text("number") if contact_phones else ""
    else:
        offer["contact_phone"] = ""
    oid = offer["id"]
    generated_contacts = ([{"id": generated_id(oid, "contact"), "service_id": oid,
                            "name": offer["contact_name"]}] if offer["contact_name"] else [])
    if contacts and [c for _, c in contacts] != generated_contacts:
        extra["contacts"] = [copy.deepcopy(c) for _, c in contacts]
    if phones and [p for _, p in phones] != _generated_phones(offer["contact_phone"], oid,
                                                               "service_id"):
        extra["phones"] = [copy.deepcopy(p) for _, p in phones]
