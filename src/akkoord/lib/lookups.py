"""``field__in_many=values``: ``IN`` for thousands of values.

Django's ``__in`` writes one placeholder per value. With the thousands of
values of an import chunk (its addresses, their hashes, the people's ledger
keys), building, binding and parsing that statement cost several times more
than running it. On PostgreSQL this lookup sends the values as one array
parameter (``column = ANY(%s::type[])``), which the planner treats as the
same ``IN`` and answers from the same index. Elsewhere it is ``__in``.

Registered on every field by ``LibConfig.ready``.
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db.models.lookups import In


class InMany(In):
    lookup_name = "in_many"

    def as_postgresql(self, compiler, connection):
        if not self.rhs_is_direct_value():  # a subquery: nothing to gain
            return super().as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        # ``get_prep_lookup`` prepared the values; None never matches, as with ``__in``.
        values = [
            field.get_db_prep_value(value, connection, prepared=True)
            for value in self.rhs
            if value is not None
        ]
        if not values:
            raise EmptyResultSet
        return f"{lhs} = ANY(%s::{field.db_type(connection)}[])", (*lhs_params, values)
