import re
import time

import pytest
from django.core import mail
from django.urls import reverse

from akkoord.consent.models import ConsentEvent, ConsentState
from akkoord.consent.rules import ConsentStatus
from akkoord.contacts.models import Contact
from akkoord.signup import guards
from akkoord.signup.tests.conftest import make_form

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_wait(settings):
    settings.AKKOORD_SIGNUP_MIN_SECONDS = 0


def post_data(version, **extra):
    data = {
        "_t": guards.render_token(version),
        "email": "eva@example.nl",
        "purpose": ["nieuwsbrief"],
    }
    data.update(extra)
    return data


def test_hosted_page_has_labels_no_pre_ticked_boxes_and_the_privacy_link(client, version):
    response = client.get(reverse("signup:form", args=[version.form.public_key]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'type="checkbox"' in html and " checked" not in html
    assert '<label for="ak-email">' in html
    assert 'href="https://shop.example/privacy"' in html
    assert "Ja, stuur mij de maandelijkse nieuwsbrief." in html
    assert 'lang="nl"' in html
    assert "Wat wilt u ontvangen?" in html and "privacyverklaring" in html


def test_english_form_speaks_english(client, newsletter):
    version = make_form([newsletter], language="en")
    html = client.get(reverse("signup:form", args=[version.form.public_key])).content.decode()
    assert "Yes, send me the monthly newsletter." in html and "privacy statement" in html


def test_unpublished_or_unknown_form_is_not_found(client, newsletter):
    version = make_form([newsletter], published=False)
    assert client.get(reverse("signup:form", args=[version.form.public_key])).status_code == 404
    assert client.get("/f/nothing-here/").status_code == 404


def test_plain_post_signs_up_and_thanks(client, version):
    response = client.post(
        reverse("signup:form", args=[version.form.public_key]),
        post_data(version),
        HTTP_REFERER="https://shop.example/page",
        HTTP_USER_AGENT="Firefox/1",
    )
    assert response.status_code == 200
    assert "Bedankt! Kijk in je mailbox." in response.content.decode()
    assert ConsentEvent.objects.get().proof.data["page_url"] == "https://shop.example/page"
    assert len(mail.outbox) == 1


def test_errors_are_shown_and_announced(client, version):
    response = client.post(
        reverse("signup:form", args=[version.form.public_key]),
        post_data(version, email="nope", purpose=[]),
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'aria-invalid="true"' in html and 'role="alert"' in html
    assert "Vink minstens één vakje aan" in html
    assert not Contact.objects.exists()


def test_forced_box_for_a_purpose_not_on_the_form_is_ignored(client, version, product_updates):
    client.post(
        reverse("signup:form", args=[version.form.public_key]),
        post_data(version, purpose=["nieuwsbrief", "productupdates"], purpose_productupdates="on"),
    )
    contact = Contact.objects.get()
    assert not ConsentState.objects.filter(contact=contact, purpose=product_updates).exists()


def test_json_answer_for_the_script_embed_is_readable_cross_origin(client, version):
    response = client.post(
        reverse("signup:form", args=[version.form.public_key]), post_data(version, _js="1")
    )
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response.json() == {"ok": True, "message": "Bedankt! Kijk in je mailbox.", "errors": {}}
    bad = client.post(
        reverse("signup:form", args=[version.form.public_key]),
        post_data(version, _js="1", email=""),
    )
    assert bad.status_code == 400 and "email" in bad.json()["errors"]


def test_embed_fragment_is_served_cross_origin_with_a_fresh_token(client, version):
    response = client.get(reverse("signup:embed", args=[version.form.public_key]))
    assert response["Access-Control-Allow-Origin"] == "*"
    html = response.content.decode()
    assert "<form" in html and 'name="_t"' in html and "<script" not in html


def test_honeypot_pretends_success_and_stores_nothing(client, version):
    response = client.post(
        reverse("signup:form", args=[version.form.public_key]),
        post_data(version, website="http://spam.example"),
    )
    assert response.status_code == 200
    assert not Contact.objects.exists() and not mail.outbox


def test_too_fast_is_refused_with_a_message(client, version, settings):
    settings.AKKOORD_SIGNUP_MIN_SECONDS = 5
    response = client.post(
        reverse("signup:form", args=[version.form.public_key]), post_data(version)
    )
    assert response.status_code == 400 and not Contact.objects.exists()


def test_missing_or_forged_token_is_refused(client, version):
    url = reverse("signup:form", args=[version.form.public_key])
    assert client.post(url, post_data(version, _t="")).status_code == 400
    forged = guards.render_token(version).replace(":", ";", 1)
    assert client.post(url, post_data(version, _t=forged)).status_code == 400
    assert not Contact.objects.exists()


def test_static_snippet_token_without_time_is_accepted(client, version, settings):
    settings.AKKOORD_SIGNUP_MIN_SECONDS = 60
    data = post_data(version, _t=guards.render_token(version, timed=False))
    response = client.post(reverse("signup:form", args=[version.form.public_key]), data)
    assert response.status_code == 200 and Contact.objects.count() == 1


def test_old_token_is_stale(client, version, time_machine):
    token = guards.render_token(version)
    time_machine.move_to(time.time() + 2 * 24 * 3600)
    response = client.post(
        reverse("signup:form", args=[version.form.public_key]), post_data(version, _t=token)
    )
    assert response.status_code == 400


def test_rate_limit_gives_429_with_a_clear_message(client, version, one_rate_window):
    url = reverse("signup:form", args=[version.form.public_key])
    codes = [
        client.post(url, post_data(version, email=f"p{i}@example.nl")).status_code
        for i in range(15)
    ]
    assert 429 in codes
    response = client.post(url, post_data(version, email="late@example.nl", _js="1"))
    assert response.status_code == 429 and response["Retry-After"]
    assert "probeer het opnieuw" in response.json()["message"]


def test_confirm_link_get_does_not_confirm_and_post_does(client, version, newsletter):
    client.post(reverse("signup:form", args=[version.form.public_key]), post_data(version))
    path = re.search(r"/f/confirm/[^/\s]+/", mail.outbox[0].body).group(0)
    page = client.get(path)
    assert page.status_code == 200 and "Nieuwsbrief" in page.content.decode()
    state = ConsentState.objects.get(purpose=newsletter)
    assert state.status == ConsentStatus.PENDING
    done = client.post(path, REMOTE_ADDR="198.51.100.9")
    assert "Je inschrijving is bevestigd." in done.content.decode()
    state.refresh_from_db()
    assert state.status == ConsentStatus.GRANTED
    assert client.get(path).status_code == 404
    assert client.post(path).status_code == 404


def test_control_characters_from_the_browser_never_crash_or_reach_the_proof(client, version):
    # PostgreSQL refuses a NUL in text and in JSON: each must end as an answer, not an error.
    url = reverse("signup:form", args=[version.form.public_key])
    response = client.post(
        url,
        post_data(version, page_url="https://shop.example/\x00page\r\n"),
        HTTP_USER_AGENT="Firefox\x00/1\n",
    )
    assert response.status_code == 200
    proof = ConsentEvent.objects.get().proof.data
    assert proof["page_url"] == "https://shop.example/page"
    assert proof["user_agent"] == "Firefox/1"
    path = re.search(r"/f/confirm/[^/\s]+/", mail.outbox[0].body).group(0)
    assert client.post(path, HTTP_USER_AGENT="Phone\x00").status_code == 200
    confirmed = ConsentEvent.objects.get(kind="confirmed").proof.data
    assert confirmed["user_agent"] == "Phone"


@pytest.mark.parametrize(
    "extra",
    [
        {"email": "ev\x00a@example.nl"},
        {"first_name": "E\x00va"},
        {"email": "a" * 10000 + "@example.nl"},
        {"first_name": "a" * 10000},
        {"purpose": [f"p{i}" for i in range(900)]},
        {"_t": "\x00"},
    ],
)
def test_bad_input_gets_a_clear_error_and_writes_nothing(client, version, extra):
    url = reverse("signup:form", args=[version.form.public_key])
    response = client.post(url, post_data(version, _js="1", **extra))
    assert response.status_code == 400
    assert response.json()["message"]
    assert not Contact.objects.exists() and not ConsentEvent.objects.exists()
    assert not mail.outbox


@pytest.mark.parametrize(
    "path", ["/f/ab%00cd/", "/f/ab%00cd/embed/", "/f/" + "k" * 300 + "/", "/f/confirm/ab%00cd/"]
)
def test_malformed_form_keys_and_confirmation_links_are_not_found(client, path):
    assert client.get(path).status_code == 404
    assert client.post(path).status_code in (404, 405)


def test_the_script_embeds_network_error_is_in_the_forms_language(client, version):
    html = client.get(reverse("signup:embed", args=[version.form.public_key])).content.decode()
    assert 'data-network-error="Uw aanmelding kon niet worden verstuurd.' in html
