"""The person referred: demographics and communication needs."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referrals.models.base import Base, UTCDateTime, utcnow
from referrals.models.columns import enum_column_type
from referrals.models.organisation import Practice


# ETHNIC CATEGORY when nobody asked (Z is asked and preferred not to say).
ETHNIC_NOT_KNOWN = "99"


class Sex(StrEnum):
    # FHIR administrative gender codes, so the API maps one to one.
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return {"female": "Female", "male": "Male", "other": "Other", "unknown": "Not known"}[
            self.value
        ]


class ContactMethod(StrEnum):
    PHONE = "phone"
    TEXT = "text"
    EMAIL = "email"
    LETTER = "letter"

    @property
    def label(self) -> str:
        return {
            "phone": "Phone call",
            "text": "Text message",
            "email": "Email",
            "letter": "Letter",
        }[self.value]


class CommunicationNeed(StrEnum):
    """Needs recorded under the Accessible Information Standard (DCB1605)."""

    LARGE_PRINT = "large-print"
    EASY_READ = "easy-read"
    BRAILLE = "braille"
    AUDIO = "audio"
    BSL_INTERPRETER = "bsl-interpreter"
    SPOKEN_INTERPRETER = "spoken-interpreter"
    HEARING_LOOP = "hearing-loop"
    TEXT_RELAY = "text-relay"
    ADVOCATE = "advocate"

    @property
    def label(self) -> str:
        return COMMUNICATION_NEED_LABELS[self]


COMMUNICATION_NEED_LABELS = {
    CommunicationNeed.LARGE_PRINT: "Large print",
    CommunicationNeed.EASY_READ: "Easy read",
    CommunicationNeed.BRAILLE: "Braille",
    CommunicationNeed.AUDIO: "Information as audio",
    CommunicationNeed.BSL_INTERPRETER: "British Sign Language interpreter",
    CommunicationNeed.SPOKEN_INTERPRETER: "Interpreter for a spoken language",
    CommunicationNeed.HEARING_LOOP: "Hearing loop",
    CommunicationNeed.TEXT_RELAY: "Text relay (Relay UK) for phone calls",
    CommunicationNeed.ADVOCATE: "Needs an advocate or carer present",
}


class Patient(Base):
    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unknown (None) only when a person referred themselves without giving it.
    nhs_number: Mapped[str | None] = mapped_column(String(10), unique=True)
    # UK Core NHS number verification status code ("01" = present and verified), if known.
    nhs_number_status: Mapped[str] = mapped_column(String(2), default="", server_default="")
    # NHS Data Dictionary ETHNIC CATEGORY: A-S as stated, Z when the person was asked and
    # preferred not to say, 99 when nobody asked.
    ethnic_category: Mapped[str] = mapped_column(String(2), default=ETHNIC_NOT_KNOWN, server_default=ETHNIC_NOT_KNOWN)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100), index=True)
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[Sex] = mapped_column(enum_column_type(Sex))
    postcode: Mapped[str] = mapped_column(String(8))
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    preferred_contact: Mapped[ContactMethod | None] = mapped_column(
        enum_column_type(ContactMethod)
    )
    communication_needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    interpreter_language: Mapped[str] = mapped_column(String(60), default="")
    practice_id: Mapped[int | None] = mapped_column(ForeignKey("practice.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    practice: Mapped[Practice | None] = relationship()

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def communication_need_labels(self) -> list[str]:
        labels = []
        for code in self.communication_needs or []:
            need = CommunicationNeed(code)
            label = need.label
            if need is CommunicationNeed.SPOKEN_INTERPRETER and self.interpreter_language:
                label = f"{label}: {self.interpreter_language}"
            labels.append(label)
        return labels

    def __repr__(self) -> str:
        return f"<Patient {self.id}>"
