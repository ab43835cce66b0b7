"""Column helpers shared by the models."""
from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum


def enum_column_type(enum_cls: type[StrEnum]) -> Enum:
    """Store a StrEnum by its value as VARCHAR, with a CHECK on both databases."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls) + 8,
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )
