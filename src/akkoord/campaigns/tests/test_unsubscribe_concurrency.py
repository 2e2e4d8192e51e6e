"""Many one-click unsubscribes for one person at once, through a real server.

A mailbox provider's one-click post, the person's own click and retries can
arrive together: the ledger must record one withdrawal (DOMAIN §2: the ledger
is the proof, and it must say what happened once). Runs on SQLite, and on
PostgreSQL when the suite does (``DATABASE_URL``).
"""

import threading

import pytest

from akkoord.campaigns.tests.unsubscribe_setup import SETUP, STATE, WITHDRAWN
from akkoord.front.tests.served import Served, http

PARALLEL = 20
ONE_CLICK = b"List-Unsubscribe=One-Click"


@pytest.fixture
def served(tmp_path):
    server = Served(tmp_path)
    try:
        yield server
    finally:
        server.stop()


def test_twenty_parallel_one_click_posts_record_one_withdrawal(served):
    people = served.run_script(SETUP, "1")["people"]
    served.start("--threads", str(PARALLEL))
    person = people[0]
    start = threading.Barrier(PARALLEL)
    answers: list[int] = []

    def post():
        start.wait(timeout=60)
        answers.append(http(served.base + person["path"], ONE_CLICK)[0])

    threads = [threading.Thread(target=post) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert answers == [200] * PARALLEL
    assert served.database.rows(WITHDRAWN, (person["key"],)) == [(1,)]
    assert served.database.rows(STATE, (person["key"],)) == [("withdrawn",)]
