"""What the privacy confirmation adds to the dashboard and the contact page."""

from django.urls import NoReverseMatch, reverse

from akkoord.notices.services import inform_deadline, uninformed


def _contact_url(contact) -> str:
    try:
        return reverse("contacts:detail", args=[contact.pk])
    except NoReverseMatch:
        return reverse("notices:send", args=[contact.pk])


def uninformed_panel(request):
    total, rows = uninformed(limit=10)
    for row in rows:
        row["url"] = _contact_url(row["contact"])
    return "notices/dashboard_panel.html", {"uninformed_total": total, "uninformed_rows": rows}


def contact_notice(request, contact):
    user = getattr(request, "user", None)
    return "notices/contact_section.html", {
        "contact": contact,
        "deadline": inform_deadline(contact),
        "may_send": bool(getattr(user, "can_change_data", False)),
        "send_url": reverse("notices:send", args=[contact.pk]),
    }
