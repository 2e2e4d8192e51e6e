"""The createstaffuser command: success, and clear failures with exit code 1."""

import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from akkoord.accounts.models import AuditAction, AuditEntry, Role, User


def run(*args, **kwargs):
    from io import StringIO

    out = StringIO()
    call_command("createstaffuser", *args, stdout=out, **kwargs)
    return out.getvalue()


def test_it_creates_a_user_with_a_generated_password_printed_once(db):
    output = run("--email", "Boss@Example.com", "--role", "admin")
    user = User.objects.get(email="boss@example.com")
    assert user.role == Role.ADMIN
    password = output.split("(shown only now): ")[1].split()[0]
    assert len(password) >= 20
    assert user.check_password(password)
    assert user.password_change_required
    assert AuditEntry.objects.filter(action=AuditAction.CREATE, object_id=str(user.pk)).exists()


def test_it_reads_the_password_from_the_environment(db, monkeypatch):
    monkeypatch.setenv("NEW_PW", "a long and quiet passphrase 7")
    output = run("--email", "dpo@example.com", "--role", "dpo", "--password-from-env", "NEW_PW")
    assert "a long and quiet" not in output
    user = User.objects.get(email="dpo@example.com")
    assert user.check_password("a long and quiet passphrase 7")
    assert not user.password_change_required


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--email", "not-an-address", "--role", "admin"], None, "valid e-mail"),
        (["--email", "a@example.com", "--role", "owner"], None, "Unknown role owner"),
        (
            ["--email", "a@example.com", "--role", "admin", "--password-from-env", "PW"],
            "short",
            "too short",
        ),
        (
            ["--email", "a@example.com", "--role", "admin", "--password-from-env", "PW"],
            "123456789012345",
            "entirely numeric",
        ),
        (
            ["--email", "a@example.com", "--role", "admin", "--password-from-env", "MISSING"],
            None,
            "not set",
        ),
        (["--email", "mark@example.com", "--role", "admin"], None, "already"),
    ],
)
def test_bad_input_fails_clearly_and_creates_nothing(db, marketer, monkeypatch, args, env, message):
    if env is not None:
        monkeypatch.setenv("PW", env)
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert User.objects.count() == 1


def test_the_command_line_exits_with_1_on_bad_input(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "akkoord", "createstaffuser", "--email", "x", "--role", "admin"],
        capture_output=True,
        text=True,
        env={"AKKOORD_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert result.returncode == 1
    assert "valid e-mail" in result.stderr
