from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountabilityConfig(AppConfig):
    name = "akkoord.accountability"
    verbose_name = _("Accountability")

    def ready(self):
        from akkoord.accountability import panels
        from akkoord.lib.panels import dashboard

        dashboard.register(panels.dashboard_panel)
