from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "akkoord.mail"
    verbose_name = _("Mail")

    def ready(self):
        from akkoord.contacts.erasure import register_eraser
        from akkoord.mail.erasure import erase_caught_mail

        register_eraser(erase_caught_mail)
