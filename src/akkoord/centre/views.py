"""The customer centre's public pages: reached by a signed link, no account.

Every page under ``/centre/<token>/`` reads the person from the token on each
request and keeps nothing in the session: the centre stores no personal data
outside the contact's own rows. GET never changes anything (mail scanners follow
links); every change is a POST with its own button, and each choice takes one
click. Invalid links (tampered, expired, of another kind, of an erased person)
all get the same answer.
"""

from __future__ import annotations

import json
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from akkoord.centre import choices, data, requests
from akkoord.centre.links import contact_for_centre_token, link_age
from akkoord.centre.tasks import send_centre_link
from akkoord.consent import words
from akkoord.consent.ledger import current_consent
from akkoord.consent.models import Purpose
from akkoord.contacts.emails import email_hash, normalise_email
from akkoord.contacts.models import Activity, ActivityKind, ContactField
from akkoord.contacts.services import field_values, update_contact
from akkoord.lib import ratelimit, tokens
from akkoord.lib.text import has_control_characters, without_control_characters
from akkoord.organisation.models import Organisation

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "export.schema.json"

# "Send me a new link": per client address and per e-mail address (both hashed).
LINK_LIMIT_PER_IP = (10, 3600)
LINK_LIMIT_PER_ADDRESS = (3, 3600)

DONE_MESSAGES = {
    "subscribed": gettext_lazy("You are subscribed."),
    "unsubscribed": gettext_lazy("You are unsubscribed. This takes effect immediately."),
    "withdrawn": gettext_lazy("All your consents are withdrawn. This takes effect immediately."),
    "objected": gettext_lazy(
        "You objected to all direct marketing. This takes effect immediately."
    ),
    "objection_lifted": gettext_lazy(
        "Your objection to direct marketing is lifted. Subscriptions you still have count "
        "again; offers based only on your purchases will not return."
    ),
    "corrected": gettext_lazy("Your changes are saved."),
    "nothing": gettext_lazy("Nothing changed."),
    "requested": gettext_lazy("Your erasure request was received."),
}


def _private(response):
    """A centre page holds personal data: never cached, its address never sent elsewhere.

    "same-origin" rather than "no-referrer": with no referrer at all, browsers
    send ``Origin: null`` on form posts, which the CSRF check (rightly) refuses.
    """
    response["Cache-Control"] = "no-store, private"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _page(request, template: str, context: dict, status: int = 200):
    context = {"organisation": Organisation.current(), **context}
    return _private(render(request, template, context, status=status))


def _invalid_link(request):
    """One answer for every link that does not work, whatever the reason."""
    return _page(request, "centre/invalid_link.html", {}, status=404)


def with_person(view):
    """Resolve the token into the contact, in the person's language unless they chose one."""

    @wraps(view)
    def wrapper(request, token, *args, **kwargs):
        try:
            contact = contact_for_centre_token(token)
        except tokens.InvalidToken:
            return _invalid_link(request)
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            translation.activate(contact.language)
            request.LANGUAGE_CODE = contact.language
        return view(request, token, contact, *args, **kwargs)

    return wrapper


def _posted(request, name: str, limit: int = 100) -> str:
    """A short posted choice; control characters (a NUL, say) make it no choice at all."""
    value = request.POST.get(name, "")
    return "" if has_control_characters(value) or len(value) > limit else value


def _visit(request) -> choices.Visit:
    return choices.Visit(
        ip=ratelimit.client_ip(request),
        # Goes into the consent proof: PostgreSQL cannot store a NUL in JSON.
        user_agent=without_control_characters(request.META.get("HTTP_USER_AGENT", ""))[:500],
        language=(translation.get_language() or "nl")[:2],
    )


def _home(token: str, done: str = "", anchor: str = "") -> str:
    url = reverse("centre:home", args=[token])
    if done:
        url += f"?done={done}"
    return url + (f"#{anchor}" if anchor else "")


# --- asking for a link ------------------------------------------------------


@require_http_methods(["GET", "POST"])
def request_link(request):
    """Ask for a fresh link. The answer never says whether the address is known."""
    error = ""
    if request.method == "POST":
        if not ratelimit.hit(
            "centre-link-ip",
            ratelimit.client_ip(request),
            limit=LINK_LIMIT_PER_IP[0],
            window=LINK_LIMIT_PER_IP[1],
        ):
            return _page(
                request,
                "centre/request_link.html",
                {"limited": True, "days": link_age().days},
                status=429,
            )
        try:
            address = normalise_email(request.POST.get("email", ""))
        except ValidationError:
            error = _("Enter a valid e-mail address, like name@example.nl.")
        else:
            address_hash = email_hash(address)
            # Over the per-address limit the answer is the same, but no mail
            # goes out: nobody can flood someone else's mailbox with links.
            if ratelimit.hit(
                "centre-link-address",
                address_hash,
                limit=LINK_LIMIT_PER_ADDRESS[0],
                window=LINK_LIMIT_PER_ADDRESS[1],
            ):
                send_centre_link.enqueue(address_hash)
            return redirect(reverse("centre:request_link") + "?sent=1")
    return _page(
        request,
        "centre/request_link.html",
        {
            "sent": request.GET.get("sent") == "1",
            "error": error,
            "value": request.POST.get("email", "")[:254] if error else "",
            "days": link_age().days,
        },
        status=400 if error else 200,
    )


@require_GET
def schema(request):
    """The published JSON Schema of the download (GDPR art. 20)."""
    response = FileResponse(SCHEMA_PATH.open("rb"), content_type="application/schema+json")
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def erased(request):
    return _page(request, "centre/erased.html", {"pending": False})


# --- the centre ---------------------------------------------------------------


@require_GET
@with_person
def home(request, token, contact):
    """See everything (art. 15) and choose (art. 7(3), 21)."""
    person = data.person_data(contact)
    states = {c["purpose"]["key"]: c for c in person["consents"]}
    purposes = choices.choosable_purposes(contact)
    language = (translation.get_language() or "nl")[:2]
    blocked_since = choices.blocking_since(contact)
    choice_rows = []
    for purpose in purposes:
        entry = states.get(purpose.key, {"status": "none"})
        # Under an objection or after a complaint, only a consent given anew counts.
        counts = entry["status"] == "granted" and (
            blocked_since is None
            or current_consent(contact, purpose).double_opted_in_after(blocked_since)
        )
        choice_rows.append(
            {
                "purpose": purpose,
                "name": purpose.name(language),
                "text": purpose.consent_text(language),
                "status": entry["status"],
                "status_label": data.STATUS_LABELS.get(entry["status"], entry["status"]),
                "can_subscribe": not counts,
                "can_unsubscribe": entry["status"] in ("granted", "pending", "unproven")
                or (entry["status"] == "none" and contact.is_customer),
            }
        )
    for consent in person["consents"]:
        consent["status_label"] = data.STATUS_LABELS.get(consent["status"], consent["status"])
        for event in consent["history"]:
            _label_event(event)
    for event in person["objections"]:
        _label_event(event)
    for item in person["activities"]:
        for change in item["changes"]:
            change["label"] = words.field_names([change["field"]])
    done = request.GET.get("done", "")
    return _page(
        request,
        "centre/home.html",
        {
            "token": token,
            "contact": contact,
            "person": person,
            "choices": choice_rows,
            "done": DONE_MESSAGES.get(done, ""),
            "open_request": requests.open_request(contact),
            "privacy_url": choices.privacy_statement()[1],
            "editable": _editable_fields(contact),
        },
    )


def _label_event(event: dict) -> None:
    event["label"] = words.event_label(event["kind"])
    event["proof_items"] = words.proof_items(event["proof"], to_person=True)


@require_POST
@with_person
def choose(request, token, contact):
    """One click per choice; effective at once."""
    action = _posted(request, "action")
    visit = _visit(request)
    if action in ("subscribe", "unsubscribe"):
        key = _posted(request, "purpose")
        purpose = Purpose.objects.filter(key=key, is_active=True).first() if key else None
        if purpose is None:
            return _page(
                request,
                "centre/error.html",
                {"token": token, "message": _("This subscription does not exist (any more).")},
                status=400,
            )
        if action == "subscribe":
            done = "subscribed" if choices.subscribe(contact, purpose, visit) else "nothing"
        else:
            done = "unsubscribed" if choices.unsubscribe(contact, purpose, visit) else "nothing"
    elif action == "withdraw_all":
        choices.withdraw_all(contact, visit)
        done = "withdrawn"
    elif action == "object":
        choices.object_to_marketing(contact, visit)
        done = "objected"
    elif action == "lift_objection":
        done = "objection_lifted" if choices.lift_objection(contact, visit) else "nothing"
    else:
        return _page(
            request,
            "centre/error.html",
            {"token": token, "message": _("Unknown choice.")},
            status=400,
        )
    return redirect(_home(token, done, "choices"))


# --- correcting (art. 16) -------------------------------------------------------


def _editable_fields(contact) -> list[dict]:
    """The data held about the person that they may correct (or clear)."""
    language = (translation.get_language() or "nl")[:2]
    current = field_values(contact)
    rows = [
        {"name": "first_name", "label": _("First name"), "value": contact.first_name, "max": 100},
        {"name": "last_name", "label": _("Last name"), "value": contact.last_name, "max": 150},
        {
            "name": "organisation_name",
            "label": _("Organisation"),
            "value": contact.organisation_name,
            "max": 200,
        },
    ]
    for field in ContactField.objects.filter(is_active=True, editable_by_contact=True):
        rows.append(
            {
                "name": f"field_{field.key}",
                "key": field.key,
                "label": field.label(language),
                "value": current.get(field.key, ""),
                "max": field.max_length,
                "kind": field.kind,
            }
        )
    # Correcting is about the data held: a field with no value for this person
    # is not offered, so the page never invites them to hand over data the
    # organisation did not ask them for (data minimisation).
    return [row for row in rows if row["value"]]


@require_http_methods(["GET", "POST"])
@with_person
def correct(request, token, contact):
    rows = _editable_fields(contact)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        payload: dict = {}
        fields: dict = {}
        for row in rows:
            value = request.POST.get(row["name"], "")
            row["value"] = value
            if "key" in row:
                fields[row["key"]] = value
            else:
                payload[row["name"]] = value
        language = request.POST.get("language", contact.language)
        payload["language"] = language
        if fields:
            payload["fields"] = fields
        try:
            changes = update_contact(contact, payload, actor=choices.ACTOR, via="centre")
        except ValidationError as error:
            errors = error.message_dict
        else:
            if "language" in changes:
                translation.activate(contact.language)
            return redirect(_home(token, "corrected" if changes else "nothing", "data"))
    for row in rows:
        key = f"fields.{row['key']}" if "key" in row else row["name"]
        row["errors"] = errors.get(key, [])
    return _page(
        request,
        "centre/correct.html",
        {
            "token": token,
            "contact": contact,
            "rows": rows,
            "errors": errors,
            "language_errors": errors.get("language", []),
        },
        status=400 if errors else 200,
    )


# --- taking away (art. 20) ------------------------------------------------------


def _record_export(contact, file_format: str) -> None:
    Activity.objects.create(
        contact=contact,
        kind=ActivityKind.EXPORT,
        actor=choices.ACTOR,
        summary=f"downloaded own data ({file_format})",
        data={"via": "centre", "format": file_format},
    )


def _filename(extension: str) -> str:
    return f"my-data-{timezone.localdate().isoformat()}.{extension}"


@require_POST
@with_person
def download(request, token, contact, file_format):
    """Generated on request, never stored."""
    if file_format not in ("json", "csv"):
        raise Http404
    person = data.person_data(contact)
    _record_export(contact, file_format)
    if file_format == "json":
        response = JsonResponse(person, json_dumps_params={"indent": 2, "ensure_ascii": False})
    else:
        response = HttpResponse(
            "\ufeff" + data.export_csv(person), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="{_filename(file_format)}"'
    return _private(response)


# --- erasing (art. 17) ------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@with_person
def erase(request, token, contact):
    """A confirmation step, then erasure (at once, or a request for staff review)."""
    open_request = requests.open_request(contact)
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            return _page(
                request,
                "centre/erase_confirm.html",
                {
                    "token": token,
                    "contact": contact,
                    "open_request": open_request,
                    "error": _("Tick the box to confirm that you want your data erased."),
                },
                status=400,
            )
        outcome, erasure_request = requests.request_erasure(contact)
        if outcome == requests.ERASED:
            return redirect("centre:erased")
        return _page(
            request,
            "centre/erased.html",
            {"pending": True, "request": erasure_request, "token": token},
        )
    return _page(
        request,
        "centre/erase_confirm.html",
        {"token": token, "contact": contact, "open_request": open_request},
    )


def load_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
