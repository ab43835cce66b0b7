"""What a page says when someone's change met another's: what changed since they opened
it, and what they typed that was not saved (so nothing they typed is lost)."""
from __future__ import annotations

from dataclasses import dataclass, field

from referrals.errors import StaleConnection, StaleReferral
from referrals.forms import KindlyForm
from referrals.models import ReferralChange

# Form fields worth giving back word for word: what people type at length.
TYPED_FIELDS = ("note", "notes", "reason", "purpose", "gp_actions", "risks")


@dataclass
class Conflict:
    """Shown at the top of the page (templates/_conflict.html)."""

    heading: str
    message: str
    changes: list[ReferralChange] = field(default_factory=list)
    # (label, text) of what the person typed, when the form cannot simply be sent again.
    unsaved: list[tuple[str, str]] = field(default_factory=list)


def stale(exc: StaleReferral | StaleConnection, form: KindlyForm | None = None, *,
          resend: bool = True) -> Conflict:
    """The referral (or connection) moved on since the form was rendered.

    With `resend` the form is shown again as it was typed, now based on the current
    version, so sending it again applies it on top of what changed. Without, what was
    typed is listed read-only for the person to copy.
    """
    if isinstance(exc, StaleConnection):
        message = str(exc)
        changes: list[ReferralChange] = []
    else:
        changes = exc.changes
        message = ("Since you opened it, this changed:" if changes
                   else "It was changed after you opened it.")
    if resend:
        message += (" What you typed is still below: check it still makes sense, then "
                    "send it again.") if changes or isinstance(exc, StaleConnection) else ""
    return Conflict("Someone else changed this referral" if isinstance(exc, StaleReferral)
                    else "Someone else changed this connection", message, changes,
                    [] if resend else typed(form))


def refused(message: str, form: KindlyForm | None, changes: list[ReferralChange] = ()
            ) -> Conflict:
    """The change can no longer be made (the referral closed meanwhile, say)."""
    return Conflict("Your change was not saved", message, list(changes), typed(form))


def typed(form: KindlyForm | None) -> list[tuple[str, str]]:
    if form is None:
        return []
    found = []
    for name in TYPED_FIELDS:
        fld = form._fields.get(name)
        if fld is not None and isinstance(fld.data, str) and fld.data.strip():
            found.append((str(fld.label.text), fld.data.strip()))
    return found


def sentence(changes: list[ReferralChange]) -> str:
    """The changes as one line for a flash message."""
    parts = [f"{c.summary} ({c.actor_name})" for c in changes[-3:]]
    more = len(changes) - len(parts)
    return "; ".join(parts) + (f"; and {more} earlier change{'s' if more != 1 else ''}"
                               if more > 0 else "")
