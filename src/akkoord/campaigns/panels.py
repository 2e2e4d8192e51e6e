"""What campaigns add to other pages: the contact page section; erasure."""

from akkoord.campaigns.deliveries import explain_delivery
from akkoord.campaigns.models import Delivery


def contact_deliveries(request, contact):
    """Every campaign this person was in, with the basis used: "why did they get this?"."""
    deliveries = (
        Delivery.objects.filter(contact=contact).select_related("campaign").order_by("-id")[:50]
    )
    rows = [(delivery, explain_delivery(delivery)) for delivery in deliveries]
    return "campaigns/contact_section.html", {"rows": rows, "contact": contact}


def erase_delivery_details(contact) -> None:
    """Server replies may quote the address: clear them before the row loses its contact."""
    Delivery.objects.filter(contact=contact).update(smtp_reply="", message_id="")
