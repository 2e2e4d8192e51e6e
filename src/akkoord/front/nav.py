"""The staff navigation: one list, each entry shown when its page exists."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# (url name, label, roles that see it; None = everyone signed in)
NAV = [
    ("front:dashboard", _("Dashboard"), None),
    ("contacts:list", _("Contacts"), None),
    ("signup:list", _("Sign-up forms"), None),
    ("campaigns:list", _("Campaigns"), None),
    ("deliverability:index", _("Deliverability"), None),
    ("segments:list", _("Segments"), None),
    ("centre:requests", _("Requests"), None),
    ("accountability:index", _("Accountability"), None),
    ("transfer:index", _("Import and export"), None),
    ("mail:catcher", _("Mail catcher"), None),
    ("front:settings", _("Settings"), None),
]


def nav_items(request) -> list[dict]:
    items = []
    for name, label, roles in NAV:
        if roles is not None and getattr(request.user, "role", None) not in roles:
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        items.append(
            {
                "url": url,
                "label": label,
                "active": request.path.startswith(url) and url != "/" or request.path == url,
            }
        )
    return items
