from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "akkoord.campaigns"

    def ready(self):
        from akkoord.campaigns import panels
        from akkoord.contacts.erasure import register_eraser
        from akkoord.lib.panels import contact_page

        contact_page.register(panels.contact_deliveries)
        register_eraser(panels.erase_delivery_details)
