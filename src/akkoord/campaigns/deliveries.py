"""Deliveries in words: why a person got (or did not get) a campaign mail.

Used by the campaign pages and the contact page's campaign section.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from akkoord.campaigns.models import Delivery, DeliveryStatus, FailureReason
from akkoord.consent.explain import BASIS_TEXTS, REASON_TEXTS, customer_basis_text
from akkoord.consent.rules import Basis, Reason


def failure_text(reason: str) -> str:
    if reason in FailureReason.values:
        return str(FailureReason(reason).label)
    # Failed before reasons were stored: the server's reply says why.
    return _("See the server reply.")


def explain_delivery(delivery: Delivery) -> str:
    """Why did this person get (or not get) this mail? In words."""
    basis = str(BASIS_TEXTS.get(Basis(delivery.basis), delivery.basis))
    if delivery.status == DeliveryStatus.SKIPPED:
        reason = delivery.skip_reason
        if reason in {r.value for r in Reason}:
            return _("Not sent: %(why)s") % {"why": REASON_TEXTS[Reason(reason)]}
        return _("Not sent: %(why)s") % {"why": reason}
    if delivery.status == DeliveryStatus.FAILED:
        return _("Failed: %(why)s") % {"why": failure_text(delivery.failure_reason)}
    if delivery.basis == Basis.CONSENT and delivery.consent_seq:
        return _("Basis: %(basis)s (consent event #%(seq)s in the ledger)") % {
            "basis": basis,
            "seq": delivery.consent_seq,
        }
    if delivery.basis == Basis.CUSTOMER and delivery.customer_purchase is not None:
        purchase = delivery.customer_purchase
        return _("Basis: %(basis)s (%(purchase)s)") % {
            "basis": basis,
            "purchase": customer_basis_text(
                purchased_on=purchase.purchased_on,
                description=purchase.description,
                category=str(purchase.category),
            ),
        }
    if delivery.basis == Basis.CUSTOMER and delivery.customer_last_purchase:
        return _("Basis: %(basis)s (last purchase on %(date)s)") % {
            "basis": basis,
            "date": delivery.customer_last_purchase.isoformat(),
        }
    return _("Basis: %(basis)s") % {"basis": basis}
