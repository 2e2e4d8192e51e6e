"""``flush`` that lifts the ledger's append-only guards while it empties the database.

Only test database resets and deliberate wipes use ``flush``; the product
itself never deletes ledger rows.
"""

from django.core.management.commands.flush import Command as DjangoFlush
from django.db import connections

from akkoord.consent.guards import drop_guards, install_guards


class Command(DjangoFlush):
    def handle(self, **options):
        connection = connections[options["database"]]
        drop_guards(connection)
        try:
            return super().handle(**options)
        finally:
            install_guards(connection)
