"""Staff see each report, administrators its raw text; a wrong bounce can be undone (audited)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from akkoord.accountability import retention
from akkoord.accounts.models import AuditEntry
from akkoord.campaigns.models import Delivery, DeliveryStatus
from akkoord.contacts.models import Contact
from akkoord.deliverability.models import DeliveryReport, ReportKind, ReportSource
from akkoord.deliverability.services import fingerprint, record_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery(make_campaign, newsletter, contact):
    campaign = make_campaign(newsletter, mail_class="marketing_other", audience="optins")
    return Delivery.objects.create(
        campaign=campaign,
        contact=contact,
        language="nl",
        basis="consent",
        reason="ok_consent",
        status=DeliveryStatus.SENT,
        sent_at=timezone.now(),
        message_id="<m1@mail.example.com>",
    )


def bounce(delivery, kind=ReportKind.HARD, name="one"):
    return record_report(
        kind,
        delivery,
        source=ReportSource.API,
        fingerprint=fingerprint(name),
        status="5.1.1" if kind == ReportKind.HARD else "",
        raw="Final-Recipient: rfc822; jan.jansen@example.nl",
    ).report


def test_staff_see_the_list_and_the_dpo_sees_no_raw_report(dpo_client, admin_client, delivery):
    report = bounce(delivery)
    page = dpo_client.get("/deliverability/reports/")
    assert page.status_code == 200
    assert f"/deliverability/reports/{report.pk}/" in page.content.decode()
    detail = dpo_client.get(f"/deliverability/reports/{report.pk}/").content.decode()
    assert "jan.jansen@example.nl" not in detail
    assert (
        "jan.jansen@example.nl"
        in admin_client.get(f"/deliverability/reports/{report.pk}/").content.decode()
    )
    assert AuditEntry.objects.filter(object_type="deliveryreport", action="view").count() == 3


def test_undoing_a_wrong_bounce_lifts_the_exclusion_and_is_audited(marketer_client, delivery):
    report = bounce(delivery)
    assert Contact.objects.get(pk=delivery.contact_id).hard_bounced_at is not None
    response = marketer_client.post(f"/deliverability/reports/{report.pk}/undo")
    assert response.status_code == 302
    assert Contact.objects.get(pk=delivery.contact_id).hard_bounced_at is None
    report.refresh_from_db()
    assert report.is_undone
    entry = AuditEntry.objects.get(object_type="deliveryreport", action="change")
    assert "exclusion lifted" in entry.detail and "example.nl" not in entry.detail


def test_the_dpo_cannot_undo_and_a_complaint_cannot_be_undone(
    dpo_client, marketer_client, delivery
):
    report = bounce(delivery)
    assert dpo_client.post(f"/deliverability/reports/{report.pk}/undo").status_code == 403
    complaint = bounce(delivery, ReportKind.COMPLAINT, name="two")
    marketer_client.post(f"/deliverability/reports/{complaint.pk}/undo")
    complaint.refresh_from_db()
    assert not complaint.is_undone


def test_results_page_shows_counts_and_warnings(dpo_client, delivery):
    delivery.campaign.started_at = timezone.now()
    delivery.campaign.save()
    bounce(delivery, ReportKind.COMPLAINT)
    page = dpo_client.get("/deliverability/").content.decode()
    assert "Gmail en Yahoo weigeren" in page and "mail.example.com" in page


def test_retention_erases_raw_reports_after_their_period(delivery, settings):
    settings.AKKOORD_BOUNCE_RAW_DAYS = 14
    old = bounce(delivery)
    DeliveryReport.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=15))
    fresh = bounce(delivery, ReportKind.SOFT, name="fresh")
    run = retention.run()
    assert run.report["bounce_reports"] == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.raw == "" and old.raw_erased_at is not None
    assert fresh.raw != ""


def test_erasing_the_person_erases_their_raw_reports(delivery):
    from akkoord.contacts.erasure import erase_contact

    report = bounce(delivery)
    erase_contact(Contact.objects.get(pk=delivery.contact_id), reason="request", via="staff")
    report.refresh_from_db()
    assert report.raw == "" and report.contact_id is None


def test_the_contact_page_lists_the_persons_reports(dpo_client, delivery):
    report = bounce(delivery)
    page = dpo_client.get(f"/contacts/{delivery.contact_id}/").content.decode()
    assert f"/deliverability/reports/{report.pk}/" in page
