"""The organisation chooses how Dutch pages and mails address people: "u" or "je".

The expected sentences are written out here by hand, as a Dutch reader would
read them; they are not taken from the catalogues.
"""

import re
from html.parser import HTMLParser

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from akkoord.campaigns.tests.conftest import Sink, free_port
from akkoord.centre.links import centre_token
from akkoord.contacts.services import record_purchase
from akkoord.notices.services import default_template, send_privacy_confirmation
from akkoord.organisation import address
from akkoord.organisation.models import FormOfAddress, Organisation
from akkoord.signup.services import sign_up
from akkoord.signup.tests.conftest import PROOF, make_form

pytestmark = pytest.mark.django_db

# "u" addressing the reader; a quoted “u” only names the word (the setting's own label).
FORMAL = re.compile(r"(?<![“\"'])\b(u|uw|uzelf|U|Uw|Uzelf)\b(?![”\"'])")


class _VisibleText(HTMLParser):
    def __init__(self):
        super().__init__()
        self.texts, self._skipping = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skipping += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skipping -= 1

    def handle_data(self, data):
        if not self._skipping and data.strip():
            self.texts.append(" ".join(data.split()))


def visible_text(response) -> str:
    parser = _VisibleText()
    parser.feed(response.content.decode())
    return "\n".join(parser.texts)


def speak(client, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return {"HTTP_ACCEPT_LANGUAGE": language}


def choose(form_of_address: str) -> None:
    organisation = Organisation.current()
    organisation.form_of_address_nl = form_of_address
    organisation.save()


@pytest.fixture
def real_smtp(settings):
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "akkoord.mail.backends.SmtpUrlBackend"
    settings.AKKOORD_SMTP_URL = f"smtp://127.0.0.1:{port}"
    yield sink
    controller.stop()


@pytest.fixture
def public_form(newsletter, settings):
    settings.AKKOORD_SIGNUP_MIN_SECONDS = 0
    return make_form([newsletter])


def test_a_new_organisation_says_u():
    assert Organisation.current().form_of_address_nl == "u"


def test_the_public_sign_up_page_says_je_when_the_organisation_chose_it(client, public_form):
    choose(FormOfAddress.INFORMAL)
    page = client.get(reverse("signup:form", args=[public_form.form.public_key]))
    text = visible_text(page)
    assert page.status_code == 200
    assert "Wat wil je ontvangen?" in text
    assert "Je kunt je toestemming altijd intrekken." in text
    assert FORMAL.findall(text) == [], text


def test_switching_back_to_u_restores_the_formal_text(client, public_form):
    path = reverse("signup:form", args=[public_form.form.public_key])
    choose(FormOfAddress.INFORMAL)
    assert "Wat wil je ontvangen?" in visible_text(client.get(path))
    choose(FormOfAddress.FORMAL)
    text = visible_text(client.get(path))
    assert "Wat wilt u ontvangen?" in text
    assert "Wat wil je ontvangen?" not in text


def test_the_customer_centre_says_je(client, contact):
    choose(FormOfAddress.INFORMAL)
    page = client.get(reverse("centre:home", args=[centre_token(contact)]))
    text = visible_text(page)
    assert page.status_code == 200
    assert "Je aanmeldingen" in text and "E-mails die wij je stuurden" in text
    assert "Je gegevens downloaden" in text
    assert FORMAL.findall(text) == [], text


def test_a_staff_page_says_je(dpo_client):
    choose(FormOfAddress.INFORMAL)
    page = dpo_client.get("/settings/", **speak(dpo_client, "nl"))
    text = visible_text(page)
    assert "Alleen beheerders kunnen de instellingen wijzigen. Je kunt ze wel inzien." in text
    # The setting names the words in quotes; nothing else says "u".
    assert "“je” (informeel)" in text
    assert FORMAL.findall(text) == [], text


def test_english_pages_are_not_affected(client, newsletter, contact, settings):
    settings.AKKOORD_SIGNUP_MIN_SECONDS = 0
    choose(FormOfAddress.INFORMAL)
    english_form = make_form([newsletter], language="en")
    form_text = visible_text(
        client.get(reverse("signup:form", args=[english_form.form.public_key]))
    )
    assert "What would you like to receive?" in form_text
    centre = client.get(reverse("centre:home", args=[centre_token(contact)]), **speak(client, "en"))
    assert "Download your data" in visible_text(centre)


def test_the_double_opt_in_mail_says_je(public_form, real_smtp):
    choose(FormOfAddress.INFORMAL)
    sign_up(public_form, {"email": "eva@example.nl", "purposes": ["nieuwsbrief"]}, **PROOF)
    [mail] = real_smtp.parsed()
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert mail["Subject"] == "Bevestig je aanmelding bij Mijn organisatie"
    assert "Iemand, hopelijk jij, heeft dit adres bij Mijn organisatie aangemeld voor:" in text
    assert "Heb je je niet aangemeld?" in text
    assert FORMAL.findall(text) == [], text
    assert "hopelijk jij" in html


def test_the_double_opt_in_mail_says_u_by_default(public_form, real_smtp):
    sign_up(public_form, {"email": "eva@example.nl", "purposes": ["nieuwsbrief"]}, **PROOF)
    [mail] = real_smtp.parsed()
    assert mail["Subject"] == "Bevestig uw aanmelding bij Mijn organisatie"
    assert "Iemand, hopelijk u, heeft dit adres" in mail.get_body(("plain",)).get_content()


def test_the_language_is_still_dutch_and_english_still_english():
    choose(FormOfAddress.INFORMAL)
    with translation.override("nl"):
        assert translation.get_language() == "nl"
        assert gettext("Your account") == "Je account"
        assert gettext("Dutch") == "Nederlands"  # no "u" in it: the normal catalogue
    with translation.override("en"):
        assert gettext("Your account") == "Your account"


def test_plural_translations_follow_the_choice():
    choose(FormOfAddress.INFORMAL)
    with translation.override("nl"):
        one = translation.ngettext(
            "You have %(left)s unused recovery code.",
            "You have %(left)s unused recovery codes.",
            1,
        )
        many = translation.ngettext(
            "You have %(left)s unused recovery code.",
            "You have %(left)s unused recovery codes.",
            3,
        )
    assert one % {"left": 1} == "Je hebt 1 ongebruikte herstelcode."
    assert many % {"left": 3} == "Je hebt 3 ongebruikte herstelcodes."


def test_another_process_changing_the_setting_is_followed_after_the_ttl(monkeypatch):
    Organisation.current()
    with translation.override("nl"):
        assert gettext("Your account") == "Uw account"
    # As the settings page of another process would: no signal reaches this one.
    Organisation.objects.update(form_of_address_nl=FormOfAddress.INFORMAL)
    with translation.override("nl"):
        assert gettext("Your account") == "Uw account"  # still remembered
    monkeypatch.setattr(address, "TTL", 0.0)
    with translation.override("nl"):
        assert gettext("Your account") == "Je account"


def test_gettext_without_an_active_language_follows_the_choice():
    choose(FormOfAddress.INFORMAL)
    translation.deactivate()
    try:
        assert gettext("Your account") == "Je account"  # the default language, Dutch
        choose(FormOfAddress.FORMAL)
        assert gettext("Your account") == "Uw account"
    finally:
        translation.activate(settings.LANGUAGE_CODE)


def test_the_standard_privacy_confirmation_says_je(contact, real_smtp):
    choose(FormOfAddress.INFORMAL)
    record_purchase(
        contact, purchased_on=timezone.localdate(), description="Fiets", objection_offered=True
    )
    send_privacy_confirmation(contact, language="nl")
    [mail] = real_smtp.parsed()
    text = mail.get_body(("plain",)).get_content()
    assert mail["Subject"] == "Je gegevens bij Mijn organisatie"
    assert "Je kunt je toestemming altijd intrekken" in text
    # The purpose list comes from the informal catalogue.
    assert "Aanbiedingen van producten en diensten zoals je die bij ons kocht" in text
    assert FORMAL.findall(text) == [], text


def test_a_privacy_confirmation_staff_rewrote_is_sent_as_written(contact, real_smtp):
    choose(FormOfAddress.INFORMAL)
    template = default_template()
    template.subject_nl = "Uw gegevens, {{ organisation_name }}"
    template.save()
    send_privacy_confirmation(contact, language="nl")
    [mail] = real_smtp.parsed()
    assert mail["Subject"] == "Uw gegevens, Mijn organisatie"
    assert "Je kunt je toestemming altijd intrekken" in mail.get_body(("plain",)).get_content()


def test_the_standard_privacy_confirmation_says_u_by_default(contact, real_smtp):
    send_privacy_confirmation(contact, language="nl")
    [mail] = real_smtp.parsed()
    assert mail["Subject"] == "Uw gegevens bij Mijn organisatie"
    assert "U kunt uw toestemming altijd intrekken" in mail.get_body(("plain",)).get_content()


def test_the_standard_statement_texts_say_je_and_edited_ones_stay_as_written():
    from akkoord.accountability.models import AccountabilitySettings
    from akkoord.accountability.statement import build_statement

    def part(key):
        content = build_statement("nl")
        return " ".join(next(p for p in content["parts"] if p["key"] == key)["lines"])

    choose(FormOfAddress.INFORMAL)
    assert part("objection").startswith("Je kunt altijd bezwaar maken")
    assert part("complaint").startswith("Ben je niet tevreden")
    config = AccountabilitySettings.current()
    config.rights_nl = "U mag ons altijd mailen."
    config.save()
    assert part("rights") == "U mag ons altijd mailen."  # staff's own words, as written
    assert FORMAL.findall(part("withdrawal") + part("required") + part("automated")) == []
    english = " ".join(p for q in build_statement("en")["parts"] for p in q["lines"])
    assert "You can object at any time" in english

    choose(FormOfAddress.FORMAL)
    assert part("objection").startswith("U kunt altijd bezwaar maken")
