import pytest
from django.core.cache import cache
from django_otp.oath import totp


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    # Argon2 is deliberately slow; these tests hash dozens of passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english(settings):
    # Assertions read the English source strings; test_dutch.py checks the translation.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def _empty_cache(db):
    # Rate-limit counters live in the cache; every test starts from zero.
    cache.clear()
    yield
    cache.clear()


def code_for(device, offset: int = 0) -> str:
    """The code an authenticator app would show now (or ``offset`` steps later)."""
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset)
    return str(value).zfill(device.digits)
