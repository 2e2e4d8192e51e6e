"""The sign-in limit holds under parallel attempts, against a real server process.

Twenty wrong passwords sent at once for one account with a limit of five may
check at most five passwords: every attempt is counted in the database before
its password is checked. Run against `akkoord serve` (waitress, 8 threads) on
the database of this test run: a SQLite file of its own, or the PostgreSQL
test database when the suite runs on PostgreSQL.
"""

import http.cookiejar
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from urllib.error import HTTPError, URLError

import pytest
from django.db import connection

from akkoord.front.tests.served import ProcessOutput, free_ports
from akkoord.front.tests.subprocess_env import clean_environment

pytestmark = pytest.mark.django_db(transaction=True)

STARTUP_SECONDS = 120
ATTACKER_PARALLEL = 20
ACCOUNT_LIMIT = 5  # accounts.views.FAILED_PER_ACCOUNT, the default
EMAIL = "alice@example.com"
PASSWORD = "correct horse battery staple 42"


def _database_env(tmp_path) -> dict[str, str]:
    """Point the server at this run's database: PostgreSQL's test database, or a new SQLite file."""
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        user = urllib.parse.quote(db["USER"] or "", safe="")
        password = urllib.parse.quote(db["PASSWORD"] or "", safe="")
        credentials = f"{user}:{password}@" if password else f"{user}@"
        return {
            "DATABASE_URL": f"postgres://{credentials}{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
        }
    return {}


def _run(args, env, timeout=180):
    done = subprocess.run(
        [sys.executable, "-m", "akkoord", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def server(tmp_path):
    port, mail_port = free_ports(2)
    env = clean_environment(
        AKKOORD_DATA_DIR=str(tmp_path / "data"),
        AKKOORD_MAILCATCHER_PORT=str(mail_port),
        AKKOORD_SMTP_URL=f"smtp://127.0.0.1:{mail_port}",
        AKKOORD_SECURITY_TEST_PASSWORD=PASSWORD,
        PYTHONUNBUFFERED="1",
        **_database_env(tmp_path),
    )
    _run(["migrate", "--verbosity", "0"], env)
    _run(
        ["createstaffuser", "--email", EMAIL, "--role", "admin"]
        + ["--password-from-env", "AKKOORD_SECURITY_TEST_PASSWORD"],
        env,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "akkoord", "serve", "--port", str(port), "--no-worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = ProcessOutput(process.stdout)
    output.start()
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base, process, output)
        yield {"base": base, "env": env, "output": output}
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for(base, process, output):
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"akkoord serve exited early:\n{output.text}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5):  # noqa: S310 - local
                return
        except HTTPError:
            return  # answering at all is enough: no worker runs here
        except (URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    pytest.fail(f"akkoord serve did not answer in time:\n{output.text}")


class Browser:
    """One client with its own cookies, signing in the way a browser does (with the CSRF token)."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            _NoRedirect(),
        )
        with self.opener.open(base + "/account/sign-in/", timeout=60) as page:
            html = page.read().decode()
        self.token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    def sign_in(self, password) -> int:
        data = urllib.parse.urlencode(
            {"email": EMAIL, "password": password, "csrfmiddlewaretoken": self.token}
        ).encode()
        request = urllib.request.Request(
            self.base + "/account/sign-in/", data=data, headers={"Referer": self.base + "/"}
        )
        try:
            with self.opener.open(request, timeout=120) as answer:
                return answer.status
        except HTTPError as error:
            return error.code


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_twenty_parallel_wrong_passwords_check_at_most_five(server):
    browsers = [Browser(server["base"]) for _ in range(ATTACKER_PARALLEL)]
    start = threading.Barrier(ATTACKER_PARALLEL)
    answers: list[int] = []

    def attack(browser):
        start.wait(timeout=60)
        answers.append(browser.sign_in("not the password at all"))

    threads = [threading.Thread(target=attack, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert len(answers) == ATTACKER_PARALLEL, server["output"].text
    assert set(answers) <= {200, 429}, answers
    checked = int(
        _server_says(
            server,
            "from akkoord.accounts.models import AuditEntry; print(AuditEntry.objects"
            ".filter(action='sign_in_failed', detail='wrong password').count())",
        )
    )
    assert checked == answers.count(200)
    assert checked <= ACCOUNT_LIMIT
    assert answers.count(429) >= ATTACKER_PARALLEL - ACCOUNT_LIMIT
    # The owner, with the right password, is locked out too until the window passes.
    assert Browser(server["base"]).sign_in(PASSWORD) == 429
    # The counts hold no address in clear.
    hashes = _server_says(
        server,
        "from akkoord.accounts.models import SignInThrottle; "
        "print(list(SignInThrottle.objects.values_list('identity_hash', flat=True)))",
    )
    assert EMAIL not in hashes and "127.0.0.1" not in hashes


def _server_says(server, code: str) -> str:
    """Run ``code`` against the server's database (which this test process may not see)."""
    return _run(["shell", "--no-imports", "-c", code], server["env"]).strip()
