"""Reading real-shaped reports: each format gives the right verdict and status."""

import pytest

from akkoord.deliverability.parse import Verdict, parse_report
from akkoord.deliverability.tests.conftest import report_mail

ENVELOPE = "bounces+1f.abcdefghijklmnop@bounce.example.com"
RCPT = "jan.jansen@example.nl"
MSGID = "<0123456789abcdef@mail.example.com>"


def parsed(name):
    return parse_report(report_mail(name, envelope=ENVELOPE, rcpt=RCPT, message_id=MSGID))


@pytest.mark.parametrize(
    ("name", "verdict", "status"),
    [
        ("postfix_hard", Verdict.HARD, "5.1.1"),
        ("postfix_delayed", Verdict.SOFT, "4.2.2"),
        ("exim_plain", Verdict.HARD, "5.1.1"),
        ("exchange", Verdict.HARD, "5.1.10"),
        ("gmail", Verdict.HARD, "5.1.1"),
        ("ses_mail", Verdict.HARD, "5.1.1"),
    ],
)
def test_bounces_of_each_mail_server_are_read_as_hard_or_soft_by_status(name, verdict, status):
    report = parsed(name)
    assert report.verdict == verdict
    assert report.status == status
    assert report.original_message_id == MSGID
    assert ENVELOPE in report.searchable


def test_the_diagnostic_keeps_no_address():
    report = parsed("postfix_hard")
    assert "User" in report.diagnostic
    assert RCPT not in report.diagnostic


def test_an_arf_report_is_a_complaint_with_its_feedback_type_and_arrival():
    report = parsed("arf_complaint")
    assert report.verdict == Verdict.COMPLAINT
    assert report.feedback_type == "abuse"
    assert report.original_message_id == MSGID
    assert report.occurred_at.isoformat() == "2026-12-05T08:01:00+00:00"


def test_an_out_of_office_reply_is_never_a_bounce_even_when_it_quotes_a_code():
    assert parsed("out_of_office").verdict == Verdict.AUTO_REPLY


def test_an_out_of_office_without_auto_submitted_is_known_by_its_subject():
    raw = (
        b"From: Piet <piet@example.nl>\r\nTo: x@example.com\r\nSubject: Out of Office: Herfst\r\n"
        b"\r\nI am away. Mail delivery failed, 550 on Monday.\r\n"
    )
    assert parse_report(raw).verdict == Verdict.AUTO_REPLY


def test_a_delivery_success_notice_is_not_a_bounce():
    raw = report_mail("postfix_hard", envelope=ENVELOPE, rcpt=RCPT, message_id=MSGID)
    raw = raw.replace(b"Action: failed", b"Action: delivered").replace(
        b"Status: 5.1.1", b"Status: 2.0.0"
    )
    assert parse_report(raw).verdict == Verdict.NOTICE


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not a mail at all \x00\xff",
        b"From: someone@example.org\r\nSubject: hello\r\n\r\nJust a question.\r\n",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x--\r\n",
    ],
)
def test_malformed_or_unrelated_mail_is_unknown_and_never_raises(raw):
    assert parse_report(raw).verdict == Verdict.UNKNOWN
