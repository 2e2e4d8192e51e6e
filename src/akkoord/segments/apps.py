from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentsConfig(AppConfig):
    name = "akkoord.segments"
    verbose_name = _("Segments")
