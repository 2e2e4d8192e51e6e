"""This app's pieces of other apps' pages: the dashboard panel."""

from akkoord.deliverability import results


def dashboard_panel(request):
    """Results per sending domain, with warnings; nothing before the first campaign."""
    domains = results.per_domain()
    if not domains:
        return None
    return "deliverability/dashboard_panel.html", {"domains": domains}


def contact_reports(request, contact):
    """The person's bounces and complaints, each linking to its report (none: no section)."""
    from akkoord.deliverability.models import DeliveryReport

    reports = list(DeliveryReport.objects.filter(contact=contact).select_related("campaign")[:50])
    if not reports:
        return None
    return "deliverability/contact_section.html", {"reports": reports}
