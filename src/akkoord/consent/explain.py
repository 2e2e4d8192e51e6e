"""What the lawfulness engine's reasons mean, in words a staff user understands."""

from django.utils.translation import gettext_lazy as _

from akkoord.consent.rules import Basis, MailClass, Reason

REASON_TEXTS = {
    Reason.OK_CONSENT: _("Allowed: the person gave consent for this purpose."),
    Reason.OK_CUSTOMER: _(
        "Allowed: existing customer (soft opt-in). Offers must be about products or services "
        "similar to what the person bought, and every message must offer a free unsubscribe."
    ),
    Reason.OK_UNPROVEN: _(
        "Only a re-permission mail is allowed: consent is recorded but cannot be proven."
    ),
    Reason.OK_SERVICE: _("Allowed: a service mail needs no marketing consent."),
    Reason.AUDIENCE_NOT_FOR_CLASS: _(
        "This audience may only receive offers for products similar to what customers bought. "
        "For other content choose the audience 'opt-ins only'."
    ),
    Reason.SUPPRESSED: _(
        "Not allowed: this address is on the suppression list (the person asked to be erased). "
        "Only a new, double-opted-in consent can bring it back."
    ),
    Reason.HARD_BOUNCED: _("Not allowed: mail to this address bounced permanently."),
    Reason.COMPLAINED: _(
        "Not allowed: the person marked an earlier mail as spam, which withdrew every purpose. "
        "Only a consent given and confirmed by double opt-in after the complaint allows mail "
        "for that purpose again; the customer relationship never does."
    ),
    Reason.WITHDRAWN: _("Not allowed: the person unsubscribed from this purpose."),
    Reason.PENDING_CONFIRMATION: _(
        "Not allowed: the person has not yet confirmed the subscription (double opt-in)."
    ),
    Reason.OBJECTED: _(
        "Not allowed: the person objected to direct marketing (GDPR art. 21). Only the person "
        "can end this: by lifting the objection in the customer centre, or by a consent given "
        "and confirmed by double opt-in after the objection (for that purpose only). The "
        "customer relationship never counts again after an objection."
    ),
    Reason.UNPROVEN_ONLY: _(
        "Not allowed: consent is recorded but cannot be proven. Ask again with a "
        "re-permission mail; until the person says yes, only that mail may be sent."
    ),
    Reason.NO_CONSENT: _(
        "Not allowed: the person gave no consent for this purpose. Do not mail to ask for "
        "consent either: the regulator (ACM) treats such a mail as unsolicited mail "
        "(Telecommunicatiewet art. 11.7)."
    ),
    Reason.NOT_CUSTOMER: _("Not allowed: the person is not a customer (no purchase recorded)."),
    Reason.OBJECTION_NOT_OFFERED: _(
        "Not allowed: the person is a customer, but was not offered the chance to object to "
        "marketing at the sale, so the soft opt-in does not apply."
    ),
    Reason.CUSTOMER_EXPIRED: _(
        "Not allowed: the last purchase is longer ago than the period in which a customer "
        "still counts as a customer (organisation setting)."
    ),
    Reason.BOUGHT_UNRELATED: _(
        "Not allowed: bought only unrelated products. The person is a customer, but made no "
        "purchase in a category similar to this campaign's within the period in which a "
        "customer still counts as a customer, so the soft opt-in does not cover this offer."
    ),
    Reason.NOT_UNPROVEN: _(
        "Not allowed: a re-permission mail is only for people whose consent is recorded but "
        "unproven."
    ),
}

BASIS_TEXTS = {
    Basis.CONSENT: _("consent"),
    Basis.CUSTOMER: _("customer relationship (soft opt-in)"),
    Basis.UNPROVEN_CONSENT: _("unproven consent (re-permission only)"),
    Basis.SERVICE: _("service mail"),
}

MAIL_CLASS_TEXTS = {
    MailClass.SERVICE: _("Service mail"),
    MailClass.MARKETING_SIMILAR: _("Marketing: similar products"),
    MailClass.MARKETING_OTHER: _("Marketing: other"),
    MailClass.REPERMISSION: _("Re-permission mail"),
}


def explain(reason: Reason) -> str:
    return str(REASON_TEXTS[Reason(reason)])


def customer_basis_text(*, purchased_on, description: str, category: str) -> str:
    """Which purchase carried a customer basis, in words (for "why did this person get this mail")."""
    return _("the purchase of %(description)s (%(category)s) on %(date)s") % {
        "description": description,
        "category": category,
        "date": purchased_on.isoformat(),
    }
