from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    name = "akkoord.notices"
    verbose_name = _("Privacy confirmation")

    def ready(self):
        from akkoord.contacts.signals import contact_registered, contacts_registered
        from akkoord.lib.panels import contact_page, dashboard
        from akkoord.notices import panels
        from akkoord.notices.tasks import on_contact_registered, on_contacts_registered

        contact_registered.connect(on_contact_registered, dispatch_uid="notices.registered")
        contacts_registered.connect(on_contacts_registered, dispatch_uid="notices.registered_bulk")
        dashboard.register(panels.uninformed_panel)
        contact_page.register(panels.contact_notice)
