"""Background work of the customer centre."""

from __future__ import annotations

from django_tasks import task

from akkoord.centre.links import centre_url, link_age
from akkoord.contacts.models import Contact
from akkoord.mail.outgoing import render_mail, send_service_mail
from akkoord.organisation.models import Organisation


@task()
def send_centre_link(address_hash: str) -> None:
    """Mail a fresh centre link to the contact with this keyed address hash, if any.

    The page that asks for a link enqueues this for every well-formed address,
    known or not, and the task carries only the keyed hash: the page answers
    alike and equally fast either way, and the task queue holds no address.
    """
    contact = Contact.objects.filter(email_hash=address_hash).first()
    if contact is None:
        return
    context = {
        "organisation": Organisation.current(),
        "url": centre_url(contact),
        "days": link_age().days,
        "contact_name": contact.first_name,
    }
    subject, text, html = render_mail("centre/mail/new_link", context, contact.language)
    send_service_mail(
        to=contact.email,
        subject=subject,
        text=text,
        html=html,
        contact=contact,
        template="centre/new_link",
        language=contact.language,
        actor="customer centre",
    )
