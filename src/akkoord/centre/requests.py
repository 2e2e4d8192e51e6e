"""Erasure requests (GDPR art. 17): carried out at once, or after staff review.

By default a confirmed request erases the person at once. When the
organisation chose review (``CentreSettings.erasure_needs_review``) the request
waits in the staff list with its one-month deadline (art. 12(3)); staff carry it
out, extend the deadline by two months with a notice to the person, or decline
it with reasons. Every path ends in ``contacts.erasure.erase_contact``.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from akkoord.centre.models import CentreSettings, ErasureRequest, RequestStatus, add_months
from akkoord.contacts.erasure import erase_contact, register_eraser
from akkoord.contacts.models import Activity, ActivityKind, Contact
from akkoord.mail.outgoing import render_mail, send_service_mail
from akkoord.organisation.models import Organisation

log = logging.getLogger(__name__)

ERASED = "erased"
PENDING = "pending"


@register_eraser
def _forget_requests(contact: Contact) -> None:
    """Keep the requests as anonymous proof of the deadline kept; drop anything personal.

    An open request is done once the person is erased, whichever way that
    happened (the centre, staff, the retention job).
    """
    requests = ErasureRequest.objects.filter(contact=contact)
    requests.filter(status__in=[RequestStatus.OPEN, RequestStatus.EXTENDED]).update(
        status=RequestStatus.DONE, handled_at=timezone.now()
    )
    requests.update(contact=None, extension_notice="", decline_reason="")


def request_erasure(contact: Contact) -> tuple[str, ErasureRequest | None]:
    """The person confirmed they want to be erased; returns ``(ERASED|PENDING, request)``."""
    if not CentreSettings.current().erasure_needs_review:
        erase_contact(contact, reason="request", via="centre")
        return ERASED, None
    with transaction.atomic():
        Contact.objects.select_for_update().filter(pk=contact.pk).first()
        existing = contact.erasure_requests.filter(
            status__in=[RequestStatus.OPEN, RequestStatus.EXTENDED]
        ).first()
        if existing is not None:
            return PENDING, existing
        request = ErasureRequest.objects.create(contact=contact)
        Activity.objects.create(
            contact=contact,
            kind=ActivityKind.REQUEST,
            actor="the person (customer centre)",
            summary="erasure requested",
            data={"request": request.pk, "deadline": request.deadline.isoformat()},
        )
    return PENDING, request


def open_request(contact: Contact) -> ErasureRequest | None:
    return contact.erasure_requests.filter(
        status__in=[RequestStatus.OPEN, RequestStatus.EXTENDED]
    ).first()


def _notify(contact: Contact, kind: str, message: str, *, archive: bool, actor: str) -> None:
    context = {
        "organisation": Organisation.current(),
        "kind": kind,
        "message": message,
        "contact_name": contact.first_name,
    }
    subject, text, html = render_mail("centre/mail/request_answer", context, contact.language)
    send_service_mail(
        to=contact.email,
        subject=subject,
        text=text,
        html=html,
        contact=contact if archive else None,
        template="centre/request_answer",
        language=contact.language,
        actor=actor,
    )


def _open_or_refuse(request: ErasureRequest) -> Contact:
    if not request.is_open or request.contact is None:
        raise ValidationError(_("This request has already been handled."))
    return request.contact


def carry_out(request: ErasureRequest, user) -> bool:
    """Erase the person and tell them it was done; False if that mail failed."""
    with transaction.atomic():
        request = ErasureRequest.objects.select_for_update().get(pk=request.pk)
        contact = _open_or_refuse(request)
        # Address and language are needed for the answer after the data is gone.
        answer_to = Contact(email=contact.email, language=contact.language, first_name="")
        request.status = RequestStatus.DONE
        request.handled_at = timezone.now()
        request.handled_by = user
        request.save()
        erase_contact(contact, reason="request", via="staff")
    try:
        _notify(answer_to, "done", "", archive=False, actor=getattr(user, "email", "staff"))
    except Exception:  # noqa: BLE001 - the erasure stands; the view tells staff
        log.warning("could not send the erasure confirmation for request %s", request.pk)
        return False
    return True


def extend(request: ErasureRequest, user, notice: str) -> ErasureRequest:
    """Extend the deadline by two months (art. 12(3)) and tell the person why."""
    notice = (notice or "").strip()
    if not notice:
        raise ValidationError({"notice": _("Tell the person why more time is needed.")})
    if len(notice) > 2000:
        raise ValidationError({"notice": _("At most 2000 characters.")})
    with transaction.atomic():
        request = ErasureRequest.objects.select_for_update().get(pk=request.pk)
        contact = _open_or_refuse(request)
        if not request.can_extend():
            raise ValidationError(
                _(
                    "The deadline can be extended only once, and only within the first month "
                    "after the request was received."
                )
            )
        request.status = RequestStatus.EXTENDED
        request.extended_until = add_months(request.deadline, 2)
        request.extension_notice = notice
        request.extension_notified_at = timezone.now()
        request.handled_by = user
        request.save()
        _notify(contact, "extended", notice, archive=True, actor=user.email)
    return request


def decline(request: ErasureRequest, user, reason: str) -> ErasureRequest:
    """Decline the request with reasons (e.g. a legal duty to keep invoices, art. 17(3))."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason; the person receives it.")})
    if len(reason) > 2000:
        raise ValidationError({"reason": _("At most 2000 characters.")})
    with transaction.atomic():
        request = ErasureRequest.objects.select_for_update().get(pk=request.pk)
        contact = _open_or_refuse(request)
        request.status = RequestStatus.DECLINED
        request.decline_reason = reason
        request.handled_at = timezone.now()
        request.handled_by = user
        request.save()
        _notify(contact, "declined", reason, archive=True, actor=user.email)
    return request
