import pytest
from django.core.cache import cache
from django.utils import timezone

from akkoord.organisation.models import Organisation
from akkoord.signup.models import FormVersion, SignupForm

PROOF = {
    "ip": "192.0.2.10",
    "user_agent": "TestBrowser/1.0",
    "page_url": "https://shop.example/news",
}


@pytest.fixture(autouse=True)
def _fresh_limits(settings):
    cache.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    yield
    cache.clear()


def make_form(
    purposes,
    *,
    fields=None,
    language="nl",
    published=True,
    privacy_url="https://shop.example/privacy",
):
    organisation = Organisation.current()
    organisation.privacy_statement_url = privacy_url
    organisation.save()
    form = SignupForm.objects.create(name="Nieuwsbrief", is_published=published)
    version = FormVersion.objects.create(
        form=form,
        number=1,
        language=language,
        title="Schrijf je in",
        fields=fields if fields is not None else [{"key": "first_name", "required": False}],
        purposes=[
            {"id": p.pk, "key": p.key, "name": p.name(language), "text": p.consent_text(language)}
            for p in purposes
        ],
        thank_you_text="Bedankt! Kijk in je mailbox.",
        confirmed_text="Je inschrijving is bevestigd.",
        published_at=timezone.now() if published else None,
    )
    form.current_version = version
    form.save()
    return version


@pytest.fixture
def version(newsletter):
    return make_form([newsletter])


@pytest.fixture
def two_purpose_version(newsletter, product_updates):
    return make_form([newsletter, product_updates])
