"""Staff pages: segments with a count before saving, product categories, tags by hand."""

import json
import re

import pytest
from django.urls import reverse

from akkoord.contacts.models import ProductCategory
from akkoord.contacts.services import register_contact
from akkoord.segments.models import Segment

pytestmark = pytest.mark.django_db


def person(name, language):
    contact, _created = register_contact(
        {"email": f"{name.lower()}@example.org", "first_name": name, "language": language},
        source_kind="staff",
        actor="test",
    )
    return contact


ENGLISH = {"match": "all", "conditions": [{"field": "language", "op": "equals", "value": "en"}]}


def test_the_count_button_counts_without_saving(marketer_client):
    person("Anna", "en"), person("Bram", "nl")
    response = marketer_client.post(
        reverse("segments:create"),
        {"name": "English", "definition": json.dumps(ENGLISH), "count": "1"},
    )
    assert response.status_code == 200
    # Whatever the page's language: the status line holds the number.
    status = re.search(r'<p id="segment-count"[^>]*>([^<]*)</p>', response.content.decode())
    assert re.match(r"1 contact(en)? \w+ aan|1 contact meets", status.group(1).strip())
    assert not Segment.objects.exists()


def test_saving_keeps_the_definition_and_a_bad_one_keeps_the_text(marketer_client):
    response = marketer_client.post(
        reverse("segments:create"), {"name": "English", "definition": json.dumps(ENGLISH)}
    )
    assert response.status_code == 302
    assert Segment.objects.get().definition == ENGLISH
    bad = '{"match": "all", "conditions": [{"field": "shoe_size"}]}'
    response = marketer_client.post(reverse("segments:create"), {"name": "Bad", "definition": bad})
    page = response.content.decode()
    assert response.status_code == 200 and 'class="errorlist"' in page
    assert "shoe_size" in page and Segment.objects.count() == 1


def test_the_live_count_answers_json_and_explains_errors(marketer_client):
    person("Anna", "en")
    url = reverse("segments:count")
    ok = marketer_client.post(url, json.dumps(ENGLISH), content_type="application/json")
    assert ok.json() == {"count": 1}
    bad = marketer_client.post(url, "{not json", content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]


def test_similarity_is_kept_both_ways(marketer_client):
    bikes = ProductCategory.objects.create(key="bicycles", name_nl="Fietsen", name_en="Bicycles")
    response = marketer_client.post(
        reverse("segments:category_create"),
        {"key": "ebikes", "name_nl": "E-bikes", "name_en": "E-bikes", "similar_to": [bikes.pk]},
    )
    assert response.status_code == 302
    assert list(bikes.similar_to.values_list("key", flat=True)) == ["ebikes"]


def test_tags_set_by_hand_go_on_the_timeline_and_the_dpo_cannot_set_them(
    marketer_client, dpo_client
):
    anna = person("Anna", "en")
    url = reverse("segments:contact_tags", args=[anna.pk])
    assert dpo_client.post(url, {"tags": "vip"}).status_code in (302, 403)
    assert not anna.tags.exists()
    marketer_client.post(url, {"tags": "vip, fair-2026, vip"})
    assert sorted(anna.tags.values_list("name", flat=True)) == ["fair-2026", "vip"]
    assert anna.activities.filter(summary="tags changed").exists()
    page = marketer_client.get(reverse("contacts:detail", args=[anna.pk])).content.decode()
    assert "fair-2026" in page
