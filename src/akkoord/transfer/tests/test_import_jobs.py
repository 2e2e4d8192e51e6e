"""Import jobs: what stays when an import stops half way, and what is removed.

Uploads hold personal data in clear: they are removed when an import ends in
any way, and the daily retention run sweeps what is left behind.
"""

import os
import time

from django.core.files.uploadedfile import SimpleUploadedFile

from akkoord.accountability.retention import run as run_retention
from akkoord.accounts.models import AuditEntry
from akkoord.consent.ledger import rebuild_state, verify_ledger
from akkoord.consent.models import ConsentEvent
from akkoord.contacts.models import Contact
from akkoord.notices.models import QueuedNotice
from akkoord.transfer import writing
from akkoord.transfer.models import ImportJob
from akkoord.transfer.uploads import upload_dir

ROWS = 2500  # two chunks of the default 2,000


def _csv(rows: int) -> bytes:
    lines = ["email,first_name"] + [f"p{n}@example.org,Piet" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _start_import(client, content: bytes):
    response = client.post(
        "/transfer/import/",
        {
            "file": SimpleUploadedFile("people.csv", content, "text/csv"),
            "purpose": "nieuwsbrief",
            "format": "csv",
            "encoding": "utf-8",
        },
    )
    assert response.status_code == 302, response.content
    stored = client.session["transfer_upload"]["stored"]
    page = client.post(
        "/transfer/import/preview/",
        {"map-0": "email", "map-1": "first_name", "action": "import"},
        follow=True,
    )
    return page.context["job"], stored


def _clear_uploads():
    for path in upload_dir().iterdir():
        path.unlink()


def test_an_import_stopped_by_an_error_keeps_whole_chunks_and_a_rerun_adds_the_rest(
    marketer_client, newsletter, monkeypatch
):
    _clear_uploads()
    real_append, calls = writing.ledger.append, []

    def fails_in_the_second_chunk(pending):
        calls.append(len(pending))
        if len(calls) == 2:
            raise RuntimeError("the disk is full")
        return real_append(pending)

    monkeypatch.setattr(writing.ledger, "append", fails_in_the_second_chunk)
    job, stored = _start_import(marketer_client, _csv(ROWS))

    assert job.status == ImportJob.Status.FAILED and job.rows_written == 2000
    assert job.error  # said on the page, with how many rows were kept
    page = marketer_client.get(f"/transfer/import/{job.pk}/").content.decode()
    assert "2000" in page
    assert not (upload_dir() / stored).exists(), "a failed import leaves its upload on disk"
    assert Contact.objects.count() == 2000
    # Every row written is whole: its consent event and its queued privacy confirmation.
    assert ConsentEvent.objects.count() == 2000 and QueuedNotice.objects.count() == 2000
    assert verify_ledger().ok
    entry = AuditEntry.objects.get(object_type="import")
    assert "stopped early" in entry.detail and "2000 rows" in entry.detail

    monkeypatch.setattr(writing.ledger, "append", real_append)
    again, _stored = _start_import(marketer_client, _csv(ROWS))
    assert again.status == ImportJob.Status.DONE, again.error
    assert again.report["created"] == ROWS - 2000
    assert again.report["existing_unchanged"] == 2000
    assert Contact.objects.count() == ROWS and ConsentEvent.objects.count() == ROWS
    assert verify_ledger().ok and not rebuild_state(fix=False).drift


def test_the_daily_run_sweeps_leftover_uploads_but_not_a_running_import(marketer, db):
    _clear_uploads()
    folder = upload_dir()
    two_days_ago = time.time() - 2 * 86400
    abandoned = folder / ("a" * 32 + ".csv")  # uploaded, never imported
    fresh = folder / ("b" * 32 + ".csv")  # uploaded a minute ago
    running = folder / ("c" * 32 + ".xlsx")  # an import still writing
    stale = folder / ("d" * 32 + ".csv")  # its worker was killed two days ago
    other = folder / "export-keep.zip"  # not an upload
    for path in (abandoned, fresh, running, stale, other):
        path.write_text("email\nx@example.org\n")
    for path in (abandoned, running, stale, other):
        os.utime(path, (two_days_ago, two_days_ago))
    ImportJob.objects.create(
        created_by=marketer,
        file_name="now.xlsx",
        stored_name=running.name,
        purpose_key="nieuwsbrief",
        format="csv",
        status=ImportJob.Status.WRITING,
    )
    killed = ImportJob.objects.create(
        created_by=marketer,
        file_name="old.csv",
        stored_name=stale.name,
        purpose_key="nieuwsbrief",
        format="csv",
        status=ImportJob.Status.WRITING,
        rows_written=4000,
    )
    ImportJob.objects.filter(pk=killed.pk).update(
        updated_at=killed.updated_at.replace(year=killed.updated_at.year - 1)
    )

    assert run_retention(dry_run=True).report["import_uploads"] == 2
    assert abandoned.exists()
    report = run_retention().report

    assert report["import_uploads"] == 2
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [fresh.name, running.name, other.name]
    )
    killed.refresh_from_db()
    assert killed.status == ImportJob.Status.FAILED and killed.stored_name == ""
    assert killed.rows_written == 4000 and killed.error
