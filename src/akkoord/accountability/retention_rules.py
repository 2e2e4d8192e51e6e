"""When a contact's data has expired: the retention rule as a pure function.

No Django, no database, no clock: the job (``accountability.retention``) gathers
the facts, this module decides. The rule (also in ``docs/retention.md``):

A contact **expires** when both hold:

1. **No current basis.** No consent for any purpose is GRANTED, PENDING
   (awaiting double opt-in) or UNPROVEN (awaiting re-permission), and there is
   no customer relationship: no purchase on or after the customer cutoff
   (``today`` minus the organisation's ``customer_relationship_months``).
2. **Quiet for the retention period.** The latest sign of life — the latest of
   the last consent change, the last purchase, the last timeline activity and
   the registration — lies *more than* the retention period before ``now``.
   The period is the **longest** of the retention periods involved: those of
   every purpose the contact has (or had) a consent state for, and those of
   every data category the contact's data falls in. With none involved, the
   default period applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

BASIS_STATUSES = frozenset({"granted", "pending", "unproven"})


@dataclass(frozen=True)
class RetentionFacts:
    """What the rule needs to know about one contact."""

    created_at: datetime
    statuses: tuple[str, ...] = ()
    purpose_days: tuple[int, ...] = ()
    category_days: tuple[int, ...] = ()
    last_consent_change: datetime | None = None
    last_purchase_on: date | None = None
    last_activity: datetime | None = None
    extra: dict = field(default_factory=dict, compare=False)


def has_basis(facts: RetentionFacts, customer_cutoff: date) -> bool:
    """A consent that still counts, or a customer relationship within the window."""
    if any(status in BASIS_STATUSES for status in facts.statuses):
        return True
    return facts.last_purchase_on is not None and facts.last_purchase_on >= customer_cutoff


def retention_days(facts: RetentionFacts, default_days: int) -> int:
    """The longest retention period of the purposes and categories involved."""
    involved = (*facts.purpose_days, *facts.category_days)
    return max(involved) if involved else default_days


def last_sign_of_life(facts: RetentionFacts) -> datetime:
    """The latest of registration, last consent change, last purchase, last activity."""
    moments = [facts.created_at]
    if facts.last_consent_change is not None:
        moments.append(facts.last_consent_change)
    if facts.last_activity is not None:
        moments.append(facts.last_activity)
    if facts.last_purchase_on is not None:
        # A purchase day counts until its end (UTC), never cutting a day short.
        moments.append(datetime.combine(facts.last_purchase_on, time.max, tzinfo=UTC))
    return max(moments)


def is_expired(
    facts: RetentionFacts, *, now: datetime, customer_cutoff: date, default_days: int
) -> bool:
    """True when the contact has no basis and has been quiet beyond its retention period."""
    if has_basis(facts, customer_cutoff):
        return False
    period = timedelta(days=retention_days(facts, default_days))
    return last_sign_of_life(facts) < now - period
