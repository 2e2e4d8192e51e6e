from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CentreConfig(AppConfig):
    name = "akkoord.centre"
    verbose_name = _("Customer centre")

    def ready(self):
        # Registers the eraser for this app's rows (contacts.erasure).
        from akkoord.centre import panels, requests  # noqa: F401
        from akkoord.lib.panels import contact_page, dashboard

        contact_page.register(panels.contact_panel)
        dashboard.register(panels.dashboard_panel)
