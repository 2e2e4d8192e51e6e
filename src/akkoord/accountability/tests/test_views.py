"""Staff pages and the public privacy statement."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from akkoord.accountability import register, statement
from akkoord.accountability.models import Breach, Processor, RetentionRun, StatementVersion
from akkoord.accounts.models import AuditEntry

pytestmark = pytest.mark.urls("akkoord.accountability.tests.urls")


def test_staff_pages_render_for_every_role(complete, dpo_client):
    for name in ("index", "register", "statement", "breaches", "retention", "renewal"):
        response = dpo_client.get(reverse(f"accountability:{name}"))
        assert response.status_code == 200, name


def test_pages_need_a_signed_in_user(client, db):
    assert client.get(reverse("accountability:index")).status_code == 302
    assert client.get(reverse("accountability:register_export", args=["pdf"])).status_code == 302


def test_dpo_cannot_change_anything(complete, dpo_client):
    assert dpo_client.post(reverse("accountability:statement_publish")).status_code == 403
    assert dpo_client.post(reverse("accountability:retention_run")).status_code == 403
    assert dpo_client.get(reverse("accountability:breach_new")).status_code == 403
    assert not StatementVersion.objects.exists()


def test_register_renders_in_dutch_and_english(complete, admin_client):
    nl = admin_client.get(reverse("accountability:register") + "?lang=nl").content.decode()
    en = admin_client.get(reverse("accountability:register") + "?lang=en").content.decode()
    assert "Nieuwsbrief" in nl and "Klanten en geïnteresseerden" in nl
    assert "Newsletter" in en and "Customers and interested people" in en


def test_pdf_export_download_is_audited(complete, admin_client):
    response = admin_client.get(
        reverse("accountability:register_export", args=["pdf"]) + "?lang=en"
    )
    assert response["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Fietsenwinkel De Ketting B.V." in text
    assert AuditEntry.objects.filter(action="export", object_type="register").exists()
    assert (
        admin_client.get(reverse("accountability:register_export", args=["exe"])).status_code == 404
    )
    printable = admin_client.get(reverse("accountability:register_export", args=["html"]))
    assert b"Newsletter" in printable.content or b"Nieuwsbrief" in printable.content


def test_publishing_a_complete_statement_and_serving_it_publicly(complete, marketer_client, client):
    response = marketer_client.post(reverse("accountability:statement_publish"), {"material": "on"})
    assert response.status_code == 302
    version = StatementVersion.objects.get()
    assert version.material and version.published_by.email == "mark@example.com"
    public = client.get("/privacy")
    assert public.status_code == 302 and public["Location"] == "/privacy/1/"
    en = client.get("/privacy/1/?lang=en").content.decode()
    nl = client.get("/privacy/1/?lang=nl").content.decode()
    assert "Who we are" in en and "Autoriteit Persoonsgegevens" in en
    assert "Wie wij zijn" in nl and "Fietsenwinkel De Ketting B.V." in nl
    assert client.get("/privacy/9/").status_code == 404


def test_publishing_an_incomplete_statement_is_refused_with_the_list(complete, admin_client):
    complete.contact_email = ""
    complete.save()
    response = admin_client.post(reverse("accountability:statement_publish"), follow=True)
    assert not StatementVersion.objects.exists()
    assert (
        "How to reach us" in response.content.decode()
        or "Hoe u ons bereikt" in response.content.decode()
    )


def test_public_privacy_without_a_statement(db, client):
    assert client.get("/privacy").status_code == 404


def test_processor_form_validates_the_country(complete, admin_client):
    url = reverse("accountability:processor_new")
    data = {"name": "Wolkmail", "service_nl": "Mail", "service_en": "Mail", "country": "USA"}
    response = admin_client.post(url, data)
    assert response.status_code == 200 and not Processor.objects.filter(name="Wolkmail").exists()
    response = admin_client.post(url, {**data, "country": "us"})
    assert response.status_code == 302
    processor = Processor.objects.get(name="Wolkmail")
    assert processor.country == "US" and processor.flagged
    page = admin_client.get(reverse("accountability:register") + "?lang=en").content.decode()
    assert "geen waarborg voor doorgifte" in page


def test_breach_page_counts_down_and_then_shows_overdue(organisation, admin_client):
    response = admin_client.post(
        reverse("accountability:breach_new"),
        {
            "title": "Lost laptop",
            "aware_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "nature": "Stolen",
            "approx_persons": 10,
            "approx_records": 10,
        },
    )
    assert response.status_code == 302
    breach = Breach.objects.get()
    url = reverse("accountability:breach", args=[breach.pk])
    page = admin_client.get(url).content.decode()
    assert 'class="badge bad"' not in page and "msg warning" in page
    Breach.objects.filter(pk=breach.pk).update(aware_at=timezone.now() - timedelta(hours=73))
    assert 'class="badge bad"' in admin_client.get(url).content.decode()


def test_breach_form_rejects_bad_input(organisation, admin_client):
    response = admin_client.post(
        reverse("accountability:breach_new"), {"title": "", "aware_at": "yesterday", "nature": ""}
    )
    assert response.status_code == 200 and not Breach.objects.exists()


def test_retention_dry_run_from_the_staff_page(complete, admin_client):
    response = admin_client.post(reverse("accountability:retention_run"), {"dry_run": "1"})
    assert response.status_code == 302
    assert RetentionRun.objects.get().dry_run
    page = admin_client.get(reverse("accountability:retention")).content.decode()
    assert "Personen verwijderd na hun bewaartermijn: 0" in page


def test_current_statement_helpers_follow_publishing(complete, admin):
    statement.publish(admin)
    assert statement.current_statement_version() == "1"


def test_editing_an_activity_changes_the_register(complete, admin_client, newsletter):
    from akkoord.accountability.models import ProcessingActivity

    activity = ProcessingActivity.objects.get(purpose=newsletter)
    url = reverse("accountability:activity", args=[activity.pk])
    assert admin_client.get(url).status_code == 200
    data = {
        "name_nl": "Nieuwsbrief",
        "name_en": "Newsletter",
        "description_nl": "Maandelijkse nieuwsbrief.",
        "description_en": "Monthly newsletter.",
        "legal_basis": "consent",
        "persons_nl": "Abonnees",
        "persons_en": "Subscribers",
        "retention_days": "730",
        "processors": [p.pk for p in Processor.objects.all()],
    }
    assert admin_client.post(url, {**data, "legal_basis": "whim"}).status_code == 200
    assert admin_client.post(url, data).status_code == 302
    page = admin_client.get(reverse("accountability:register") + "?lang=en").content.decode()
    assert "Subscribers" in page


def test_settings_and_category_retention_forms(complete, admin_client):
    from akkoord.accountability.models import AccountabilitySettings, CategoryRetention

    url = reverse("accountability:settings")
    response = admin_client.post(url, {"storage_country": "Nederland", "audit_log_days": "x"})
    assert response.status_code == 200
    assert AccountabilitySettings.current().storage_country == "NL"
    categories = reverse("accountability:categories")
    rows = list(CategoryRetention.objects.all())
    form = {"form-TOTAL_FORMS": len(rows), "form-INITIAL_FORMS": len(rows)}
    for i, row in enumerate(rows):
        form |= {f"form-{i}-id": row.pk, f"form-{i}-retention_days": 500 if i == 0 else 365}
    assert admin_client.post(categories, form).status_code == 302
    assert CategoryRetention.objects.get(pk=rows[0].pk).retention_days == 500
    days = [c["retention_days"] for c in register.build_register("en")["categories"]]
    assert 500 in days


def test_breach_notification_from_the_page(newsletter, contact, admin_client):
    from django.core import mail

    from akkoord.consent.ledger import record_event
    from akkoord.consent.models import Channel
    from akkoord.consent.rules import EventKind

    record_event(
        contact, newsletter, EventKind.GRANTED, channel=Channel.STAFF, needs_confirmation=False
    )
    breach = Breach.objects.create(
        title="Lost laptop",
        nature="x",
        affected_purpose=newsletter,
        person_subject_nl="Datalek",
        person_text_nl="Tekst",
        person_subject_en="Breach",
        person_text_en="Text",
    )
    page = admin_client.get(reverse("accountability:breach", args=[breach.pk])).content.decode()
    assert 'id="affected"' in page and ": 1</dd>" in page
    response = admin_client.post(reverse("accountability:breach_notify", args=[breach.pk]))
    assert response.status_code == 302 and len(mail.outbox) == 1
    assert mail.outbox[0].to == ["jan.jansen@example.nl"]


def test_real_retention_run_from_the_page_goes_through_the_task(complete, admin_client):
    admin_client.post(reverse("accountability:retention_run"))
    assert RetentionRun.objects.filter(dry_run=False).count() == 1


def test_statement_draft_renders_in_dutch_and_english(complete, dpo_client):
    url = reverse("accountability:statement")
    nl = dpo_client.get(url + "?lang=nl").content.decode()
    en = dpo_client.get(url + "?lang=en").content.decode()
    assert "Wie wij zijn" in nl and "Uw recht om bezwaar te maken" in nl
    assert "Who we are" in en and "Your right to object" in en


def test_privacy_redirect_keeps_the_language(complete, admin, client):
    statement.publish(admin)
    response = client.get("/privacy?lang=en")
    assert response["Location"] == "/privacy/1/?lang=en"
    assert "Who we are" in client.get(response["Location"]).content.decode()


def test_renewal_page_counts_contacts_without_touching_the_ledger(
    complete, admin, dpo_client, contact, newsletter
):
    from akkoord.consent.ledger import record_event
    from akkoord.consent.models import Channel, ConsentEvent
    from akkoord.consent.rules import EventKind

    record_event(
        contact,
        newsletter,
        EventKind.GRANTED,
        channel=Channel.STAFF,
        needs_confirmation=False,
        privacy_statement_version="",
    )
    statement.publish(admin, material=True)
    events = ConsentEvent.objects.count()
    page = dpo_client.get(reverse("accountability:renewal")).content.decode()
    assert 'id="renewal-count"' in page and "jan.jansen@example.nl" in page
    assert ConsentEvent.objects.count() == events


def test_register_page_lists_what_is_missing(complete, admin_client):
    from akkoord.accountability.models import AccountabilitySettings

    # The page speaks the staff user's language (Dutch here); the register
    # itself, and so the list of what it lacks, the language chosen with ?lang.
    url = reverse("accountability:register")
    assert "elk onderdeel van artikel 30" in admin_client.get(url + "?lang=en").content.decode()
    AccountabilitySettings.objects.update(security_en="", security_nl="")
    en = admin_client.get(url + "?lang=en").content.decode()
    nl = admin_client.get(url + "?lang=nl").content.decode()
    assert "Wat het register nog mist" in en and "The security measures." in en
    assert "De beveiligingsmaatregelen." in nl
