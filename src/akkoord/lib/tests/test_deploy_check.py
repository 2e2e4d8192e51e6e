"""`akkoord check --deploy` is clean with the production settings documented in docs/deploy.md,
and an https:// base URL makes the site HTTPS only."""

import json
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from akkoord.front.tests.subprocess_env import clean_environment

DEPLOY_DOC = Path(__file__).resolve().parents[4] / "docs" / "deploy.md"


def documented_production_env(tmp_path) -> dict[str, str]:
    """The variables of the "Configuration for production" block, with real secret files."""
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    section = text.split("## Configuration for production", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    values = {}
    for line in block.strip().splitlines():
        name, _, value = shlex.split(line, comments=True)[0].partition("=")
        values[name] = value
    for name in [n for n in values if n.endswith("_FILE")]:
        secret = tmp_path / name.lower()
        secret.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        values[name] = str(secret)
    values["AKKOORD_DATA_DIR"] = str(tmp_path / "data")
    return values


def run_akkoord(args, env) -> subprocess.CompletedProcess:
    environment = clean_environment(**env)
    # Browser tests in this process set it for Playwright; a deployment never has it.
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.run(
        [sys.executable, "-m", "akkoord", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )


def security_settings(env) -> dict:
    code = (
        "import json; from django.conf import settings as s; print(json.dumps({n: getattr(s, n)"
        " for n in ['SECURE_HSTS_SECONDS', 'SECURE_SSL_REDIRECT', 'SECURE_REDIRECT_EXEMPT',"
        " 'SECURE_PROXY_SSL_HEADER', 'SESSION_COOKIE_SECURE', 'AKKOORD_TRUSTED_PROXIES']"
        " if hasattr(s, n)}))"
    )
    done = run_akkoord(["shell", "--no-imports", "-c", code], env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_documented_block_names_the_settings_that_matter(tmp_path):
    env = documented_production_env(tmp_path)
    assert env["AKKOORD_BASE_URL"].startswith("https://")
    assert env["AKKOORD_BEHIND_PROXY"] == "true"
    assert "AKKOORD_TRUSTED_PROXIES" in env


def test_the_deploy_check_is_clean_with_the_documented_production_settings(tmp_path):
    done = run_akkoord(
        ["check", "--deploy", "--fail-level", "WARNING"], documented_production_env(tmp_path)
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "W004" not in output and "W008" not in output
    assert "identified no issues" in output


def test_an_https_base_url_behind_the_proxy_turns_on_hsts_and_the_redirect(tmp_path):
    found = security_settings(documented_production_env(tmp_path))
    assert found["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert found["SECURE_SSL_REDIRECT"] is True
    assert found["SECURE_REDIRECT_EXEMPT"] == ["^healthz$"]
    assert found["SESSION_COOKIE_SECURE"] is True
    assert found["AKKOORD_TRUSTED_PROXIES"] == ["127.0.0.1"]


def test_without_the_proxy_setting_nothing_trusts_forwarded_headers_or_redirects(tmp_path):
    env = documented_production_env(tmp_path)
    del env["AKKOORD_BEHIND_PROXY"]
    found = security_settings(env)
    assert found["SECURE_SSL_REDIRECT"] is False  # it could not tell HTTPS from HTTP: a loop
    assert "SECURE_PROXY_SSL_HEADER" not in found or found["SECURE_PROXY_SSL_HEADER"] is None
    assert found["AKKOORD_TRUSTED_PROXIES"] == []
    assert found["SECURE_HSTS_SECONDS"] > 0  # sent on HTTPS responses only, so harmless


def test_a_plain_http_base_url_keeps_http(tmp_path):
    env = documented_production_env(tmp_path)
    env["AKKOORD_BASE_URL"] = "http://127.0.0.1:8000"
    found = security_settings(env)
    assert found["SECURE_HSTS_SECONDS"] == 0 and found["SECURE_SSL_REDIRECT"] is False


@pytest.fixture
def https_behind_proxy(settings):
    settings.AKKOORD_BEHIND_PROXY = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    settings.SECURE_HSTS_SECONDS = 365 * 24 * 3600
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True


def test_over_https_pages_carry_hsts_and_plain_http_is_redirected(client, db, https_behind_proxy):
    secure = client.get("/account/sign-in/", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    plain = client.get("/account/sign-in/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")


def test_the_health_check_answers_over_plain_http(client, db, https_behind_proxy):
    assert client.get("/healthz").status_code in (200, 503)
