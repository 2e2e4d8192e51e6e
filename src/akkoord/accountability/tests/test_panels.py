"""The dashboard: DPO advice above the threshold, flagged processors, breaches."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from akkoord.accountability.models import Breach, Processor
from akkoord.accountability.panels import dashboard_panel, dpo_advice
from akkoord.contacts.models import Contact

pytestmark = pytest.mark.urls("akkoord.accountability.tests.urls")


def _contacts(start, n):
    # Plain rows: only the count matters here.
    Contact.objects.bulk_create(
        Contact(email=f"c{i}@example.nl", email_hash=f"h{i}", source_kind="staff")
        for i in range(start, start + n)
    )


def test_dpo_advice_appears_above_the_threshold(organisation):
    organisation.dpo_advice_threshold = 2
    organisation.save()
    _contacts(0, 2)
    assert dpo_advice() is None
    _contacts(2, 1)
    advice = dpo_advice()
    assert advice == {"count": 3, "threshold": 2, "appointed": False}
    template, context = dashboard_panel(RequestFactory().get("/"))
    html = render_to_string(template, context)
    assert "functionaris gegevensbescherming" in html
    assert "more than 2" in html or "meer dan 2" in html


def test_flagged_processor_and_breach_show_on_the_dashboard(organisation):
    Processor.objects.create(name="Wolkmail", service_nl="x", service_en="x", country="US")
    Breach.objects.create(title="Lost laptop", nature="x")
    template, context = dashboard_panel(RequestFactory().get("/"))
    assert [p.name for p in context["flagged"]] == ["Wolkmail"]
    assert context["open_breaches"][0][0].title == "Lost laptop"


def test_the_panel_is_registered_on_the_dashboard():
    from akkoord.lib.panels import dashboard

    assert dashboard_panel in dashboard._panels
