import pytest
from django.urls import reverse

from akkoord.organisation.models import Organisation
from akkoord.signup.models import FormVersion, SignupForm
from akkoord.signup.tests.conftest import make_form

pytestmark = pytest.mark.django_db


def builder_data(newsletter, **extra):
    data = {
        "name": "Nieuwsbrief",
        "language": "nl",
        "title": "Schrijf je in",
        "intro": "",
        "fields": ["first_name"],
        "required_fields": [],
        "purposes": [newsletter.pk],
        "privacy_statement_url": "",
        "thank_you_text": "Bedankt!",
        "confirmed_text": "Bevestigd.",
        "expiry_days": "30",
    }
    data.update(extra)
    return data


def test_building_saves_versions_that_never_change(marketer_client, newsletter):
    response = marketer_client.post(reverse("signup:new"), builder_data(newsletter))
    form = SignupForm.objects.get()
    assert response.status_code == 302
    first = form.current_version
    assert first.number == 1 and first.purposes[0]["text"] == newsletter.consent_text_nl
    newsletter.consent_text_nl = "Nieuwe tekst."
    newsletter.save()
    marketer_client.post(reverse("signup:edit", args=[form.pk]), builder_data(newsletter))
    form.refresh_from_db()
    assert form.current_version.number == 2
    assert form.current_version.purposes[0]["text"] == "Nieuwe tekst."
    first.refresh_from_db()
    assert first.purposes[0]["text"] != "Nieuwe tekst."


def test_required_fields_must_be_asked(marketer_client, newsletter):
    response = marketer_client.post(
        reverse("signup:new"), builder_data(newsletter, required_fields=["last_name"])
    )
    assert response.status_code == 200 and not SignupForm.objects.exists()


def test_a_form_without_privacy_statement_cannot_be_published(marketer_client, newsletter):
    version = make_form([newsletter], published=False, privacy_url="")
    response = marketer_client.post(reverse("signup:publish", args=[version.form.pk]), follow=True)
    version.form.refresh_from_db()
    assert not version.form.is_published
    assert "privacy" in response.content.decode().lower()
    Organisation.objects.update(privacy_statement_url="https://shop.example/privacy")
    marketer_client.post(reverse("signup:publish", args=[version.form.pk]))
    version.form.refresh_from_db()
    version.refresh_from_db()
    assert version.form.is_published and version.published_at is not None


def test_detail_shows_preview_and_embed_snippets(dpo_client, newsletter):
    version = make_form([newsletter])
    html = dpo_client.get(reverse("signup:detail", args=[version.form.pk])).content.decode()
    assert newsletter.consent_text_nl in html
    assert "embed.js" in html and "data-akkoord-form" in html
    assert f"/f/{version.form.public_key}/" in html


def test_dpo_reads_but_cannot_change(dpo_client, newsletter):
    assert dpo_client.get(reverse("signup:list")).status_code == 200
    assert dpo_client.post(reverse("signup:new"), builder_data(newsletter)).status_code == 403
    version = make_form([newsletter], published=False)
    assert dpo_client.post(reverse("signup:publish", args=[version.form.pk])).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("signup:list"))
    assert response.status_code == 302 and "next=" in response["Location"]


def test_unpublish(marketer_client, newsletter):
    version = make_form([newsletter])
    marketer_client.post(reverse("signup:unpublish", args=[version.form.pk]))
    assert not SignupForm.objects.get().is_published
    assert FormVersion.objects.count() == 1
