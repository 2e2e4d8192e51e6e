import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from akkoord.consent.models import ConsentEvent
from akkoord.contacts.models import Contact
from akkoord.organisation.models import Organisation
from akkoord.signup.models import FormVersion, SignupForm


@pytest.fixture
def form(newsletter, settings):
    cache.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    organisation = Organisation.current()
    organisation.privacy_statement_url = "https://shop.example/privacy"
    organisation.save()
    form = SignupForm.objects.create(name="Nieuwsbrief", is_published=True)
    version = FormVersion.objects.create(
        form=form,
        number=1,
        language="nl",
        title="Schrijf je in",
        fields=[{"key": "first_name", "required": False}],
        purposes=[
            {
                "id": newsletter.pk,
                "key": newsletter.key,
                "name": "Nieuwsbrief",
                "text": newsletter.consent_text_nl,
            }
        ],
        thank_you_text="Bedankt!",
        confirmed_text="Bevestigd.",
        published_at=timezone.now(),
    )
    form.current_version = version
    form.save()
    yield form
    cache.clear()


def body(signup_form, **extra):
    return {
        "form": signup_form.public_key,
        "email": "nieuw@example.com",
        "purposes": ["nieuwsbrief"],
        "first_name": "Nina",
        "ip": "192.0.2.44",
        "user_agent": "Shop/1.0",
        "page_url": "https://shop.example/checkout",
        **extra,
    }


def test_signup_through_the_api_uses_double_opt_in(api, form):
    response = api.post("/api/v1/signups", body(form), content_type="application/json")
    assert response.status_code == 202, response.content
    contact = Contact.objects.get(email="nieuw@example.com")
    event = ConsentEvent.objects.get(subject_key=contact.ledger_key)
    assert event.kind == "granted" and event.needs_confirmation
    assert len(mail.outbox) == 1


def test_signup_errors_are_structured(api, form):
    response = api.post(
        "/api/v1/signups", body(form, email="nope"), content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"]
    response = api.post(
        "/api/v1/signups", body(form, **{"form": "unknown"}), content_type="application/json"
    )
    assert response.status_code == 404


def test_signup_bombing_one_address_through_the_api_is_refused(api, form, one_rate_window):
    for n in range(3):
        response = api.post(
            "/api/v1/signups", body(form, ip=f"192.0.2.{n + 1}"), content_type="application/json"
        )
        assert response.status_code == 202, response.content
    mails = len(mail.outbox)
    assert mails <= 3
    response = api.post(
        "/api/v1/signups", body(form, ip="198.51.100.9"), content_type="application/json"
    )
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_address"
    assert len(mail.outbox) == mails


def test_signup_flood_from_one_ip_through_the_api_is_refused(api, form, one_rate_window):
    codes = [
        api.post(
            "/api/v1/signups",
            body(form, email=f"p{n}@example.com"),
            content_type="application/json",
        ).status_code
        for n in range(11)
    ]
    assert codes[:10] == [202] * 10 and codes[10] == 429
