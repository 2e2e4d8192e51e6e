"""Every imported person gets their privacy confirmation (DOMAIN §4), also when
the mail server refuses for a while: the notices wait in the database and are
tried again, never dropped. A real SMTP server (aiosmtpd) that answers
"451 try again later" to the first messages."""

import threading
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from akkoord.campaigns.tests.conftest import free_port
from akkoord.contacts.models import Contact
from akkoord.notices.models import QueuedNotice
from akkoord.notices.tasks import deliver_queued_notices_task
from akkoord.transfer.models import ImportJob

PEOPLE = 30
REFUSED_FIRST = 12


class RefusingAtFirst:
    """Accepts mail only after refusing the first ``refuse`` messages (451)."""

    def __init__(self, refuse: int):
        self.refuse = refuse
        self.accepted: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refuse:
                self.refuse -= 1
                return "451 4.3.0 Try again later"
            self.accepted.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def mail_server(settings):
    handler = RefusingAtFirst(REFUSED_FIRST)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "akkoord.mail.backends.SmtpUrlBackend"
    settings.AKKOORD_SMTP_URL = f"smtp://127.0.0.1:{controller.port}"
    yield handler
    controller.stop()


def test_imported_people_get_their_notice_after_the_mail_server_refused_at_first(
    marketer_client, newsletter, mail_server, django_capture_on_commit_callbacks, time_machine
):
    content = "email,first_name\n" + "".join(f"n{n}@example.org,Noor\n" for n in range(PEOPLE))
    marketer_client.post(
        "/transfer/import/",
        {
            "file": SimpleUploadedFile("people.csv", content.encode(), "text/csv"),
            "purpose": "nieuwsbrief",
            "format": "csv",
            "encoding": "utf-8",
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        page = marketer_client.post(
            "/transfer/import/preview/",
            {"map-0": "email", "map-1": "first_name", "action": "import"},
            follow=True,
        )
    assert page.context["job"].status == ImportJob.Status.DONE

    # The first delivery ran after the import: the refused notices wait, none is lost.
    assert len(mail_server.accepted) == PEOPLE - REFUSED_FIRST
    waiting = QueuedNotice.objects.all()
    assert waiting.count() == REFUSED_FIRST
    assert {(n.attempts, n.last_error) for n in waiting} == {(1, "SMTPDataError (SMTP 451)")}

    # A worker delivers again once the pause after a failure is over.
    time_machine.move_to(timezone.now() + timedelta(minutes=2))
    deliver_queued_notices_task.enqueue()

    emails = sorted(Contact.objects.values_list("email", flat=True))
    assert sorted(mail_server.accepted) == emails, "each person gets exactly one notice"
    assert not Contact.objects.filter(informed_at__isnull=True).exists()
    assert not QueuedNotice.objects.exists()
