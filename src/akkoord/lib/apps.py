from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _create_cache_table(using, **kwargs):
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


class LibConfig(AppConfig):
    name = "akkoord.lib"
    label = "akkoord_lib"

    def ready(self):
        # The rate limits live in the database cache by default; make sure its
        # table exists after every migrate, so `akkoord migrate` is enough.
        post_migrate.connect(_create_cache_table, sender=self)
        from django.db.models import Field, ForeignObject

        from akkoord.lib.lookups import InMany

        # ForeignObject keeps lookups of its own (``contact_id__in_many`` takes ids).
        Field.register_lookup(InMany)
        ForeignObject.register_lookup(InMany)
