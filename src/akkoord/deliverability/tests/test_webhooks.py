"""Each sending service's webhook: valid calls land on their delivery, forged ones are refused."""

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from django.utils import timezone

from akkoord.campaigns.models import Delivery, DeliveryStatus
from akkoord.consent.models import ConsentEvent
from akkoord.consent.rules import EventKind
from akkoord.contacts.models import Contact
from akkoord.deliverability import sns, verp
from akkoord.deliverability.models import DeliveryReport, ReportKind

pytestmark = pytest.mark.django_db
MSGID = "<abc123@mail.example.com>"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:ses-bounces"
CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem"


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
        sent_at=timezone.now() - timedelta(minutes=5),
        message_id=MSGID,
    )


def post(client, provider, payload, **headers):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(
        f"/hooks/bounces/{provider}", body, content_type="application/json", headers=headers
    )


def excluded(delivery):
    return Contact.objects.get(pk=delivery.contact_id).hard_bounced_at is not None


# --- Amazon SES through SNS, signed with a test key pair of our own -----------


@pytest.fixture
def sns_key(settings, monkeypatch):
    settings.AKKOORD_WEBHOOK_SES_TOPICS = [TOPIC]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    fetched, confirmed = [], []
    monkeypatch.setattr(sns, "fetch_certificate", lambda url: fetched.append(url) or pem)
    monkeypatch.setattr(sns, "confirm_subscription", confirmed.append)
    return SimpleNamespace(key=key, confirmed=confirmed)


def signed_sns(sns_key, message: dict) -> dict:
    key = sns_key.key
    message = {"SignatureVersion": "2", "SigningCertURL": CERT_URL, "TopicArn": TOPIC, **message}
    signature = key.sign(sns.signing_string(message), padding.PKCS1v15(), hashes.SHA256())
    return {**message, "Signature": base64.b64encode(signature).decode()}


def ses_bounce(delivery):
    source = verp.envelope_sender(delivery.campaign, delivery.pk)
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "feedbackId": "0102019390-feedback-1",
            "timestamp": timezone.now().isoformat(),
            "bouncedRecipients": [
                {"emailAddress": "jan.jansen@example.nl", "status": "5.1.1",
                 "diagnosticCode": "smtp; 550 5.1.1 user unknown"}
            ],
        },
        "mail": {"messageId": "ses-own-id", "source": source},
    }  # fmt: skip


def test_a_signed_ses_bounce_excludes_the_address(client, sns_key, delivery, settings):
    settings.AKKOORD_BOUNCE_DOMAIN = "bounce.example.com"
    message = signed_sns(
        sns_key,
        {"Type": "Notification", "MessageId": "m-1", "Timestamp": "2026-12-05T08:00:00Z",
         "Message": json.dumps(ses_bounce(delivery))},
    )  # fmt: skip
    response = post(client, "ses", message)
    assert response.status_code == 200, response.content
    assert excluded(delivery)
    assert DeliveryReport.objects.get().delivery_id == delivery.pk
    assert post(client, "ses", message).json()["events"] == {"duplicate": 1}


def test_a_forged_ses_notification_is_refused_and_changes_nothing(client, sns_key, delivery):
    message = signed_sns(
        sns_key,
        {"Type": "Notification", "MessageId": "m-1", "Timestamp": "2026-12-05T08:00:00Z",
         "Message": json.dumps(ses_bounce(delivery))},
    )  # fmt: skip
    message["Message"] = message["Message"].replace("Permanent", "Transient")
    response = post(client, "ses", message)
    assert response.status_code == 403 and "signature" in response.json()["error"]
    other_host = {**message, "SigningCertURL": "https://evil.example/cert.pem"}
    assert post(client, "ses", other_host).status_code == 403
    assert not excluded(delivery) and DeliveryReport.objects.count() == 0


def test_a_verified_subscription_confirmation_is_confirmed(client, sns_key):
    url = "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=t"
    message = signed_sns(
        sns_key,
        {"Type": "SubscriptionConfirmation", "MessageId": "s-1", "Token": "t",
         "Message": "You have chosen to subscribe", "SubscribeURL": url,
         "Timestamp": "2026-12-05T08:00:00Z"},
    )  # fmt: skip
    assert post(client, "ses", message).status_code == 200
    assert sns_key.confirmed == [url]


def test_an_ses_complaint_withdraws_in_the_ledger(client, sns_key, delivery):
    notification = {
        "notificationType": "Complaint",
        "complaint": {"feedbackId": "c-1", "complaintFeedbackType": "abuse",
                      "complainedRecipients": [{"emailAddress": "jan.jansen@example.nl"}]},
        "mail": {"messageId": "ses-own-id", "source": "nieuws@mail.example.com",
                 "headers": [{"name": "Message-ID", "value": MSGID}]},
    }  # fmt: skip
    message = signed_sns(
        sns_key,
        {"Type": "Notification", "MessageId": "m-2", "Timestamp": "2026-12-05T08:00:00Z",
         "Message": json.dumps(notification)},
    )  # fmt: skip
    assert post(client, "ses", message).status_code == 200
    assert ConsentEvent.objects.filter(kind=EventKind.COMPLAINED).count() == 1


# --- Postmark, Mailgun, SendGrid, Brevo ---------------------------------------


def basic(secret):
    return "Basic " + base64.b64encode(f"akkoord:{secret}".encode()).decode()


def test_postmark_with_the_right_credentials_and_refused_with_wrong(client, delivery, settings):
    settings.AKKOORD_WEBHOOK_POSTMARK_SECRET = "pm-secret"
    payload = {"RecordType": "Bounce", "ID": 4323372036, "Type": "HardBounce",
               "Email": "jan.jansen@example.nl", "Details": "smtp;550 5.1.1 unknown",
               "BouncedAt": timezone.now().isoformat()}  # fmt: skip
    assert post(client, "postmark", payload, Authorization=basic("wrong")).status_code == 403
    assert not excluded(delivery)
    assert post(client, "postmark", payload, Authorization=basic("pm-secret")).status_code == 200
    assert excluded(delivery)


def test_postmark_without_a_configured_secret_is_refused(client, delivery, settings):
    settings.AKKOORD_WEBHOOK_POSTMARK_SECRET = ""
    response = post(client, "postmark", {"RecordType": "Bounce"}, Authorization=basic(""))
    assert (
        response.status_code == 404
        and "AKKOORD_WEBHOOK_POSTMARK_SECRET" in response.json()["error"]
    )


def mailgun_payload(key, event):
    timestamp, token = str(int(time.time())), "a" * 50
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return {"signature": {"timestamp": timestamp, "token": token, "signature": signature},
            "event-data": event}  # fmt: skip


def test_mailgun_signed_complaint_and_wrong_signature(client, delivery, settings):
    settings.AKKOORD_WEBHOOK_MAILGUN_SIGNING_KEY = "mg-key"
    event = {"id": "mg-1", "event": "complained", "recipient": "jan.jansen@example.nl",
             "timestamp": time.time(), "message": {"headers": {"message-id": MSGID[1:-1]}}}  # fmt: skip
    assert post(client, "mailgun", mailgun_payload("other-key", event)).status_code == 403
    assert ConsentEvent.objects.filter(kind=EventKind.COMPLAINED).count() == 0
    assert post(client, "mailgun", mailgun_payload("mg-key", event)).status_code == 200
    assert DeliveryReport.objects.get().kind == ReportKind.COMPLAINT


def test_sendgrid_signed_bounce_and_wrong_signature(client, delivery, settings):
    key = ec.generate_private_key(ec.SECP256R1())
    settings.AKKOORD_WEBHOOK_SENDGRID_PUBLIC_KEY = base64.b64encode(
        key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).decode()
    body = json.dumps([{"email": "jan.jansen@example.nl", "event": "bounce", "type": "bounce",
                        "status": "5.1.1", "sg_event_id": "sg-1", "smtp-id": MSGID,
                        "timestamp": int(time.time())}]).encode()  # fmt: skip
    timestamp = str(int(time.time()))
    signature = base64.b64encode(key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256())))
    headers = {
        "X-Twilio-Email-Event-Webhook-Signature": signature.decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
    }
    tampered = body.replace(b"5.1.1", b"4.2.2")
    assert post(client, "sendgrid", tampered, **headers).status_code == 403
    assert post(client, "sendgrid", body, **headers).status_code == 200
    assert excluded(delivery)


def test_brevo_with_the_token_and_refused_without(client, delivery, settings):
    settings.AKKOORD_WEBHOOK_BREVO_SECRET = "br-token"
    payload = {"event": "soft_bounce", "email": "jan.jansen@example.nl", "message-id": MSGID,
               "ts_event": int(time.time()), "reason": "mailbox full"}  # fmt: skip
    assert post(client, "brevo", payload).status_code == 403
    assert post(client, "brevo", payload, Authorization="Bearer br-token").status_code == 200
    report = DeliveryReport.objects.get()
    assert report.kind == ReportKind.SOFT and not excluded(delivery)


def test_an_unknown_provider_and_a_non_json_body_are_refused(client, settings):
    settings.AKKOORD_WEBHOOK_BREVO_SECRET = "br-token"
    assert post(client, "nobody", {}).status_code == 404
    assert post(client, "brevo", b"{not json", Authorization="Bearer br-token").status_code == 400
