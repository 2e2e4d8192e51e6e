"""The report of an import: counts, and the problems by row and column."""

from __future__ import annotations

from dataclasses import dataclass, field

from akkoord.transfer.parsing import Problem

MAX_REPORTED = 1000


@dataclass
class ImportReport:
    file: str
    format: str
    purpose_key: str
    valid_only: bool = False
    dry_run: bool = False
    rows: int = 0
    created: int = 0
    consent_added_to_existing: int = 0
    existing_unchanged: int = 0
    suppressed_skipped: int = 0
    events: int = 0
    unproven: int = 0
    proven: int = 0
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    # Purchases recorded, purchases skipped because the contact already had
    # them, and contacts that got at least one new tag.
    purchases: int = 0
    purchases_known: int = 0
    tagged: int = 0
    committed: bool = False
    # Rows written so far (valid rows in committed chunks); equals the valid
    # rows when the import completed.
    rows_written: int = 0
    rows_to_write: int = 0
    seconds: float = 0.0
    # Of which: after each chunk's commit, announcing new contacts (``contacts_registered``).
    announce_seconds: float = 0.0

    def add_problem(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(problem)

    @property
    def rows_with_problems(self) -> int:
        return len({p.row for p in self.problems})

    def as_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k != "problems"}
        data["problems"] = [p.__dict__ for p in self.problems]
        return data
