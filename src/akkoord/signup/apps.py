from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SignupConfig(AppConfig):
    name = "akkoord.signup"
    verbose_name = _("Sign-up forms")

    def ready(self):
        from akkoord.contacts.erasure import register_eraser
        from akkoord.lib.panels import contact_page
        from akkoord.notices.services import register_deferral
        from akkoord.signup import panels
        from akkoord.signup.services import awaiting_confirmation

        register_eraser(panels.erase_pending_signups)
        register_deferral(awaiting_confirmation)
        contact_page.register(panels.contact_signups)
