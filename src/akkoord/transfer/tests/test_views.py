import pyzipper
from django.core.files.uploadedfile import SimpleUploadedFile

from akkoord.accounts.models import AuditEntry
from akkoord.contacts.models import Contact

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


def test_upload_preview_check_and_import(marketer_client, newsletter):
    response = marketer_client.post(
        "/transfer/import/",
        {
            "file": SimpleUploadedFile("audience.csv", CSV, "text/csv"),
            "purpose": "nieuwsbrief",
            "format": "auto",
            "encoding": "utf-8",
        },
    )
    assert response.status_code == 302, response.content
    page = marketer_client.get("/transfer/import/preview/").content.decode()
    assert "mailchimp" in page and "w1@example.com" in page and "broken" in page

    mapping = {
        "map-0": "email",
        "map-1": "first_name",
        "map-2": "optin_time",
        "map-3": "optin_ip",
        "map-4": "confirm_time",
        "map-5": "confirm_ip",
        "map-6": "ignore",
    }
    report = marketer_client.post("/transfer/import/preview/", {**mapping, "action": "import"})
    assert report.context["report"].committed is False
    assert {p.row for p in report.context["report"].problems} == {3}
    assert Contact.objects.count() == 0

    report = marketer_client.post(
        "/transfer/import/preview/", {**mapping, "action": "import", "valid_only": "on"}
    )
    assert report.status_code == 200
    assert Contact.objects.get().email == "w1@example.com"
    assert AuditEntry.objects.filter(object_type="import").exists()


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
