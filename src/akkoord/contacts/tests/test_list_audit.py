"""Lists that show personal data are audited: one entry per page view, rows named by id."""

from akkoord.accounts.models import AuditAction, AuditEntry
from akkoord.contacts.services import register_contact
from akkoord.mail.models import CaughtMessage


def people(count):
    return [
        register_contact(
            {"email": f"person{i}@example.nl", "first_name": f"P{i}"},
            source_kind="staff",
            actor="t",
        )[0]
        for i in range(count)
    ]


def views_of(object_type):
    return AuditEntry.objects.filter(action=AuditAction.VIEW, object_type=object_type)


def test_the_contact_list_writes_one_entry_per_page_view(dpo_client, dpo):
    shown = people(3)
    assert dpo_client.get("/contacts/").status_code == 200
    entry = views_of("contact").get()
    assert entry.user == dpo
    assert entry.object_id == ""
    assert "3 shown" in entry.detail
    for person in shown:
        assert str(person.pk) in entry.detail.split(": ")[1].split(",")
    dpo_client.get("/contacts/?page=1")
    assert views_of("contact").count() == 2


def test_a_search_is_audited_without_the_search_term(admin_client):
    person = people(2)[1]
    response = admin_client.get("/contacts/", {"q": person.email})
    assert response.status_code == 200
    entry = views_of("contact").get()
    assert entry.detail == f"list page 1, 1 shown, filtered: {person.pk}"
    assert "example.nl" not in entry.detail and "person1" not in entry.detail


def test_a_long_page_keeps_the_entry_within_its_column(admin_client):
    people(50)
    admin_client.get("/contacts/")
    entry = views_of("contact").get()
    assert len(entry.detail) <= 300 and "50 shown" in entry.detail


def test_the_mail_catcher_list_is_audited_once_per_page_view(dpo_client, dpo):
    messages = [
        CaughtMessage.objects.create(
            mail_from="noreply@example.com",
            recipients=f"p{i}@example.nl",
            subject="Welkom",
            raw=b"Subject: Welkom\r\n\r\nHallo\r\n",
        )
        for i in range(2)
    ]
    assert dpo_client.get("/mail/").status_code == 200
    entry = views_of("caughtmessage").get()
    assert entry.user == dpo
    assert sorted(entry.detail.split(": ")[1].split(",")) == sorted(str(m.pk) for m in messages)
