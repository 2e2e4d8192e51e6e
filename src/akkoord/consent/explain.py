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
    Reason.COMPLAINED: _("Not allowed: the person marked an earlier mail as spam."),
    Reason.WITHDRAWN: _("Not allowed: the person unsubscribed from this purpose."),
    Reason.PENDING_CONFIRMATION: _(
        "Not allowed: the person has not yet confirmed the subscription (double opt-in)."
    ),
    Reason.OBJECTED: _(
        "Not allowed: the person objected to all direct marketing (GDPR art. 21). This is absolute."
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
