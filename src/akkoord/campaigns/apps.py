from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "akkoord.campaigns"

    def ready(self):
        from akkoord.campaigns import panels
        from akkoord.lib.panels import contact_page

        contact_page.register(panels.contact_deliveries)
