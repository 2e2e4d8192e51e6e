"""The mailbox reader moves only what it recognises and never deletes other mail.

The IMAP server is replaced by a fake of the narrow ``Mailbox`` interface (no
IMAP server is available to the tests); everything behind it is real.
"""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from akkoord.campaigns.models import Delivery, DeliveryStatus
from akkoord.contacts.models import Contact
from akkoord.deliverability import verp
from akkoord.deliverability.mailbox import parse_imap_url, read_mailbox
from akkoord.deliverability.models import DeliveryReport
from akkoord.deliverability.tests.conftest import report_mail

pytestmark = pytest.mark.django_db


class FakeMailbox:
    def __init__(self, messages: dict[bytes, bytes]):
        self.messages = messages
        self.moved: list[bytes] = []

    def recent_uids(self, since_days):
        return list(self.messages)

    def fetch(self, uid):
        return self.messages[uid]

    def move_done(self, uid):
        self.moved.append(uid)
        del self.messages[uid]

    def close(self):
        pass


@pytest.fixture
def delivery(make_campaign, newsletter, contact, bounce_settings):
    campaign = make_campaign(newsletter, mail_class="marketing_other", audience="optins")
    return Delivery.objects.create(
        campaign=campaign, contact=contact, language="nl", basis="consent", reason="ok_consent",
        status=DeliveryStatus.SENT, sent_at=timezone.now(), message_id="<mb1@mail.example.com>",
    )  # fmt: skip


def test_only_recognised_mail_is_moved_and_the_rest_left_alone(delivery):
    envelope = verp.envelope_sender(delivery.campaign, delivery.pk)
    fill = {
        "envelope": envelope,
        "rcpt": "jan.jansen@example.nl",
        "message_id": delivery.message_id,
    }
    unrelated_bounce = report_mail(
        "postfix_hard",
        envelope="info@shop.example.nl",
        rcpt="x@example.org",
        message_id="<other@x>",
    )
    colleague_ooo = report_mail(
        "out_of_office", envelope="info@shop.example.nl", rcpt="piet@example.nl", message_id="<o@x>"
    )
    mailbox = FakeMailbox(
        {
            b"1": report_mail("gmail", **fill),
            b"2": b"From: klant@example.org\r\nSubject: Vraag over mijn bestelling\r\n\r\nHallo\r\n",
            b"3": unrelated_bounce,
            b"4": report_mail("out_of_office", **fill),
            b"5": colleague_ooo,
        }
    )
    result = read_mailbox(mailbox)
    assert sorted(mailbox.moved) == [b"1", b"4"]
    assert sorted(mailbox.messages) == [b"2", b"3", b"5"]
    assert result.read == 5
    assert DeliveryReport.objects.get().delivery_id == delivery.pk
    assert Contact.objects.get(pk=delivery.contact_id).hard_bounced_at is not None


@pytest.mark.parametrize("url", ["imap://u:p@mail.example.nl/INBOX", "ftp://x", "imaps:///INBOX"])
def test_the_mailbox_is_read_encrypted_and_needs_a_host(url):
    with pytest.raises(ImproperlyConfigured):
        parse_imap_url(url)


def test_an_imap_url_gives_folder_and_credentials():
    config = parse_imap_url("imaps://bounces%40shop.nl:s%2Fcret@imap.example.nl/Bounces")
    assert config["username"] == "bounces@shop.nl" and config["password"] == "s/cret"
    assert (config["host"], config["port"], config["folder"]) == ("imap.example.nl", 993, "Bounces")
