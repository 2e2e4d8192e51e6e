"""Shared test fixtures: named staff users, purposes and contacts, no fixture files.

Who may do what:
- ``admin``: administrator, may change everything and manage staff.
- ``marketer``: changes contacts, consents and campaigns.
- ``dpo``: the data protection officer, reads everything, changes nothing.
Each ``*_client`` fixture is a Django test client signed in with a verified
second factor, as the staff pages require.
"""

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from django_otp.plugins.otp_totp.models import TOTPDevice

from akkoord.accounts.models import Role, User
from akkoord.consent.models import Purpose
from akkoord.contacts.services import register_contact
from akkoord.organisation import address
from akkoord.organisation.models import FormOfAddress

PASSWORD = "correct horse battery staple 42"


def make_user(email: str, role: str) -> User:
    user = User.objects.create_user(email, PASSWORD, role=role, name=email.split("@")[0].title())
    TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    return user


def signed_in_client(user: User) -> Client:
    """A client whose session passed both password and TOTP."""
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.get(user=user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


@pytest.fixture(autouse=True)
def _default_language():
    """Start every test in the default language (Dutch) and leave it there.

    The active language is per thread: a test whose request ran in English
    would otherwise leave English active for the next test in the same
    thread, so a test's outcome would depend on the order the suite runs in.
    The same holds for the organisation's Dutch form of address, which each
    process remembers: every test starts with the default ("u", as in the
    empty test database), and a test that saves the organisation makes the
    next activation read it again.
    """
    address.remember(FormOfAddress.FORMAL)
    translation.activate(settings.LANGUAGE_CODE)
    yield
    address.remember(FormOfAddress.FORMAL)
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def one_rate_window(time_machine):
    """Hold the clock still inside one fixed rate-limit window, away from its edge.

    Rate limits count hits in fixed windows (``lib.ratelimit``). A test that
    crosses a window boundary halfway is rightly allowed a second window's worth
    of attempts, so tests that count up to a limit run with the clock stopped.
    """
    time_machine.move_to("2026-11-23 10:00:30+00:00", tick=False)


@pytest.fixture
def admin(db):
    return make_user("alice@example.com", Role.ADMIN)


@pytest.fixture
def marketer(db):
    return make_user("mark@example.com", Role.MARKETER)


@pytest.fixture
def dpo(db):
    return make_user("dora@example.com", Role.DPO)


@pytest.fixture
def admin_client(admin):
    return signed_in_client(admin)


@pytest.fixture
def marketer_client(marketer):
    return signed_in_client(marketer)


@pytest.fixture
def dpo_client(dpo):
    return signed_in_client(dpo)


@pytest.fixture
def newsletter(db):
    return Purpose.objects.create(
        key="nieuwsbrief",
        name_nl="Nieuwsbrief",
        name_en="Newsletter",
        consent_text_nl="Ja, stuur mij de maandelijkse nieuwsbrief.",
        consent_text_en="Yes, send me the monthly newsletter.",
        double_opt_in=True,
    )


@pytest.fixture
def product_updates(db):
    return Purpose.objects.create(
        key="productupdates",
        name_nl="Productupdates",
        name_en="Product updates",
        consent_text_nl="Ja, houd mij op de hoogte van nieuwe producten.",
        consent_text_en="Yes, tell me about new products.",
        double_opt_in=False,
        position=1,
    )


@pytest.fixture
def contact(db):
    person, _created = register_contact(
        {"email": "jan.jansen@example.nl", "first_name": "Jan", "last_name": "Jansen"},
        source_kind="staff",
        actor="test",
    )
    return person
