"""Create a staff user from the command line (the first administrator, usually)."""

import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, no_translations

from akkoord.accounts.models import Role
from akkoord.accounts.services import create_staff_user, generate_password


class Command(BaseCommand):
    help = (
        "Create a staff user. Without --password-from-env a strong one-time password "
        "is generated and printed once. The user sets up two-factor authentication "
        "at the first sign-in."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True, help="E-mail address (the sign-in name).")
        parser.add_argument(
            "--role",
            required=True,
            help=f"One of: {', '.join(Role.values)}.",
        )
        parser.add_argument("--name", default="", help="Display name.")
        parser.add_argument(
            "--password-from-env",
            metavar="VAR",
            help="Read the password from this environment variable instead of generating one.",
        )

    @no_translations
    def handle(self, *args, email, role, name, password_from_env, **options):
        generated = password_from_env is None
        if generated:
            password = generate_password()
        else:
            password = os.environ.get(password_from_env)
            if not password:
                raise CommandError(f"Environment variable {password_from_env} is not set or empty.")
        try:
            user = create_staff_user(email, role, password, name=name, one_time=generated)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"Created staff user {user.email} with role {user.role}.")
        if generated:
            self.stdout.write(f"One-time password (shown only now): {password}")
            self.stdout.write("They choose their own password after the first sign-in.")
        self.stdout.write("At the first sign-in they set up two-factor authentication.")
