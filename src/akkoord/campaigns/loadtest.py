"""A large population and a campaign to it, fast: for the chaos test and bench/send.py.

Contacts are written with ``bulk_create`` and their derived customer and
objection fields set directly (going through the services would take minutes
for 100,000 people); a share of them get a real consent through the ledger so
that both bases occur. Never used by the product itself.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from akkoord.campaigns.dkimsign import generate_private_key
from akkoord.campaigns.models import Campaign, MailTemplate, SendingDomain
from akkoord.consent.ledger import record_event
from akkoord.consent.models import Purpose
from akkoord.consent.rules import EventKind
from akkoord.contacts.emails import email_hash
from akkoord.contacts.models import Contact

TEMPLATE_HTML = """<html><head><style>
body { font-family: Arial, sans-serif; color: #222 }
h1 { font-size: 22px; color: #14213d }
p { font-size: 15px; line-height: 1.5 }
.button { background: #1f5fbf; color: #fff; padding: 10px 16px; text-decoration: none }
@media (max-width: 600px) { h1 { font-size: 18px } }
</style></head><body>
<h1>Herfstcollectie, {{ first_name|default:"beste klant" }}</h1>
<p>Onze nieuwe wandelschoenen zijn binnen. Waterdicht, licht en gemaakt voor lange tochten.</p>
<p>Kom ze passen in de winkel of bekijk ze online.</p>
<p><a class="button" href="https://shop.example.com/herfst">Bekijk de collectie</a></p>
</body></html>"""
TEMPLATE_TEXT = """Beste {{ full_name|default:"klant" }},

Onze nieuwe wandelschoenen zijn binnen. Waterdicht, licht en gemaakt voor lange tochten.
Kom ze passen in de winkel of bekijk ze online: https://shop.example.com/herfst
"""


def excluded_email(index: int) -> bool:
    """Every 10th person objected and every 25th hard-bounced: never mailed."""
    return index % 10 == 3 or index % 25 == 7


def populate(size: int, *, consent_every: int = 50) -> tuple[list[str], list[str]]:
    """Create ``size`` contacts; return (addresses that may be mailed, excluded ones)."""
    purpose = Purpose.objects.get_or_create(
        key="nieuwsbrief",
        defaults={
            "name_nl": "Nieuwsbrief",
            "name_en": "Newsletter",
            "consent_text_nl": "Ja, stuur mij de nieuwsbrief.",
            "consent_text_en": "Yes, send me the newsletter.",
            "double_opt_in": False,
        },
    )[0]
    today = timezone.localdate()
    now = timezone.now()
    allowed, excluded = [], []
    consent_indexes = []
    chunk = []
    for index in range(size):
        address = f"r{index}@example.org"
        is_excluded = excluded_email(index)
        customer = index % consent_every != 0
        chunk.append(
            Contact(
                email=address,
                email_hash=email_hash(address),
                first_name=f"R{index}",
                last_name="Test",
                language="nl" if index % 3 else "en",
                source_kind="demo",
                ledger_key=uuid.uuid4(),
                customer_since=today - timedelta(days=60) if customer else None,
                last_purchase_on=today - timedelta(days=30) if customer else None,
                objection_offered_at_sale=customer,
                objected_at=now if index % 10 == 3 else None,
                hard_bounced_at=now if index % 25 == 7 else None,
            )
        )
        if not customer:
            consent_indexes.append(index)
        (excluded if is_excluded else allowed).append(address)
        if len(chunk) >= 5000:
            Contact.objects.bulk_create(chunk)
            chunk = []
    if chunk:
        Contact.objects.bulk_create(chunk)
    for index in consent_indexes:
        contact = Contact.objects.get(email=f"r{index}@example.org")
        record_event(contact, purpose, EventKind.GRANTED, channel="import", proof={"test": True})
    return allowed, excluded


@transaction.atomic
def make_campaign(*, rate_limit: int | None = None) -> Campaign:
    purpose = Purpose.objects.get(key="nieuwsbrief")
    domain = SendingDomain.objects.first() or SendingDomain.objects.create(
        domain="mail.example.com", selector="akkoord", private_key_pem=generate_private_key()
    )
    template = MailTemplate.objects.create(
        name="Load test",
        subject_nl="Herfst bij ons, {{ first_name }}",
        html_nl=TEMPLATE_HTML,
        text_nl=TEMPLATE_TEXT,
        subject_en="Autumn with us, {{ first_name }}",
        html_en=TEMPLATE_HTML,
        text_en=TEMPLATE_TEXT,
    )
    return Campaign.objects.create(
        name="Load test",
        purpose=purpose,
        mail_class="marketing_similar",
        audience="customers_and_optins",
        template=template,
        sending_domain=domain,
        from_name="Wandelwinkel",
        from_local="nieuws",
        rate_limit=rate_limit,
    )
