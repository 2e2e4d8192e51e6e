"""The organisation that runs this Akkoord install (one per install)."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class FormOfAddress(models.TextChoices):
    """How the Dutch interface and mails address people (English has one "you")."""

    FORMAL = "u", _("“u” (formal)")
    INFORMAL = "je", _("“je” (informal)")


class Organisation(models.Model):
    """Settings that belong to the controller (the *verwerkingsverantwoordelijke*).

    A singleton: ``Organisation.current()`` returns the only row, creating it
    with defaults on first use.
    """

    name = models.CharField(_("organisation name"), max_length=200, default="Mijn organisatie")
    address = models.TextField(_("postal address"), blank=True, max_length=500)
    contact_email = models.EmailField(_("contact e-mail for privacy questions"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    service_mail_from = models.EmailField(
        _("sender address of service mail"),
        blank=True,
        help_text=_(
            "Confirmations, privacy confirmations and customer-centre links come from this "
            "address, with the organisation's name as sender. Empty: the address set for the "
            "installation (AKKOORD_FROM_EMAIL)."
        ),
    )
    website = models.URLField(_("website"), blank=True)
    chamber_of_commerce = models.CharField(
        _("Chamber of Commerce number (KvK)"), max_length=20, blank=True
    )
    default_language = models.CharField(
        _("default language"),
        max_length=5,
        choices=[("nl", "Nederlands"), ("en", "English")],
        default="nl",
    )
    form_of_address_nl = models.CharField(
        _("form of address in Dutch"),
        max_length=2,
        choices=FormOfAddress.choices,
        default=FormOfAddress.FORMAL,
        help_text=_(
            "How Dutch pages and e-mails address people: with “u” (formal) or “je” "
            "(informal). English is not affected."
        ),
    )
    customer_relationship_months = models.PositiveIntegerField(
        _("months a customer counts as a customer after the last purchase"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_(
            "Soft opt-in: how long after the last purchase similar products may be mailed."
        ),
    )
    privacy_statement_url = models.URLField(
        _("privacy statement URL"),
        blank=True,
        help_text=_("Used until Akkoord publishes the privacy statement itself."),
    )
    centre_link_days = models.PositiveIntegerField(
        _("days a customer-centre link stays valid"),
        default=21,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    dpo_name = models.CharField(_("data protection officer"), max_length=200, blank=True)
    dpo_email = models.EmailField(_("data protection officer e-mail"), blank=True)
    dpo_advice_threshold = models.PositiveIntegerField(
        _("advise a data protection officer above this many contacts"), default=10_000
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("organisation")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def current(cls) -> "Organisation":
        organisation = cls.objects.order_by("pk").first()
        if organisation is None:
            organisation = cls.objects.create()
        return organisation
