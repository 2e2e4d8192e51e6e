from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _reinstall_guards(using, **kwargs):
    from django.db import connections

    from akkoord.consent.guards import install_guards

    install_guards(connections[using])


class ConsentConfig(AppConfig):
    name = "akkoord.consent"
    verbose_name = _("Consent")

    def ready(self):
        # SQLite drops triggers when a migration rebuilds a table: put the
        # ledger's append-only guards back after every migrate.
        post_migrate.connect(_reinstall_guards, sender=self)
