"""The privacy officer sees the requests that were carried out, with no personal data.

Expected rows come from what the people did through the customer centre, not
from the code under test: a downloaded copy is a request for access (art. 15/20),
a correction is rectification (art. 16), an erasure carried out at once is
erasure (art. 17). Erasures for retention are no one's request and are not listed.
"""

import re

import pytest
from django.urls import reverse

from akkoord.centre.links import centre_token
from akkoord.centre.models import CentreSettings
from akkoord.contacts.erasure import erase_contact
from akkoord.contacts.services import register_contact

pytestmark = pytest.mark.django_db


def _person(email, first_name):
    contact, _ = register_contact(
        {"email": email, "first_name": first_name, "last_name": "Zwanenburg"},
        source_kind="form",
        source_detail="website",
    )
    return contact


def _rows(page: str) -> list[tuple[str, str]]:
    """(kind, channel) of each row in the carried-out list."""
    table = page.split('id="carried-out-list"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>([^<]*)</td><td>[^<]*</td><td>([^<]*)</td></tr>", table)
    return sorted(rows)


def test_requests_carried_out_in_the_centre_are_listed_without_the_person(client, dpo_client):
    settings = CentreSettings.current()
    settings.erasure_needs_review = False
    settings.save()
    jacoba, pieter, kept = (
        _person("jacoba@voorbeeld.nl", "Jacoba"),
        _person("pieter@voorbeeld.nl", "Pieter"),
        _person("kees@voorbeeld.nl", "Kees"),
    )
    token = centre_token(jacoba)
    client.post(reverse("centre:download", args=[token, "csv"]))
    client.post(
        reverse("centre:correct", args=[token]),
        {"first_name": "Jacoba", "last_name": "Zwanenburg-Bakker", "language": "nl"},
    )
    client.post(reverse("centre:erase", args=[centre_token(pieter)]), {"confirm": "yes"})
    erase_contact(kept, reason="retention", via="retention")  # not a person's request

    page = dpo_client.get(reverse("centre:requests"), HTTP_ACCEPT_LANGUAGE="nl").content.decode()

    assert _rows(page) == [
        ("Correctie", "Klantcentrum"),
        ("Kopie van eigen gegevens", "Klantcentrum"),
        ("Verwijdering", "Klantcentrum"),
    ]
    assert "Verwijdering: <strong>1</strong>" in page
    listed = page.split('id="carried-out"', 1)[1]
    for personal in ("Jacoba", "Pieter", "Zwanenburg", "voorbeeld.nl"):
        assert personal not in listed
