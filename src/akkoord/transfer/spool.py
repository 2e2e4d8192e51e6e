"""Checked rows kept on disk between the two passes of an import.

The check pass parses every row once and puts the valid ones here; the write
pass reads them back. So no row is parsed twice, memory stays flat for any
number of rows, and the rows written are exactly the rows checked, even if the
file on disk changes meanwhile.

The spool holds personal data, so it is an anonymous file
(``tempfile.TemporaryFile``): it has no name on disk and is gone when it is
closed or the process ends, however it ends. Rows are pickled in batches, with
the purposes and product categories they point at stored by primary key (a
pickled model instance would be much larger and slower) and looked up again
when read back.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator

from django.conf import settings

from akkoord.consent.models import Purpose
from akkoord.contacts.models import ProductCategory
from akkoord.transfer.parsing import ParsedRow

BATCH = 2000


class RowSpool:
    def __init__(
        self, purposes: dict[int, Purpose], categories: dict[int, ProductCategory]
    ) -> None:
        self.purposes = purposes
        self.categories = categories
        # Closed by ``close`` (the spool is a context manager).
        self.file = tempfile.TemporaryFile(dir=settings.DATA_DIR)  # noqa: SIM115
        self.batch: list[dict] = []
        self.count = 0

    def add(self, row: ParsedRow) -> None:
        values = dict(vars(row))
        values["purposes"] = [purpose.pk for purpose in row.purposes]
        if "category" in row.purchase:
            values["purchase"] = {**row.purchase, "category": row.purchase["category"].pk}
        self.batch.append(values)
        self.count += 1
        if len(self.batch) >= BATCH:
            self._flush()

    def rows(self) -> Iterator[ParsedRow]:
        """The rows in the order they were added (the spool can be read once)."""
        self._flush()
        self.file.seek(0)
        while True:
            try:
                # Safe: only this object wrote the file, which has no name on disk.
                batch = pickle.load(self.file)  # noqa: S301
            except EOFError:
                return
            for values in batch:
                yield self._row(values)

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> RowSpool:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _flush(self) -> None:
        if self.batch:
            pickle.dump(self.batch, self.file, protocol=pickle.HIGHEST_PROTOCOL)
            self.batch = []

    def _row(self, values: dict) -> ParsedRow:
        values["purposes"] = [self.purposes[pk] for pk in values["purposes"]]
        purchase = values["purchase"]
        if "category" in purchase:
            purchase["category"] = self.categories[purchase["category"]]
        return ParsedRow(**values)
