from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class OrganisationConfig(AppConfig):
    name = "akkoord.organisation"
    verbose_name = _("Organisation")

    def ready(self):
        from akkoord.organisation import address
        from akkoord.organisation.models import Organisation

        # Dutch pages and mails say "u" or "je", as the organisation chose.
        address.install()
        post_save.connect(
            address.forget_when_saved, sender=Organisation, dispatch_uid="form-of-address"
        )
