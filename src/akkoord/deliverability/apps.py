from django.apps import AppConfig


class DeliverabilityConfig(AppConfig):
    name = "akkoord.deliverability"

    def ready(self):
        from akkoord.contacts.erasure import register_eraser
        from akkoord.deliverability.services import erase_reports_of

        register_eraser(erase_reports_of)

        from akkoord.deliverability.panels import contact_reports, dashboard_panel
        from akkoord.lib.panels import contact_page, dashboard

        dashboard.register(dashboard_panel)
        contact_page.register(contact_reports)
