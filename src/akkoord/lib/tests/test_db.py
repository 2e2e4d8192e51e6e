"""``lib.db.retry_when_locked``: waits out SQLite's write lock, nothing else."""

import pytest
from django.db import OperationalError

from akkoord.lib.db import retry_when_locked


class _LockedTimes:
    """A write that finds the database locked ``times`` times, then succeeds."""

    def __init__(self, times: int, error: str = "database is locked"):
        self.left = times
        self.error = error
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.left:
            self.left -= 1
            raise OperationalError(self.error)
        return "written"


def test_a_locked_write_is_tried_again_until_it_gets_in():
    write, pauses = _LockedTimes(4), []
    assert retry_when_locked(write, sleep=pauses.append) == "written"
    assert write.calls == 5
    assert len(pauses) == 4 and pauses == sorted(pauses)


def test_other_database_errors_are_not_retried():
    write = _LockedTimes(1, "no such table: x")
    with pytest.raises(OperationalError, match="no such table"):
        retry_when_locked(write, sleep=lambda _s: None)
    assert write.calls == 1


def test_it_gives_up_after_its_time():
    write = _LockedTimes(10_000)
    with pytest.raises(OperationalError, match="locked"):
        retry_when_locked(write, seconds=0, sleep=lambda _s: None)
    assert write.calls == 1


@pytest.mark.django_db(transaction=False)
def test_inside_an_outer_transaction_it_does_not_retry():
    # The outer transaction is the test's own: a retry could not repeat it.
    write = _LockedTimes(1)
    with pytest.raises(OperationalError):
        retry_when_locked(write, sleep=lambda _s: None)
    assert write.calls == 1
