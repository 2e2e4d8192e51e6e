"""The environment for an `akkoord` subprocess in a test: this one's, minus
every Akkoord setting (so the test's own settings, like the test database,
cannot leak in), plus what the test gives."""

import os


def clean_environment(**settings: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AKKOORD_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(settings)
    return env
