import jsonschema_rs

from akkoord.accounts.models import AuditEntry
from akkoord.api.models import ApiKey, Scope
from akkoord.consent.models import ConsentEvent, ConsentProof, Suppression
from akkoord.contacts.models import Contact


def test_calls_without_a_valid_key_are_refused_with_a_structured_error(client, db):
    response = client.get("/api/v1/contacts")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    response = client.get("/api/v1/contacts", headers={"Authorization": "Bearer ak_x_y"})
    assert response.status_code == 401


def test_revoked_key_stops_working(api, api_token):
    assert api.get("/api/v1/purposes").status_code == 200
    ApiKey.objects.get().revoke()
    assert api.get("/api/v1/purposes").status_code == 401


def test_key_is_stored_hashed(api_token):
    key = ApiKey.objects.get()
    assert api_token.split("_", 2)[2] not in key.secret_hash
    assert ApiKey.authenticate(api_token) == key
    assert ApiKey.authenticate(api_token + "x") is None


def test_scope_is_enforced(client, db):
    _key, token = ApiKey.issue("reader", [Scope.CONTACTS_READ])
    response = client.post(
        "/api/v1/contacts",
        {"email": "a@example.com"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403
    assert "contacts:write" in response.json()["error"]["message"]


def test_create_search_update_contact_and_every_call_is_audited(api):
    response = api.post(
        "/api/v1/contacts",
        {"email": "Piet@Example.com", "first_name": "Piet"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["email"] == "piet@example.com"
    contact = Contact.objects.get(pk=created["id"])
    assert (contact.source_kind, contact.source_detail) == ("api", "webshop")

    page = api.get("/api/v1/contacts", {"q": "piet"}).json()
    assert page["count"] == 1 and page["items"][0]["id"] == contact.pk
    assert api.get("/api/v1/contacts", {"q": "nobody"}).json()["count"] == 0

    response = api.patch(
        f"/api/v1/contacts/{contact.pk}", {"last_name": "Puk"}, content_type="application/json"
    )
    assert response.json()["last_name"] == "Puk"
    assert AuditEntry.objects.filter(actor="api:webshop").count() == 4


def test_invalid_input_is_explained_by_field(api):
    response = api.post(
        "/api/v1/contacts", {"email": "not an address"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert "email" in response.json()["error"]["fields"]
    response = api.post("/api/v1/contacts", {"first_name": "x"}, content_type="application/json")
    assert response.status_code == 422
    assert "email" in response.json()["error"]["fields"]
    assert Contact.objects.count() == 0


def test_pagination(api):
    for n in range(5):
        api.post(
            "/api/v1/contacts", {"email": f"p{n}@example.com"}, content_type="application/json"
        )
    page = api.get("/api/v1/contacts", {"page_size": 2, "page": 2}).json()
    assert page["count"] == 5 and len(page["items"]) == 2 and page["next_page"] == 3
    assert api.get("/api/v1/contacts", {"page_size": 2, "page": 3}).json()["next_page"] is None


def test_filters_by_address_source_and_customer(api, contact):
    api.post("/api/v1/contacts", {"email": "shop@example.com"}, content_type="application/json")
    api.post(
        f"/api/v1/contacts/{contact.pk}/purchases",
        {"purchased_on": "2026-11-01", "description": "Bel", "objection_offered": True},
        content_type="application/json",
    )

    def emails(**query):
        page = api.get("/api/v1/contacts", query)
        assert page.status_code == 200, page.content
        return {item["email"] for item in page.json()["items"]}

    assert emails() == {"shop@example.com", contact.email}
    assert emails(email="SHOP@example.com") == {"shop@example.com"}
    assert emails(source_kind="api") == {"shop@example.com"}
    assert emails(source_kind=contact.source_kind) == {contact.email}
    assert emails(customer="true") == {contact.email}
    assert emails(customer="false") == {"shop@example.com"}
    bad = api.get("/api/v1/contacts", {"page_size": 501})
    assert bad.status_code == 422 and "page_size" in str(bad.json()["error"])


def test_consent_with_proof_and_may_mail(api, contact, newsletter):
    url = f"/api/v1/contacts/{contact.pk}/consents"
    response = api.post(
        url, {"purpose": "nieuwsbrief", "kind": "granted"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert "proof.text_shown" in response.json()["error"]["fields"]

    body = {
        "purpose": "nieuwsbrief",
        "kind": "granted",
        "proof": {"text_shown": newsletter.consent_text_nl, "ip": "192.0.2.1"},
    }
    response = api.post(url, body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["needs_confirmation"] is True
    check = api.get(f"/api/v1/contacts/{contact.pk}/may-mail", {"purpose": "nieuwsbrief"}).json()
    assert check["allowed"] is False and check["reason"] == "pending_confirmation"
    assert check["explanation"]

    response = api.post(
        url, {"purpose": "nieuwsbrief", "kind": "confirmed"}, content_type="application/json"
    )
    assert response.status_code == 201
    check = api.get(f"/api/v1/contacts/{contact.pk}/may-mail", {"purpose": "nieuwsbrief"}).json()
    assert check["allowed"] is True and check["basis"] == "consent"

    history = api.get(url).json()
    assert [e["kind"] for e in history["events"]] == ["granted", "confirmed"]
    assert history["events"][0]["proof"]["ip"] == "192.0.2.1"
    assert (
        ConsentProof.objects.get(event__seq=history["events"][0]["seq"]).data["api_key"]
        == "webshop"
    )


def test_purchase_founds_customer_relationship(api, contact, product_updates):
    response = api.post(
        f"/api/v1/contacts/{contact.pk}/purchases",
        {"purchased_on": "2026-11-01", "description": "Fiets", "objection_offered": True},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    check = api.get(
        f"/api/v1/contacts/{contact.pk}/may-mail",
        {"purpose": "productupdates", "mail_class": "marketing_similar", "audience": "customers"},
    ).json()
    assert check["allowed"] is True and check["basis"] == "customer"


def test_export_and_erase(api, contact):
    # The API gives the person's data in the same published schema as the
    # customer centre's download (one export, not two with different contents).
    from akkoord.centre.views import load_schema
    from akkoord.mail.outgoing import send_service_mail

    send_service_mail(to=contact.email, subject="Bevestiging", text="Hallo", contact=contact)
    data = api.get(f"/api/v1/contacts/{contact.pk}/export").json()
    jsonschema_rs.validator_for(load_schema()).validate(data)
    assert data["person"]["email"] == contact.email
    assert data["controller"]["name"] and data["source"]
    assert [mail["subject"] for mail in data["mails"]] == ["Bevestiging"]
    assert AuditEntry.objects.filter(actor="api:webshop", action="export").exists()
    assert contact.activities.filter(kind="export", data__via="api").exists()
    response = api.post(f"/api/v1/contacts/{contact.pk}/erase")
    assert response.json() == {"erased": True}
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert Suppression.objects.filter(email_hash=contact.email_hash).exists()
    assert api.get(f"/api/v1/contacts/{contact.pk}").status_code == 404


def test_unknown_contact_is_404(api):
    response = api.get("/api/v1/contacts/999999")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert ConsentEvent.objects.count() == 0


def test_openapi_document_and_docs_page_load_no_third_party_assets(client, db):
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/contacts/{contact_id}/may-mail" in spec["paths"]
    page = client.get("/api/v1/docs/").content.decode()
    assert "/static/api/docs.js" in page
    assert "http://" not in page.replace("http://testserver", "") and "https://" not in page
    assert "<script>" not in page
