"""REST API version 1 (``/api/v1/``), described by ``/api/v1/openapi.json``.

Every call needs an API key (``Authorization: Bearer ak_...``) with the scope
the operation names, is rate limited per key, and is written to the audit log
with the key as actor ("api:<key name>"). Errors always have the shape
``{"error": {"code", "message", "fields"}}``.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Path, Query, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from akkoord.accounts.audit import audit
from akkoord.accounts.models import AuditAction
from akkoord.api import schemas as s
from akkoord.api import services
from akkoord.api.campaign_api import router as campaign_router
from akkoord.api.errors import ERRORS, MAX_ID, ApiError, need
from akkoord.api.models import ApiKey, Scope
from akkoord.centre.data import person_data
from akkoord.consent.models import Purpose
from akkoord.contacts.models import Activity, ActivityKind
from akkoord.deliverability.api import router as delivery_router
from akkoord.lib import ratelimit


def rate_limit() -> tuple[int, int]:
    """Calls per key per window (seconds): settings AKKOORD_API_RATE_LIMIT / _WINDOW."""
    return settings.AKKOORD_API_RATE_LIMIT, settings.AKKOORD_API_RATE_WINDOW


class KeyAuth(HttpBearer):
    """Bearer API keys; counts, rate-limits and audits each call."""

    def authenticate(self, request, token):
        key = ApiKey.authenticate(token)
        if key is None:
            return None
        limit, window = rate_limit()
        if not ratelimit.hit("api", key.prefix, limit=limit, window=window):
            raise ApiError(429, "rate_limited", _("Too many requests for this key; wait a minute."))
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        action = AuditAction.VIEW if request.method in ("GET", "HEAD") else AuditAction.CHANGE
        # The path only: query strings may hold addresses (search).
        audit(key, action, object_type="api", detail=f"{request.method} {request.path}")
        request.api_key = key
        return key


api = NinjaAPI(
    title="Akkoord API",
    version="1",
    description=(
        "Contacts, purchases, consent with proof, 'may I mail?' (one or many), data-subject "
        "requests, sign-up, product categories, tags, segments and campaigns (create, preview, "
        "send, pause, cancel, deliveries with the basis per recipient). Authenticate with `Authorization: Bearer <key>`; keys are made by an "
        "administrator under /api/keys/."
    ),
    urls_namespace="api:v1",
    docs_url=None,
    auth=KeyAuth(),
)


def _error(request, status: int, code: str, message: str, fields: dict | None = None):
    return api.create_response(
        request,
        {"error": {"code": code, "message": str(message), "fields": fields or {}}},
        status=status,
    )


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return _error(request, exc.status, exc.code, exc.message, exc.fields)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return _error(
        request,
        401,
        "unauthenticated",
        _("Send a valid, not revoked API key as 'Authorization: Bearer <key>'."),
    )


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc: NinjaValidationError):
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", [])]
        # Drop the parameter-source prefix ("body", "payload", "query", ...).
        name = ".".join(p for p in location[1:] if p not in ("payload", "filters")) or "body"
        fields.setdefault(name, []).append(str(error.get("msg", "invalid")))
    return _error(request, 422, "invalid", _("The request is not valid; see fields."), fields)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return _error(request, exc.status_code, "bad_request", str(exc))


@api.exception_handler(DjangoValidationError)
def _django_invalid(request, exc: DjangoValidationError):
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return _error(request, 422, "invalid", _("The data is not valid; see fields."), fields)


ContactId = Path(..., ge=1, le=MAX_ID, description="The contact's id.")


# --- purposes ------------------------------------------------------------------


@api.get("/purposes", response={200: list[s.PurposeOut], **ERRORS}, tags=["purposes"])
def list_purposes(request):
    """The purposes consent can be given for."""
    return list(Purpose.objects.filter(is_active=True))


# --- contacts ------------------------------------------------------------------


@api.get("/contacts", response={200: s.ContactPage, **ERRORS}, tags=["contacts"])
def list_contacts(
    request,
    q: str = Query("", max_length=200, description="Search in address, names, organisation."),
    email: str = Query("", max_length=320, description="Exact address."),
    source_kind: str = Query("", max_length=10),
    customer: bool | None = Query(None, description="Only customers (or only non-customers)."),
    page: int = Query(1, ge=1, le=100_000),
    page_size: int = Query(50, ge=1, le=500),
):
    """Contacts, newest first, filtered and paginated."""
    need(request, Scope.CONTACTS_READ)
    services.refuse_control_characters({"q": q, "email": email, "source_kind": source_kind})
    contacts = services.contact_queryset()
    if q:
        contacts = contacts.filter(
            Q(email__icontains=q)
            | Q(first_name__icontains=q)
            | Q(last_name__icontains=q)
            | Q(organisation_name__icontains=q)
        )
    if email:
        contacts = contacts.filter(email=email.strip().lower())
    if source_kind:
        contacts = contacts.filter(source_kind=source_kind)
    if customer is not None:
        contacts = contacts.filter(last_purchase_on__isnull=not customer)
    count = contacts.count()
    start = (page - 1) * page_size
    items = [services.contact_out(c) for c in contacts[start : start + page_size]]
    return {
        "count": count,
        "page": page,
        "page_size": page_size,
        "next_page": page + 1 if start + page_size < count else None,
        "items": items,
    }


@api.post("/contacts", response={201: s.ContactOut, **ERRORS}, tags=["contacts"])
def create_contact(request, payload: s.ContactIn):
    """Register a contact (source: this API key). Fires the privacy confirmation."""
    key = need(request, Scope.CONTACTS_WRITE)
    contact = services.create_contact(key, payload)
    return Status(201, services.contact_out(contact))


@api.get("/contacts/{contact_id}", response={200: s.ContactOut, **ERRORS}, tags=["contacts"])
def get_contact(request, contact_id: int = ContactId):
    need(request, Scope.CONTACTS_READ)
    return services.contact_out(services.get_contact(contact_id))


@api.patch("/contacts/{contact_id}", response={200: s.ContactOut, **ERRORS}, tags=["contacts"])
def patch_contact(request, payload: s.ContactPatch, contact_id: int = ContactId):
    """Correct a contact; each change is an activity on the timeline."""
    key = need(request, Scope.CONTACTS_WRITE)
    contact = services.get_contact(contact_id)
    services.patch_contact(key, contact, payload)
    return services.contact_out(services.get_contact(contact_id))


# --- purchases -----------------------------------------------------------------


@api.get(
    "/contacts/{contact_id}/purchases",
    response={200: list[s.PurchaseOut], **ERRORS},
    tags=["purchases"],
)
def list_purchases(request, contact_id: int = ContactId):
    need(request, Scope.CONTACTS_READ)
    return list(services.get_contact(contact_id).purchases.select_related("category"))


@api.post(
    "/contacts/{contact_id}/purchases",
    response={201: s.PurchaseOut, **ERRORS},
    tags=["purchases"],
)
def add_purchase(request, payload: s.PurchaseIn, contact_id: int = ContactId):
    """Record a sale: the ground of the customer relationship (soft opt-in)."""
    key = need(request, Scope.CONTACTS_WRITE)
    return Status(201, services.add_purchase(key, services.get_contact(contact_id), payload))


# --- consent -------------------------------------------------------------------


@api.get(
    "/contacts/{contact_id}/consents",
    response={200: s.ConsentHistoryOut, **ERRORS},
    tags=["consent"],
)
def consent_history(request, contact_id: int = ContactId):
    """Current consent per purpose and the full ledger history with proof."""
    need(request, Scope.CONSENT_READ)
    return services.consent_history(services.get_contact(contact_id))


@api.post(
    "/contacts/{contact_id}/consents",
    response={201: s.ConsentEventOut, **ERRORS},
    tags=["consent"],
)
def record_consent(request, payload: s.ConsentIn, contact_id: int = ContactId):
    """Record a consent event with its proof (a grant needs the exact text shown)."""
    key = need(request, Scope.CONSENT_WRITE)
    return Status(201, services.record_consent(key, services.get_contact(contact_id), payload))


@api.get(
    "/contacts/{contact_id}/may-mail",
    response={200: s.DecisionOut, **ERRORS},
    tags=["consent"],
)
def may_mail(request, query: Query[s.MayMailQuery], contact_id: int = ContactId):
    """May this contact be mailed for this purpose, and on which basis?"""
    need(request, Scope.CONSENT_READ)
    return services.decide(services.get_contact(contact_id), query)


# --- data-subject requests -----------------------------------------------------


@api.get("/contacts/{contact_id}/export", response={200: dict, **ERRORS}, tags=["requests"])
def export_contact(request, contact_id: int = ContactId):
    """All data held about the person (GDPR art. 15 and 20), as JSON.

    The same document the person downloads from the customer centre, in the
    published export schema (``/centre/schema.json``): controller, data, source,
    consents with their history and proof, objections, mails, activities.
    """
    key = need(request, Scope.REQUESTS)
    contact = services.get_contact(contact_id)
    audit(key, AuditAction.EXPORT, contact, detail="data-subject export via API")
    Activity.objects.create(
        contact=contact,
        kind=ActivityKind.EXPORT,
        actor=f"api:{key.name}",
        summary="data exported through the API (json)",
        data={"via": "api", "format": "json"},
    )
    return person_data(contact)


@api.post("/contacts/{contact_id}/erase", response={200: s.ErasedOut, **ERRORS}, tags=["requests"])
def erase(request, contact_id: int = ContactId):
    """Erase the person for good (GDPR art. 17); the address goes on the suppression list."""
    key = need(request, Scope.REQUESTS)
    contact = services.get_contact(contact_id)
    with transaction.atomic():
        audit(key, AuditAction.DELETE, contact, detail="erasure via API")
        services.erase(contact)
    return {"erased": True}


# --- sign-up -------------------------------------------------------------------


@api.post("/signups", response={202: s.SignupOut, **ERRORS}, tags=["signup"])
def signup(request, payload: s.SignupIn):
    """Sign a person up through a published form: double opt-in, same limits as the form.

    The answer is the same whether or not the address was known.
    """
    key = need(request, Scope.SIGNUP)
    return Status(202, services.sign_up(key, payload))


# --- campaigns, segments, tags, categories (their own module) -------------------

api.add_router("/", campaign_router)

# The deliverability app's endpoint (its own scope).
api.add_router("/", delivery_router)
