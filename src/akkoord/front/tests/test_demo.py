"""The demo organisation made by `akkoord serve --demo`."""

import base64
import hmac
import struct
import time
from hashlib import sha1

import pytest
from django.contrib.auth import authenticate
from django_otp.plugins.otp_static.models import StaticDevice

from akkoord.consent.ledger import verify_ledger
from akkoord.consent.models import ConsentEvent, ConsentState, Purpose
from akkoord.contacts.models import Contact, ContactField, Purchase
from akkoord.contacts.services import register_contact
from akkoord.front import demo
from akkoord.organisation.models import Organisation


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


def _totp(secret: str, at: float) -> str:
    """RFC 6238 computed here, independent of django-otp, as an authenticator app does."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at // 30)), sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def test_demo_fills_an_empty_install_with_a_realistic_organisation(db, data_dir):
    sign_in = demo.create_demo()
    assert sign_in.created
    assert Organisation.current().name == demo.DEMO_ORGANISATION
    assert Organisation.current().chamber_of_commerce
    purposes = {p.key: p for p in Purpose.objects.all()}
    assert set(purposes) == {"nieuwsbrief", "productupdates", "evenementen", "klantenservice"}
    assert purposes["nieuwsbrief"].double_opt_in
    assert not purposes["klantenservice"].is_marketing
    categories = dict(ContactField.objects.values_list("key", "category"))
    assert categories == {
        "telefoon": "contact",
        "geboortedatum": "demographic",
        "woonplaats": "contact",
        "interesse": "preferences",
    }
    assert Contact.objects.count() == 60
    assert set(Contact.objects.values_list("language", flat=True)) == {"nl", "en"}
    assert Contact.objects.filter(source_kind="import", collected_from_person=False).exists()
    assert Contact.objects.filter(objected_at__isnull=False).count() == 1
    # Customers: recent ones, ones whose relationship expired, with and without
    # the chance to object at the sale.
    assert Purchase.objects.filter(objection_offered=True).exists()
    assert Purchase.objects.filter(objection_offered=False).exists()
    customers = Contact.objects.filter(last_purchase_on__isnull=False)
    assert customers.count() == 30
    assert customers.filter(last_purchase_on__lt=_months_ago(24)).exists()
    assert customers.filter(last_purchase_on__gte=_months_ago(24)).exists()
    statuses = set(ConsentState.objects.values_list("status", flat=True))
    assert {"granted", "pending", "unproven", "withdrawn"} <= statuses
    channels = set(ConsentEvent.objects.values_list("channel", flat=True))
    assert {"form", "staff", "import", "unsubscribe", "centre"} <= channels
    # Written through the ledger: the chain holds, in time order.
    assert verify_ledger().ok
    times = list(ConsentEvent.objects.order_by("seq").values_list("occurred_at", flat=True))
    assert times == sorted(times)


def _months_ago(months: int):
    from datetime import timedelta

    from django.utils import timezone

    return timezone.localdate() - timedelta(days=months * 30.5)


def test_demo_administrator_can_sign_in_and_a_second_run_changes_nothing(db, data_dir):
    sign_in = demo.create_demo()
    user = authenticate(username=sign_in.email, password=sign_in.password)
    assert user is not None
    assert user.is_administrator
    assert len(sign_in.password) >= 20
    device = user.totpdevice_set.get()
    assert device.verify_token(_totp(sign_in.totp_secret, time.time()))
    assert f"secret={sign_in.totp_secret}" in sign_in.otpauth_uri
    assert sign_in.otpauth_uri.startswith("otpauth://totp/")
    assert len(sign_in.recovery_codes) == 10
    backup = StaticDevice.objects.get(user=user)
    assert backup.verify_token(sign_in.recovery_codes[0])
    assert not backup.verify_token(sign_in.recovery_codes[0]), "recovery codes work once"
    text = sign_in.describe("http://127.0.0.1:8000")
    assert sign_in.password in text and sign_in.totp_secret in text
    assert "http://127.0.0.1:8000/" in text

    # A second run adds nothing and shows the same sign-in details.
    first = sign_in
    counts = (Contact.objects.count(), ConsentEvent.objects.count(), Purchase.objects.count())
    second = demo.create_demo()
    assert not second.created
    assert second.password == first.password
    assert second.totp_secret == first.totp_secret
    assert second.recovery_codes == first.recovery_codes[1:], "the used code is not shown again"
    after = (Contact.objects.count(), ConsentEvent.objects.count(), Purchase.objects.count())
    assert after == counts
    assert "already present" in second.describe("http://x")
    saved = data_dir / demo.CREDENTIALS_FILE
    assert saved.stat().st_mode & 0o077 == 0, "the sign-in file is readable only by its owner"


def test_demo_is_not_mixed_into_an_install_with_real_contacts(db, data_dir):
    register_contact({"email": "echt@example.nl"}, source_kind="staff", actor="test")
    with pytest.raises(RuntimeError, match="real contacts"):
        demo.create_demo()
    assert Contact.objects.count() == 1
    assert not Purpose.objects.exists()


def test_the_printed_demo_details_get_through_the_real_sign_in_pages(client, db, data_dir):
    from django.urls import reverse

    sign_in = demo.create_demo()
    response = client.post(
        reverse("accounts:login"), {"email": sign_in.email, "password": sign_in.password}
    )
    assert response.status_code == 302
    response = client.post(
        reverse("accounts:verify"), {"code": _totp(sign_in.totp_secret, time.time())}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    assert client.get(reverse("front:dashboard")).status_code == 200


@pytest.mark.parametrize(
    ("lang", "heading"), [("nl", "Privacyverklaring"), ("en", "Privacy statement")]
)
def test_the_demo_publishes_its_privacy_statement_at_privacy(client, db, data_dir, lang, heading):
    demo.create_demo()
    response = client.get(f"/privacy?lang={lang}", follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert heading in page and demo.DEMO_ORGANISATION in page
    # The processing register behind it was pre-filled from the demo's purposes.
    assert "Nieuwsbrief" in page or "Newsletter" in page
