import pyzipper
from django.core.files.uploadedfile import SimpleUploadedFile

from akkoord.accounts.models import AuditEntry
from akkoord.contacts.models import Contact
from akkoord.transfer.models import ImportJob
from akkoord.transfer.uploads import upload_dir

CSV = (
    b"Email Address,First Name,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,LEID\n"
    b"w1@example.com,Wim,2024-01-01 10:00:00,192.0.2.9,2024-01-01 10:05:00,192.0.2.9,1\n"
    b"broken,Wam,,,,,2\n"
)


def test_transfer_pages_need_sign_in(client, db):
    assert client.get("/transfer/").status_code == 302
    assert client.get("/transfer/import/").status_code == 302


def test_dpo_cannot_import_or_export(dpo_client):
    assert dpo_client.get("/transfer/").status_code == 200
    assert dpo_client.get("/transfer/import/").status_code == 403
    assert dpo_client.get("/transfer/export/").status_code == 403


MAPPING = {
    "map-0": "email",
    "map-1": "first_name",
    "map-2": "optin_time",
    "map-3": "optin_ip",
    "map-4": "confirm_time",
    "map-5": "confirm_ip",
    "map-6": "ignore",
}


def _upload(client, content=CSV, name="audience.csv"):
    response = client.post(
        "/transfer/import/",
        {
            "file": SimpleUploadedFile(name, content, "text/csv"),
            "purpose": "nieuwsbrief",
            "format": "auto",
            "encoding": "utf-8",
        },
    )
    assert response.status_code == 302, response.content
    return client.session["transfer_upload"]["stored"]


def _uploads() -> list[str]:
    return sorted(
        path.name for path in upload_dir().iterdir() if not path.name.startswith("export")
    )


def test_upload_preview_check_and_import(marketer_client, newsletter):
    for leftover in upload_dir().iterdir():
        leftover.unlink()
    stored = _upload(marketer_client)
    page = marketer_client.get("/transfer/import/preview/").content.decode()
    assert "mailchimp" in page and "w1@example.com" in page and "broken" in page

    # The check runs as a job; the page answers with its report, nothing kept,
    # and the upload stays for the real import.
    check = marketer_client.post(
        "/transfer/import/preview/", {**MAPPING, "action": "check"}, follow=True
    )
    report = check.context["report"]
    assert report["dry_run"] and not report["committed"]
    assert {p["row"] for p in report["problems"]} == {3}
    assert _uploads() == [stored] and Contact.objects.count() == 0

    refused = marketer_client.post(
        "/transfer/import/preview/", {**MAPPING, "action": "import"}, follow=True
    )
    assert refused.context["job"].status == ImportJob.Status.REFUSED
    assert {p["row"] for p in refused.context["report"]["problems"]} == {3}
    assert Contact.objects.count() == 0
    assert _uploads() == [], "a refused import leaves its upload on disk"
    assert b"Upload the file again" in refused.content or b"opnieuw" in refused.content

    _upload(marketer_client)
    done = marketer_client.post(
        "/transfer/import/preview/",
        {**MAPPING, "action": "import", "valid_only": "on"},
        follow=True,
    )
    assert done.status_code == 200
    job = done.context["job"]
    assert job.status == ImportJob.Status.DONE and job.rows_written == 1
    assert Contact.objects.get().email == "w1@example.com"
    entry = AuditEntry.objects.get(object_type="import")
    assert entry.object_id == str(job.pk) and "1 new contacts" in entry.detail
    assert _uploads() == []


def test_the_progress_page_reloads_itself_until_the_import_ends(marketer_client, marketer):
    job = ImportJob.objects.create(
        created_by=marketer,
        file_name="big.csv",
        purpose_key="nieuwsbrief",
        format="csv",
        status=ImportJob.Status.WRITING,
        rows_checked=150_000,
        rows_to_write=150_000,
        rows_written=30_000,
    )
    page = marketer_client.get(f"/transfer/import/{job.pk}/").content.decode()
    assert '<meta http-equiv="refresh"' in page
    assert 'value="60"' in page and "30000 / 150000" in page
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.DONE, report={})
    page = marketer_client.get(f"/transfer/import/{job.pk}/").content.decode()
    assert '<meta http-equiv="refresh"' not in page


def test_export_download_is_encrypted_and_audited(admin_client, contact):
    response = admin_client.post("/transfer/export/", {"password": "short"})
    assert response.status_code == 200 and b"errorlist" in response.content
    response = admin_client.post("/transfer/export/", {"password": "twelve chars long"})
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    import io

    with pyzipper.AESZipFile(io.BytesIO(data)) as zf:
        zf.setpassword(b"twelve chars long")
        assert b"jan.jansen@example.nl" in zf.read("contacts.csv")
    assert AuditEntry.objects.filter(action="export", user__email="alice@example.com").exists()


def test_api_key_pages_are_for_administrators(admin_client, marketer_client):
    from akkoord.api.models import ApiKey

    assert marketer_client.get("/api/keys/").status_code == 403
    response = admin_client.post("/api/keys/", {"name": "Shop", "scopes": ["contacts:read"]})
    key = ApiKey.objects.get()
    token = response.context["token"]
    assert token.startswith("ak_") and ApiKey.authenticate(token) == key
    assert token not in admin_client.get("/api/keys/").content.decode()
    admin_client.post(f"/api/keys/{key.pk}/revoke/")
    assert ApiKey.authenticate(token) is None
