"""Demo data: a Dutch bicycle shop with contacts, purchases and a consent history.

``akkoord serve --demo`` calls ``create_demo()``. Everything is written through
the same services as real data (``register_contact``, ``record_purchase``,
``record_event``), so the demo shows what Akkoord really does with each case:
confirmed and pending double opt-ins, consent by phone, an old list imported
without proof, withdrawals, an objection, and customers old and new.

Running it again changes nothing: the demo is made once, and its sign-in
details are kept (readable only by the owner) in the data folder so that a
later ``--demo`` run can show them again.
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken

from akkoord.accountability.setup import ensure_published_defaults
from akkoord.accounts import services as accounts
from akkoord.accounts.models import Role, User
from akkoord.campaigns.dkimsign import generate_private_key
from akkoord.campaigns.models import Campaign, MailTemplate, SendingDomain
from akkoord.consent.ledger import record_event
from akkoord.consent.models import Channel, Purpose
from akkoord.consent.rules import EventKind
from akkoord.contacts.models import (
    Contact,
    ContactField,
    DataCategory,
    FieldKind,
    SourceKind,
)
from akkoord.contacts.services import record_purchase, register_contact
from akkoord.organisation.models import Organisation
from akkoord.signup.models import FormVersion, SignupForm

DEMO_ORGANISATION = "Fietsenwinkel De Ketting B.V."
DEMO_ADMIN_EMAIL = "beheerder@deketting.example.nl"
CREDENTIALS_FILE = "demo-sign-in.json"
ACTOR = "demo"
# The demo is the same on every machine: names, dates and choices come from this seed.
SEED = 2026

PURPOSES = [
    {
        "key": "nieuwsbrief",
        "name_nl": "Nieuwsbrief",
        "name_en": "Newsletter",
        "consent_text_nl": "Ja, stuur mij de maandelijkse nieuwsbrief van De Ketting met "
        "fietstips, acties en nieuws uit de winkel.",
        "consent_text_en": "Yes, send me De Ketting's monthly newsletter with cycling tips, "
        "offers and news from the shop.",
        "double_opt_in": True,
        "is_marketing": True,
        "retention_days": 730,
        "retention_reason_nl": "Zodat we kunnen aantonen dat u toestemming gaf.",
        "retention_reason_en": "So that we can show that you gave consent.",
    },
    {
        "key": "productupdates",
        "name_nl": "Productupdates",
        "name_en": "Product updates",
        "consent_text_nl": "Ja, laat mij weten wanneer er nieuwe fietsen en onderdelen binnen zijn.",
        "consent_text_en": "Yes, tell me when new bicycles and parts arrive.",
        "double_opt_in": False,
        "is_marketing": True,
        "retention_days": 730,
    },
    {
        "key": "evenementen",
        "name_nl": "Evenementen",
        "name_en": "Events",
        "consent_text_nl": "Ja, nodig mij uit voor toertochten, werkplaatsavonden en open dagen.",
        "consent_text_en": "Yes, invite me to group rides, workshop evenings and open days.",
        "double_opt_in": True,
        "is_marketing": True,
        "retention_days": 365,
    },
    {
        "key": "klantenservice",
        "name_nl": "Klantenservice",
        "name_en": "Customer service",
        "consent_text_nl": "Berichten over uw bestelling, reparatie of vraag.",
        "consent_text_en": "Messages about your order, repair or question.",
        "double_opt_in": False,
        "is_marketing": False,
        "retention_days": 2555,
        "retention_reason_nl": "Fiscale bewaarplicht van zeven jaar.",
        "retention_reason_en": "Seven-year retention required by tax law.",
    },
]

FIELDS = [
    ("telefoon", "Telefoon", "Phone", FieldKind.PHONE, DataCategory.CONTACT),
    ("geboortedatum", "Geboortedatum", "Date of birth", FieldKind.DATE, DataCategory.DEMOGRAPHIC),
    ("woonplaats", "Woonplaats", "Town", FieldKind.TEXT, DataCategory.CONTACT),
    ("interesse", "Interesse", "Interest", FieldKind.TEXT, DataCategory.PREFERENCES),
]

FIRST_NAMES_NL = [
    "Jan", "Sanne", "Pieter", "Fleur", "Daan", "Lotte", "Bram", "Noor", "Thijs", "Eva",
    "Ruben", "Anouk", "Joost", "Femke", "Sem", "Iris", "Lars", "Maaike", "Koen", "Esther",
    "Wouter", "Ilse", "Gijs", "Marloes", "Jeroen", "Hanneke", "Stijn", "Lieke", "Teun", "Roos",
    "Mohamed", "Fatima", "Yusuf", "Aylin",
]  # fmt: skip
LAST_NAMES_NL = [
    "de Vries", "Jansen", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer",
    "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker",
    "Brouwer", "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer", "Kok", "Yilmaz",
    "El Amrani", "Postma", "Hoekstra",
]  # fmt: skip
FIRST_NAMES_EN = ["Emily", "James", "Olivia", "Thomas", "Charlotte", "Oliver", "Grace", "Henry"]
LAST_NAMES_EN = ["Smith", "Brown", "Taylor", "Wilson", "Clarke", "Walker", "Hughes", "Wright"]
TOWNS = ["Utrecht", "Houten", "Nieuwegein", "Zeist", "Bunnik", "De Bilt", "IJsselstein"]
INTERESTS = ["racefiets", "e-bike", "bakfiets", "mountainbike", "stadsfiets", "toerfiets"]
PRODUCTS = [
    "Stadsfiets Gazelle Esprit",
    "E-bike Sparta M7b",
    "Bakfiets Urban Arrow",
    "Racefiets Canyon Endurace",
    "Onderhoudsbeurt",
    "Fietsslot ART-2",
    "Kinderfiets 20 inch",
    "Regenpak",
    "Fietstassen Ortlieb",
    "Nieuwe band en binnenband",
]
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


@dataclass
class DemoSignIn:
    """How to sign in to the demo; shown by ``akkoord serve --demo``."""

    email: str
    password: str
    totp_secret: str
    otpauth_uri: str
    recovery_codes: list[str] = field(default_factory=list)
    created: bool = True

    def describe(self, base_url: str) -> str:
        intro = (
            "Demo data created."
            if self.created
            else "Demo data already present (nothing was added or changed)."
        )
        codes = "  ".join(self.recovery_codes)
        return "\n".join(
            [
                intro,
                f"Sign in at {base_url}/ as the demo administrator:",
                f"  e-mail:   {self.email}",
                f"  password: {self.password}",
                "  second factor: add this key to an authenticator app "
                "(or open the otpauth:// link on your phone):",
                f"    key:  {self.totp_secret}",
                f"    link: {self.otpauth_uri}",
                f"  one-time recovery codes: {codes}",
                "These are demo credentials: do not use this install for real data.",
            ]
        )


def create_demo() -> DemoSignIn:
    """Create the demo organisation once; on later calls return its sign-in details."""
    existing = _saved_sign_in()
    if User.objects.filter(email=DEMO_ADMIN_EMAIL).exists():
        if existing is None:
            raise RuntimeError(
                "The demo administrator exists but its sign-in details are gone from the "
                "data folder; start again with an empty AKKOORD_DATA_DIR."
            )
        existing.created = False
        # Show only the recovery codes that have not been used yet.
        unused = set(
            StaticToken.objects.filter(device__user__email=DEMO_ADMIN_EMAIL).values_list(
                "token", flat=True
            )
        )
        existing.recovery_codes = [code for code in existing.recovery_codes if code in unused]
        return existing
    if Contact.objects.exclude(source_kind=SourceKind.DEMO).exists():
        raise RuntimeError(
            "This install already holds real contacts; the demo is only added to an empty one."
        )
    with transaction.atomic():
        _organisation()
        purposes = _purposes()
        _fields()
        sign_in = _administrator()
        _contacts(purposes, random.Random(SEED))
        _accountability_documents()
        _marketing_examples(purposes)
    _save_sign_in(sign_in)
    return sign_in


def _accountability_documents() -> None:
    """A pre-filled processing register and a published privacy statement (at /privacy).

    The demo's consents are dated before this first statement version, so their
    proofs name no statement version: that is the truth for a fresh install.
    """
    if ensure_published_defaults() is None:
        raise RuntimeError("The demo organisation's details do not make a complete statement.")


def _marketing_examples(purposes: dict[str, Purpose]) -> None:
    """A published sign-up form, a mail template, a sending domain and a draft campaign,
    so that a first look shows each step of the marketer's path with an example."""
    newsletter = purposes["nieuwsbrief"]
    form = SignupForm.objects.create(name="Nieuwsbrief op de website", is_published=True)
    form.current_version = FormVersion.objects.create(
        form=form,
        number=1,
        language="nl",
        title="Blijf op de hoogte van De Ketting",
        intro="Eén keer per maand fietstips, acties en nieuws uit de winkel.",
        fields=[{"key": "first_name", "required": False}, {"key": "woonplaats", "required": False}],
        purposes=[
            {
                "id": newsletter.pk,
                "key": newsletter.key,
                "name": newsletter.name("nl"),
                "text": newsletter.consent_text("nl"),
            }
        ],
        thank_you_text="Bedankt! Kijk in uw mailbox en bevestig uw inschrijving.",
        confirmed_text="Uw inschrijving is bevestigd. Welkom!",
        published_at=timezone.now(),
    )
    form.save(update_fields=["current_version"])
    template = MailTemplate.objects.create(
        name="Voorjaarsactie",
        subject_nl="Voorjaarsbeurt voor uw fiets, {{ first_name|default:'fietser' }}",
        text_nl="Beste {{ full_name|default:'klant' }},\n\nDeze maand een voorjaarsbeurt "
        "met 20% korting.\n",
        html_nl="<html><body><p>Beste {{ full_name|default:'klant' }},</p>"
        "<p>Deze maand een voorjaarsbeurt met 20% korting.</p></body></html>",
        subject_en="A spring service for your bike, {{ first_name|default:'cyclist' }}",
        text_en="Dear {{ full_name|default:'customer' }},\n\nThis month a spring service "
        "at 20% off.\n",
        html_en="<html><body><p>Dear {{ full_name|default:'customer' }},</p>"
        "<p>This month a spring service at 20% off.</p></body></html>",
    )
    domain = SendingDomain.objects.create(
        domain="deketting.example.nl", private_key_pem=generate_private_key()
    )
    Campaign.objects.create(
        name="Voorjaarsactie",
        purpose=newsletter,
        mail_class="marketing_similar",
        audience="customers_and_optins",
        template=template,
        sending_domain=domain,
        from_name="De Ketting",
        from_local="nieuws",
    )


def _saved_sign_in() -> DemoSignIn | None:
    path = settings.DATA_DIR / CREDENTIALS_FILE
    if not path.exists():
        return None
    return DemoSignIn(**json.loads(path.read_text(encoding="utf-8")))


def _save_sign_in(sign_in: DemoSignIn) -> None:
    path = settings.DATA_DIR / CREDENTIALS_FILE
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(json.dumps(asdict(sign_in), indent=2), encoding="utf-8")


def _organisation() -> None:
    organisation = Organisation.current()
    organisation.name = DEMO_ORGANISATION
    organisation.address = "Oudegracht 123\n3511 AB Utrecht"
    organisation.contact_email = "privacy@deketting.example.nl"
    organisation.phone = "030 123 45 67"
    organisation.website = "https://deketting.example.nl"
    organisation.chamber_of_commerce = "12345678"
    organisation.default_language = "nl"
    organisation.customer_relationship_months = 24
    organisation.save()


def _purposes() -> dict[str, Purpose]:
    purposes = {}
    for position, values in enumerate(PURPOSES):
        purpose, _created = Purpose.objects.get_or_create(
            key=values["key"], defaults={**values, "position": position}
        )
        purposes[purpose.key] = purpose
    return purposes


def _fields() -> None:
    for position, (key, label_nl, label_en, kind, category) in enumerate(FIELDS):
        ContactField.objects.get_or_create(
            key=key,
            defaults={
                "label_nl": label_nl,
                "label_en": label_en,
                "kind": kind,
                "category": category,
                "position": position,
            },
        )


def _administrator() -> DemoSignIn:
    """The demo administrator, made the way the accounts app makes staff users,
    with its authenticator already set up so that the printed key works at once."""
    password = accounts.generate_password()
    user = accounts.create_staff_user(DEMO_ADMIN_EMAIL, Role.ADMIN, password, name="Demo Beheerder")
    device = accounts.pending_totp_device(user)
    accounts.confirm_totp_device(device)
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    codes = accounts.new_recovery_codes(user)
    return DemoSignIn(DEMO_ADMIN_EMAIL, password, secret, accounts.totp_uri(device), codes)


@dataclass
class _Plan:
    """One consent event to record, kept until all are sorted by time."""

    at: datetime
    contact: Contact
    purpose: Purpose | None
    kind: EventKind
    channel: str
    proof: dict
    confirms: _Plan | None = None
    event_seq: int | None = None


def _people(rng: random.Random, count: int) -> list[dict]:
    people, seen = [], set()
    while len(people) < count:
        english = rng.random() < 0.15
        first = rng.choice(FIRST_NAMES_EN if english else FIRST_NAMES_NL)
        last = rng.choice(LAST_NAMES_EN if english else LAST_NAMES_NL)
        local = f"{first}.{last}".lower().replace(" ", "")
        domain = "example.com" if english else rng.choice(["example.nl", "example.org"])
        email = f"{local}@{domain}"
        if email in seen:
            continue
        seen.add(email)
        people.append({"first_name": first, "last_name": last, "email": email, "english": english})
    return people


def _at(day: date, rng: random.Random) -> datetime:
    moment = time(rng.randint(8, 21), rng.randint(0, 59), rng.randint(0, 59))
    return timezone.make_aware(datetime.combine(day, moment))


def _contacts(purposes: dict[str, Purpose], rng: random.Random) -> None:
    today = timezone.localdate()
    plans: list[_Plan] = []
    people = _people(rng, 60)
    objected = False
    for index, person in enumerate(people):
        source = rng.choices(
            [SourceKind.FORM, SourceKind.STAFF, SourceKind.IMPORT, SourceKind.API],
            weights=[5, 3, 2, 1],
        )[0]
        fields = {"woonplaats": rng.choice(TOWNS), "interesse": rng.choice(INTERESTS)}
        if rng.random() < 0.6:
            fields["telefoon"] = f"06 {rng.randint(10_000_000, 99_999_999)}"
        if rng.random() < 0.4:
            born = date(rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28))
            fields["geboortedatum"] = born.isoformat()
        contact, _created = register_contact(
            {
                "email": person["email"],
                "first_name": person["first_name"],
                "last_name": person["last_name"],
                "language": "en" if person["english"] else "nl",
                "fields": fields,
            },
            source_kind=source,
            source_detail={
                SourceKind.FORM: "Aanmeldformulier website",
                SourceKind.STAFF: "Aan de balie in de winkel",
                SourceKind.IMPORT: "Klantenlijst 2019.xlsx",
                SourceKind.API: "Webshop",
            }[source],
            collected_from_person=source != SourceKind.IMPORT,
            actor=ACTOR,
        )
        _purchases(contact, index, rng, today)
        # One person objects to all direct marketing (GDPR art. 21).
        objects = source == SourceKind.FORM and not objected and index >= 10
        objected = objected or objects
        plans.extend(_consent_plans(contact, source, purposes, rng, today, objects))
    plans.sort(key=lambda plan: plan.at)
    for plan in plans:
        confirms_seq = plan.confirms.event_seq if plan.confirms else None
        event = record_event(
            plan.contact,
            plan.purpose,
            plan.kind,
            channel=plan.channel,
            proof=plan.proof,
            occurred_at=plan.at,
            confirms_seq=confirms_seq,
            actor=ACTOR,
        )
        plan.event_seq = event.seq


def _purchases(contact: Contact, index: int, rng: random.Random, today: date) -> None:
    # About half are customers: most recent (soft opt-in possible), some whose
    # last purchase is older than the 24-month customer relationship.
    if index % 2:
        return
    recent = index % 6 != 0
    for _ in range(rng.randint(1, 3)):
        days_ago = rng.randint(5, 600) if recent else rng.randint(800, 1500)
        record_purchase(
            contact,
            purchased_on=today - timedelta(days=days_ago),
            description=rng.choice(PRODUCTS),
            reference=f"DK-{rng.randint(10000, 99999)}",
            objection_offered=rng.random() < 0.7,
            actor=ACTOR,
            source_kind=SourceKind.DEMO,
        )


def _form_proof(purpose: Purpose, contact: Contact, rng: random.Random) -> dict:
    return {
        "form": "Aanmelden nieuwsbrief (website)",
        "form_version": "3",
        "ip": f"192.0.2.{rng.randint(1, 254)}",
        "user_agent": USER_AGENT,
        "text_shown": purpose.consent_text(contact.language),
        "text_language": contact.language,
    }


def _consent_plans(
    contact: Contact,
    source: str,
    purposes: dict[str, Purpose],
    rng: random.Random,
    today: date,
    objects: bool = False,
) -> list[_Plan]:
    plans: list[_Plan] = []

    def add(when, purpose, kind, channel, proof, confirms=None):
        at = when if isinstance(when, datetime) else _at(today - timedelta(days=when), rng)
        plan = _Plan(
            at,
            contact,
            purpose,
            kind,
            channel,
            proof,
            confirms,
        )
        plans.append(plan)
        return plan

    if source == SourceKind.IMPORT:
        # An old list: consent was recorded once, but nobody can show how.
        for key in ("nieuwsbrief", "productupdates"):
            if rng.random() < 0.8:
                add(
                    rng.randint(400, 900),
                    purposes[key],
                    EventKind.UNPROVEN,
                    Channel.IMPORT,
                    {"file": "Klantenlijst 2019.xlsx", "imported_by": DEMO_ADMIN_EMAIL},
                )
        return plans

    if source == SourceKind.STAFF:
        if rng.random() < 0.7:
            add(
                rng.randint(10, 500),
                purposes["productupdates"],
                EventKind.GRANTED,
                Channel.STAFF,
                {
                    "staff_user": DEMO_ADMIN_EMAIL,
                    "how": "in de winkel, mondeling",
                    "text_shown": purposes["productupdates"].consent_text(contact.language),
                    "text_language": contact.language,
                },
            )
        return plans

    for key in ("nieuwsbrief", "evenementen"):
        if rng.random() > (0.8 if key == "nieuwsbrief" else 0.35):
            continue
        purpose = purposes[key]
        days_ago = rng.randint(3, 700)
        channel = Channel.API if source == SourceKind.API else Channel.FORM
        grant = add(
            days_ago, purpose, EventKind.GRANTED, channel, _form_proof(purpose, contact, rng)
        )
        outcome = rng.random()
        if outcome < 0.15:
            continue  # never clicked the confirmation link: pending
        confirmed = add(
            grant.at + timedelta(minutes=rng.randint(2, 600)),
            purpose,
            EventKind.CONFIRMED,
            Channel.FORM,
            {"ip": f"198.51.100.{rng.randint(1, 254)}", "user_agent": USER_AGENT},
            confirms=grant,
        )
        if outcome > 0.85 and days_ago > 2:
            add(
                confirmed.at + timedelta(days=rng.randint(1, days_ago - 1)),
                purpose,
                EventKind.WITHDRAWN,
                Channel.UNSUBSCRIBE,
                {"via": "afmeldlink in de nieuwsbrief"},
            )
    if objects:
        add(
            rng.randint(0, 2),
            None,
            EventKind.OBJECTED,
            Channel.CENTRE,
            {"via": "klantcentrum", "user_agent": USER_AGENT},
        )
    return plans
