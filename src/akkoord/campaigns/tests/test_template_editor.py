"""Templates without HTML: Markdown becomes the HTML and text parts, previewed while typing."""

import json
import re
from html import unescape
from html.parser import HTMLParser

import pytest
from django.test import Client

from akkoord.campaigns.answer_links import campaign_problems
from akkoord.campaigns.markdown_mail import markdown_to_parts
from akkoord.campaigns.models import MailTemplate
from akkoord.campaigns.rendering import CompiledMail
from akkoord.conftest import signed_in_client
from akkoord.consent.rules import MailClass
from akkoord.organisation.models import Organisation

PREVIEW_URL = "/campaigns/templates/preview"
NEW_URL = "/campaigns/templates/new"

WELCOME = (
    "# Hallo {{ first_name }}\n\n"
    "Onze **nieuwe** collectie staat klaar.\n\n"
    "- wandelschoenen\n"
    "- regenjassen\n\n"
    "Bekijk [de winkel](https://winkel.example.nl/herfst?a=1&b=2).\n"
)
ASKS = (
    "# Blijft u op de hoogte, {{ first_name }}?\n\n"
    "[Ja, graag]({{ yes_url }})\n\n"
    "[Nee, liever niet]({{ no_url }})\n"
)


class _Elements(HTMLParser):
    """Every start tag with its attributes, in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict]]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.tags


def first(html: str, tag: str) -> dict:
    return next(attrs for name, attrs in elements(html) if name == tag)


# --- Markdown to parts -------------------------------------------------------------------


def test_headings_lists_and_links_become_mail_html():
    html = markdown_to_parts(WELCOME, "nl").html
    assert re.search(r"<h1[^>]*>Hallo {{ first_name }}</h1>", html)
    assert re.search(r"<strong[^>]*>nieuwe</strong>", html)
    assert re.search(r"<ul[^>]*>\s*<li[^>]*>wandelschoenen</li>\s*<li[^>]*>regenjassen</li>", html)
    assert first(html, "a")["href"] == "https://winkel.example.nl/herfst?a=1&b=2"
    assert first(html, "html")["lang"] == "nl"


def test_the_layout_is_responsive_and_styles_are_inlined():
    html = markdown_to_parts(WELCOME, "en").html
    # Style attributes carry the layout's style sheet: clients that drop <style> keep it.
    assert "font-size: 26px" in first(html, "h1")["style"]
    assert "max-width: 600px" in first(html, "table")["style"] or any(
        "max-width: 600px" in attrs.get("style", "") for name, attrs in elements(html)
    )
    assert "sans-serif" in "".join(attrs.get("style", "") for _, attrs in elements(html))
    # Only the media query for narrow screens stays in a style element.
    styles = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert len(styles) == 1 and styles[0].strip().startswith("@media")
    # Nothing fetched from elsewhere: no style sheets, fonts or images.
    assert not [tag for tag, _ in elements(html) if tag in ("link", "img", "script")]
    assert "@import" not in html and "url(" not in html


def test_placeholders_survive_in_text_and_in_link_targets():
    parts = markdown_to_parts(
        ASKS + "\n{% if last_name %}Familie {{ last_name }}{% endif %}\n"
        "[Uw gegevens]({{ privacy_url }}) {{ full_name|default:'klant' }}\n",
        "nl",
    )
    hrefs = [attrs["href"] for tag, attrs in elements(parts.html) if tag == "a"]
    assert hrefs == ["{{ yes_url }}", "{{ no_url }}", "{{ privacy_url }}"]
    assert "{% if last_name %}Familie {{ last_name }}{% endif %}" in parts.html
    assert "{{ full_name|default:'klant' }}" in parts.html
    assert "Ja, graag: {{ yes_url }}" in parts.text
    assert "Nee, liever niet: {{ no_url }}" in parts.text
    assert "Uw gegevens: {{ privacy_url }}" in parts.text


def test_the_text_part_is_the_markdown_with_links_written_out():
    text = markdown_to_parts(WELCOME + "\nOf kijk op <https://winkel.example.nl>.\n", "nl").text
    assert text.startswith("# Hallo {{ first_name }}\n\nOnze **nieuwe** collectie")
    assert "- wandelschoenen\n- regenjassen" in text
    assert "Bekijk de winkel: https://winkel.example.nl/herfst?a=1&b=2." in text
    assert "Of kijk op https://winkel.example.nl." in text
    assert "](" not in text


def test_raw_html_and_script_links_do_not_pass_through():
    source = (
        "<script>alert('x')</script>\n\n"
        '<img src="https://tracker.example/p.gif" onerror="alert(1)">\n\n'
        '<a href="https://evil.example" onclick="steal()">klik</a>\n\n'
        "[klik](javascript:alert(1)) <iframe src=https://evil.example></iframe>\n"
    )
    html = markdown_to_parts(source, "nl").html
    tags = [tag for tag, _ in elements(html)]
    assert not {"script", "img", "iframe"} & set(tags)
    assert not [attrs for tag, attrs in elements(html) if any(a.startswith("on") for a in attrs)]
    assert "javascript:" not in "".join(attrs.get("href", "") for _, attrs in elements(html))
    assert tags.count("a") == 0
    # Shown as text: the writer sees what happened.
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html or "&lt;script&gt;" in html


def test_a_markdown_mail_is_sent_with_the_persons_values(db):
    parts = markdown_to_parts(ASKS, "nl")
    compiled = CompiledMail(
        subject="Blijft u?",
        html=parts.html,
        text=parts.text,
        language="nl",
        organisation=Organisation.current(),
        from_name="Wandelwinkel",
    )
    context = {
        "first_name": "Anna",
        "yes_url": "https://akkoord.example/r/tok?answer=yes",
        "no_url": "https://akkoord.example/r/tok?answer=no",
        "unsubscribe_url": "https://akkoord.example/u/tok",
    }
    _subject, text, html = compiled.render(context)
    assert "Blijft u op de hoogte, Anna?" in html
    hrefs = [attrs["href"] for tag, attrs in elements(html) if tag == "a"]
    assert hrefs[:2] == [context["yes_url"], context["no_url"]]
    assert "Ja, graag: https://akkoord.example/r/tok?answer=yes" in text


# --- The form ----------------------------------------------------------------------------


def test_saving_markdown_makes_the_html_and_text_parts(marketer_client):
    response = marketer_client.post(
        NEW_URL, {"name": "Herfst", "subject_nl": "Herfst, {{ first_name }}", "body_nl": WELCOME}
    )
    assert response.status_code == 302, response.content.decode()
    template = MailTemplate.objects.get(name="Herfst")
    assert template.body_nl == WELCOME.strip()
    expected = markdown_to_parts(template.body_nl, "nl")
    assert template.html_nl == expected.html
    assert template.text_nl == expected.text
    assert "Bekijk de winkel: https://winkel.example.nl/herfst?a=1&b=2." in template.text_nl
    assert template.languages() == ["nl"]


def test_markdown_replaces_html_typed_in_the_advanced_part(marketer_client):
    marketer_client.post(
        NEW_URL,
        {
            "name": "Herfst",
            "subject_en": "Autumn",
            "body_en": "# Autumn\n",
            "html_en": "<p>old</p>",
            "text_en": "old",
        },
    )
    template = MailTemplate.objects.get(name="Herfst")
    assert "old" not in template.html_en and re.search(r"<h1[^>]*>Autumn</h1>", template.html_en)
    assert template.text_en == "# Autumn\n"


def test_a_template_with_its_own_html_keeps_it(marketer_client, template):
    """No Markdown: the parts are saved exactly as typed, as before."""
    data = {
        "name": template.name,
        "subject_nl": template.subject_nl,
        "text_nl": template.text_nl,
        "html_nl": template.html_nl,
        "subject_en": template.subject_en,
        "text_en": template.text_en,
        "html_en": template.html_en,
    }
    response = marketer_client.post(f"/campaigns/templates/{template.pk}/", data)
    assert response.status_code == 302
    template.refresh_from_db()
    # As typed (the form trims surrounding white space, as it always did).
    assert template.html_nl == data["html_nl"] and template.text_en == data["text_en"].strip()
    assert template.body_nl == "" and template.body_en == ""


def test_markdown_without_a_subject_says_so_and_keeps_the_text(marketer_client):
    response = marketer_client.post(NEW_URL, {"name": "Herfst", "body_nl": WELCOME})
    assert response.status_code == 200
    assert response.context["form"].errors["subject_nl"] == [
        "Een mailtekst heeft een onderwerp in dezelfde taal nodig."
    ]
    assert "Onze **nieuwe** collectie" in response.content.decode()
    assert not MailTemplate.objects.exists()


def test_a_template_error_in_markdown_is_shown_at_the_markdown(marketer_client):
    response = marketer_client.post(
        NEW_URL, {"name": "Herfst", "subject_nl": "Hoi", "body_nl": "Hoi {% load static %}"}
    )
    errors = response.context["form"].errors
    assert list(errors) == ["body_nl"]
    assert "load" in errors["body_nl"][0]


def test_answer_links_written_in_markdown_count(marketer_client):
    response = marketer_client.post(
        NEW_URL, {"name": "Blijft u?", "subject_nl": "Blijft u?", "body_nl": ASKS}
    )
    assert response.status_code == 302, response.context["form"].errors
    template = MailTemplate.objects.get(name="Blijft u?")
    assert campaign_problems(template, MailClass.REPERMISSION) == []
    assert campaign_problems(template, MailClass.MARKETING_OTHER)


def test_a_missing_no_link_in_markdown_is_named_once_for_the_mail_text(marketer_client):
    response = marketer_client.post(
        NEW_URL,
        {"name": "Blijft u?", "subject_nl": "Blijft u?", "body_nl": "[Ja]({{ yes_url }})"},
    )
    assert response.status_code == 200
    # One source, one message: not one for a text part and one for an HTML part
    # that the marketer never wrote.
    assert response.context["form"].non_field_errors() == [
        "De Nee-link ({{ no_url }}) ontbreekt in de mailtekst in het Nederlands. "
        "Schrijf hem als link: [Nee]({{ no_url }})."
    ]


def test_a_campaign_names_a_link_missing_from_a_saved_markdown_template(db):
    """Also where a campaign meets the template (campaign form, start of sending)."""
    body = "[Ja]({{ yes_url }})"
    parts = markdown_to_parts(body, "nl")
    template = MailTemplate.objects.create(
        name="Blijft u?",
        subject_nl="Blijft u?",
        body_nl=body,
        html_nl=parts.html,
        text_nl=parts.text,
    )
    assert campaign_problems(template, MailClass.REPERMISSION) == [
        "De Nee-link ({{ no_url }}) ontbreekt in de mailtekst in het Nederlands. "
        "Schrijf hem als link: [Nee]({{ no_url }})."
    ]


def test_an_answer_link_in_markdown_must_be_a_link(marketer_client):
    """A bare {{ yes_url }} is no button to click in the HTML part."""
    response = marketer_client.post(
        NEW_URL,
        {
            "name": "Blijft u?",
            "subject_en": "Staying?",
            "body_en": "Yes: {{ yes_url }}\n\n[No]({{ no_url }})",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.context["form"].non_field_errors() == [
        "The Yes link ({{ yes_url }}) is missing from the mail text in English. "
        "Write it as a link: [Yes]({{ yes_url }})."
    ]


def test_the_editor_shows_markdown_first_and_own_html_closed(marketer_client):
    marketer_client.post(NEW_URL, {"name": "Herfst", "subject_nl": "Herfst", "body_nl": WELCOME})
    written = MailTemplate.objects.get(name="Herfst")
    for url in (NEW_URL, f"/campaigns/templates/{written.pk}/"):
        page = marketer_client.get(url).content.decode()
        assert page.index('name="body_nl"') < page.index("<details")
        assert re.search(r'<details class="advanced">\s*<summary>Geavanceerd: uw eigen HTML', page)
        assert page.index("<details") < page.index('name="html_nl"')
        assert '<iframe class="mail-preview" sandbox=""' in page
        assert "template_editor.js" in page


def test_a_template_written_in_own_html_opens_the_advanced_part(marketer_client, template):
    """Its content is there; a closed part would hide the whole mail."""
    page = marketer_client.get(f"/campaigns/templates/{template.pk}/").content.decode()
    assert '<details class="advanced" open>' in page


# --- The preview -------------------------------------------------------------------------


def preview(client, **fields):
    return client.post(PREVIEW_URL, fields)


def test_the_preview_renders_markdown_for_anna(marketer_client):
    response = preview(
        marketer_client, language="nl", subject_nl="Welkom {{ first_name }}", body_nl=WELCOME
    )
    assert response.status_code == 200
    data = response.json()
    assert data["subject"] == "Welkom Anna"
    assert re.search(r"<h1[^>]*>Hallo Anna</h1>", data["html"])
    assert "https://winkel.example.nl/herfst?a=1&amp;b=2" in data["html"]
    assert data["text"].startswith("# Hallo Anna\n")
    # The footer is part of what people receive, so of the preview too.
    assert "Privacyverklaring" in data["html"] and "#unsubscribe" in data["text"]


def test_the_preview_of_own_html_and_of_text_only(marketer_client):
    own = preview(
        marketer_client,
        language="en",
        subject_en="Hi",
        html_en="<p>Dear {{ first_name }}</p>",
        text_en="Dear {{ first_name }}",
    )
    assert "<p>Dear Anna</p>" in own.json()["html"]
    text_only = preview(
        marketer_client, language="en", subject_en="Hi", text_en="<b>{{ first_name }}</b>"
    )
    assert "&lt;b&gt;Anna&lt;/b&gt;" in text_only.json()["html"]


def test_the_preview_refuses_bad_input_clearly(marketer_client):
    response = preview(marketer_client, language="de", body_nl="# Hallo")
    assert response.status_code == 400
    assert response.json() == {"error": "Kies de taal van het voorbeeld: nl of en."}
    response = preview(marketer_client, language="nl", subject_nl="Hoi {% load static %}")
    assert response.status_code == 400
    assert response.json() == {"error": "Sjablonen mogen de tag load niet gebruiken."}
    response = preview(marketer_client, language="nl", body_nl="Hoi {% if first_name %}")
    assert response.status_code == 400
    assert response.json()["error"].startswith("Fout in het sjabloon: ")


def test_the_preview_needs_a_signed_in_user_who_may_change_data(db, dpo_client):
    anonymous = Client().post(PREVIEW_URL, {"language": "nl", "body_nl": "# Hallo"})
    assert anonymous.status_code == 302 and "/sign-in" in anonymous["Location"]
    assert preview(dpo_client, language="nl", body_nl="# Hallo").status_code == 403


def test_the_preview_needs_the_csrf_token(marketer):
    client = signed_in_client(marketer)
    client.handler.enforce_csrf_checks = True
    assert client.post(PREVIEW_URL, {"language": "nl", "body_nl": "# Hallo"}).status_code == 403
    page = client.get(NEW_URL)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = client.post(
        PREVIEW_URL, {"language": "nl", "body_nl": "# Hallo", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 200 and "Hallo" in response.json()["html"]


def test_the_preview_only_answers_post(marketer_client):
    assert marketer_client.get(PREVIEW_URL + "?language=nl").status_code == 405


def test_the_preview_button_works_without_javascript_and_saves_nothing(marketer_client):
    response = marketer_client.post(
        NEW_URL,
        {
            "name": "Herfst",
            "subject_nl": "Welkom {{ first_name }}",
            "body_nl": WELCOME,
            "preview": "1",
        },
    )
    assert response.status_code == 200
    assert not MailTemplate.objects.exists()
    page = response.content.decode()
    srcdoc = unescape(re.search(r'srcdoc="([^"]*)"', page).group(1))
    assert re.search(r"<h1[^>]*>Hallo Anna</h1>", srcdoc)
    assert '<span data-preview="subject">Welkom Anna</span>' in page
    # The same preview as the live one.
    live = preview(
        marketer_client, language="nl", subject_nl="Welkom {{ first_name }}", body_nl=WELCOME
    )
    assert json.loads(json.dumps(live.json()))["subject"] == "Welkom Anna"


def test_the_editor_lets_the_preview_frames_use_inline_styles_and_nothing_more(marketer_client):
    policy = marketer_client.get(NEW_URL)["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_editor_page_in_each_language(marketer_client, language):
    page = marketer_client.get(NEW_URL, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    says = {
        "nl": ["Voorbeeld voor een voorbeeldpersoon (Anna)", "Geavanceerd: uw eigen HTML"],
        "en": ["Preview for a sample person (Anna)", "Advanced: your own HTML"],
    }[language]
    for text in says:
        assert text in page
