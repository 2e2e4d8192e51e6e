"""API: product categories, tags, segments, campaigns, deliveries and batch "may I mail?".

Everything the staff pages can do for campaigns, an integration can do here,
through the same services (so the same rules, the same audit log).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status

from akkoord.accounts.audit import audit
from akkoord.api import services as api_services
from akkoord.api.errors import ERRORS, MAX_ID, ApiError, need
from akkoord.api.models import Scope
from akkoord.api.schemas import DecisionOut, MayMailQuery
from akkoord.campaigns import services as campaign_services
from akkoord.campaigns.audience import CampaignNotReady, preview
from akkoord.campaigns.forms import CampaignForm
from akkoord.campaigns.models import Campaign, Delivery
from akkoord.consent.rules import Audience, MailClass
from akkoord.contacts.models import Contact, ProductCategory
from akkoord.segments import services as segment_services
from akkoord.segments.conditions import SegmentError, validate
from akkoord.segments.models import Segment

router = Router()
Id = Path(..., ge=1, le=MAX_ID)
MAX_BATCH = 500


def get_object_or_404(queryset_or_model, pk: int):
    """The object, or the API's own 404 answer (not Django's page)."""
    queryset = getattr(queryset_or_model, "objects", queryset_or_model)
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise ApiError(404, "not_found", _("There is nothing with this id."))
    return found


# --- schemas -------------------------------------------------------------------


class CategoryIn(Schema):
    key: str = Field(max_length=50, pattern=r"^[-a-zA-Z0-9_]+$")
    name_nl: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=100)
    similar_to: list[str] = Field(default_factory=list, max_length=100)


class CategoryOut(Schema):
    key: str
    name_nl: str
    name_en: str
    similar_to: list[str]


class TagsIn(Schema):
    tags: list[str] = Field(max_length=100)


class TagsOut(Schema):
    tags: list[str]


class SegmentIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    definition: dict = Field(
        description=(
            'A group of conditions: {"match": "all"|"any", "conditions": [...]}; each '
            'condition a group or {"field", "op", "value"}. Fields, tests and the purchase '
            "options (categories, on_or_after, before, min_count, min_amount, min_total) are "
            "listed on the staff segment page and in docs/segments.md."
        )
    )


class SegmentOut(Schema):
    id: int
    name: str
    definition: dict
    count: int


class CountIn(Schema):
    definition: dict


class CountOut(Schema):
    count: int


class CampaignIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    purpose: str = Field(max_length=50, description="The purpose's key.")
    mail_class: str = Field(max_length=30)
    audience: str = Field("", max_length=30)
    categories: list[str] = Field(default_factory=list, max_length=100)
    segment: int | None = Field(None, ge=1, le=MAX_ID)
    template: int = Field(ge=1, le=MAX_ID)
    sending_domain: int = Field(ge=1, le=MAX_ID)
    from_name: str = Field(min_length=1, max_length=100)
    from_local: str = Field("nieuwsbrief", max_length=64)
    fallback_language: str = Field("nl", max_length=5)
    rate_limit: int | None = Field(None, ge=1, le=1_000_000)
    rate_period: str = Field("minute", max_length=10)
    deadline: date | None = None


class CampaignOut(Schema):
    id: int
    name: str
    purpose: str
    mail_class: str
    audience: str
    categories: list[str]
    segment: int | None
    status: str
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    counts: dict[str, int]


class ExclusionCount(Schema):
    reason: str
    explanation: str
    count: int


class PreviewOut(Schema):
    allowed: int
    per_basis: dict[str, int]
    excluded: list[ExclusionCount]


class ScheduleIn(Schema):
    send_at: datetime | None = Field(None, description="Empty: send now.")


class DeliveryOut(Schema):
    contact: int | None
    status: str
    basis: str
    reason: str
    consent_seq: int | None
    purchase: int | None
    sent_at: datetime | None


class DeliveryPage(Schema):
    count: int
    results: list[DeliveryOut]


class BatchMayMailIn(Schema):
    contacts: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        min_length=1, max_length=MAX_BATCH
    )
    purpose: str = Field(max_length=50)
    mail_class: MailClass = MailClass.MARKETING_OTHER
    audience: Audience | None = Audience.OPTINS


class BatchDecisionOut(DecisionOut):
    contact: int


# --- product categories ----------------------------------------------------------


def _category_out(category: ProductCategory) -> dict:
    return {
        "key": category.key,
        "name_nl": category.name_nl,
        "name_en": category.name_en,
        "similar_to": sorted(c.key for c in category.similar_to.all()),
    }


@router.get("/categories", response={200: list[CategoryOut], **ERRORS}, tags=["categories"])
def list_categories(request):
    need(request, Scope.CONTACTS_READ)
    return [_category_out(c) for c in ProductCategory.objects.prefetch_related("similar_to")]


@router.put("/categories/{key}", response={200: CategoryOut, **ERRORS}, tags=["categories"])
def put_category(request, payload: CategoryIn, key: str = Path(..., max_length=50)):
    """Create or change a category and say which others are similar to it (both ways)."""
    api_key = need(request, Scope.CAMPAIGNS)
    if payload.key != key:
        raise ApiError(422, "invalid", _("The key in the body must match the address."))
    similar = list(ProductCategory.objects.filter(key__in=payload.similar_to).exclude(key=key))
    unknown = set(payload.similar_to) - {c.key for c in similar} - {key}
    if unknown:
        raise ApiError(
            422,
            "invalid",
            _("Unknown product category: %(key)s") % {"key": sorted(unknown)[0][:50]},
            {"similar_to": [_("Create a category before naming it as similar.")]},
        )
    with transaction.atomic():
        category, _created = ProductCategory.objects.update_or_create(
            key=key, defaults={"name_nl": payload.name_nl, "name_en": payload.name_en}
        )
        category.similar_to.set(similar)
        audit(api_key, "change", category, detail="product category")
    return _category_out(category)


# --- tags ----------------------------------------------------------------------


def _contact(contact_id: int) -> Contact:
    return api_services.get_contact(contact_id)


@router.get("/contacts/{contact_id}/tags", response={200: TagsOut, **ERRORS}, tags=["tags"])
def get_tags(request, contact_id: int = Id):
    need(request, Scope.CONTACTS_READ)
    return {"tags": sorted(_contact(contact_id).tags.values_list("name", flat=True))}


@router.put("/contacts/{contact_id}/tags", response={200: TagsOut, **ERRORS}, tags=["tags"])
def put_tags(request, payload: TagsIn, contact_id: int = Id):
    """Give the contact exactly these tags."""
    key = need(request, Scope.CONTACTS_WRITE)
    tags = segment_services.set_tags(_contact(contact_id), payload.tags, actor=key.audit_label)
    return {"tags": tags}


@router.post("/contacts/{contact_id}/tags", response={200: TagsOut, **ERRORS}, tags=["tags"])
def add_tags(request, payload: TagsIn, contact_id: int = Id):
    """Add these tags to the ones the contact has."""
    key = need(request, Scope.CONTACTS_WRITE)
    tags = segment_services.add_tags(_contact(contact_id), payload.tags, actor=key.audit_label)
    return {"tags": tags}


# --- segments ------------------------------------------------------------------


def _valid_definition(definition: dict) -> dict:
    try:
        validate(definition)
    except SegmentError as error:
        raise ApiError(422, "invalid", str(error), {"definition": [str(error)]}) from None
    return definition


def _segment_out(segment: Segment) -> dict:
    return {
        "id": segment.pk,
        "name": segment.name,
        "definition": segment.definition,
        "count": segment_services.count(segment.definition),
    }


@router.get("/segments", response={200: list[SegmentOut], **ERRORS}, tags=["segments"])
def list_segments(request):
    need(request, Scope.CAMPAIGNS)
    return [_segment_out(segment) for segment in Segment.objects.all()[:200]]


@router.post("/segments", response={201: SegmentOut, **ERRORS}, tags=["segments"])
def create_segment(request, payload: SegmentIn):
    key = need(request, Scope.CAMPAIGNS)
    segment = Segment.objects.create(
        name=payload.name, definition=_valid_definition(payload.definition)
    )
    audit(key, "create", segment)
    return Status(201, _segment_out(segment))


@router.post("/segments/count", response={200: CountOut, **ERRORS}, tags=["segments"])
def count_segment(request, payload: CountIn):
    """How many contacts meet these conditions (before saving them)."""
    need(request, Scope.CAMPAIGNS)
    return {"count": segment_services.count(_valid_definition(payload.definition))}


@router.get("/segments/{segment_id}", response={200: SegmentOut, **ERRORS}, tags=["segments"])
def get_segment(request, segment_id: int = Id):
    need(request, Scope.CAMPAIGNS)
    return _segment_out(get_object_or_404(Segment, pk=segment_id))


@router.put("/segments/{segment_id}", response={200: SegmentOut, **ERRORS}, tags=["segments"])
def put_segment(request, payload: SegmentIn, segment_id: int = Id):
    key = need(request, Scope.CAMPAIGNS)
    segment = get_object_or_404(Segment, pk=segment_id)
    segment.name, segment.definition = payload.name, _valid_definition(payload.definition)
    segment.save()
    audit(key, "change", segment)
    return _segment_out(segment)


# --- campaigns -----------------------------------------------------------------


def _campaign(campaign_id: int) -> Campaign:
    return get_object_or_404(Campaign.objects.select_related("purpose"), pk=campaign_id)


def _campaign_out(campaign: Campaign) -> dict:
    counts = dict(campaign.deliveries.order_by().values_list("status").annotate(n=Count("id")))
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "purpose": campaign.purpose.key,
        "mail_class": campaign.mail_class,
        "audience": campaign.audience,
        "categories": sorted(campaign.categories.values_list("key", flat=True)),
        "segment": campaign.segment_id,
        "status": campaign.status,
        "scheduled_at": campaign.scheduled_at,
        "started_at": campaign.started_at,
        "finished_at": campaign.finished_at,
        "counts": counts,
    }


def _form_data(payload: CampaignIn) -> dict:
    from akkoord.consent.models import Purpose

    data = payload.dict()
    purpose = Purpose.objects.filter(key=data["purpose"]).first()
    categories = list(ProductCategory.objects.filter(key__in=data["categories"]))
    unknown = set(data["categories"]) - {c.key for c in categories}
    if unknown:
        raise ApiError(
            422,
            "invalid",
            _("Unknown product category: %(key)s") % {"key": sorted(unknown)[0][:50]},
        )
    data["purpose"] = purpose.pk if purpose else None
    data["categories"] = [c.pk for c in categories]
    return {k: ("" if v is None else v) for k, v in data.items()}


def _form_errors(form) -> ApiError:
    fields = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
    return ApiError(422, "invalid", _("The campaign is not valid; see fields."), fields)


@router.get("/campaigns", response={200: list[CampaignOut], **ERRORS}, tags=["campaigns"])
def list_campaigns(request):
    need(request, Scope.CAMPAIGNS)
    return [_campaign_out(c) for c in Campaign.objects.select_related("purpose")[:200]]


@router.post("/campaigns", response={201: CampaignOut, **ERRORS}, tags=["campaigns"])
def create_campaign(request, payload: CampaignIn):
    """Create a draft campaign, checked by the same rules as the staff form."""
    key = need(request, Scope.CAMPAIGNS)
    form = CampaignForm(_form_data(payload))
    if not form.is_valid():
        raise _form_errors(form)
    with transaction.atomic():
        campaign = form.save()
        audit(key, "create", campaign)
    return Status(201, _campaign_out(campaign))


@router.get("/campaigns/{campaign_id}", response={200: CampaignOut, **ERRORS}, tags=["campaigns"])
def get_campaign(request, campaign_id: int = Id):
    """The campaign and its progress (deliveries counted per status)."""
    need(request, Scope.CAMPAIGNS)
    return _campaign_out(_campaign(campaign_id))


@router.get(
    "/campaigns/{campaign_id}/preview", response={200: PreviewOut, **ERRORS}, tags=["campaigns"]
)
def preview_campaign(request, campaign_id: int = Id):
    """Who may lawfully receive it now: counts per basis and per exclusion reason."""
    need(request, Scope.CAMPAIGNS)
    shown = preview(_campaign(campaign_id))
    return {
        "allowed": shown.allowed,
        "per_basis": shown.per_basis,
        "excluded": [
            {"reason": reason, "explanation": text, "count": count}
            for reason, text, count in shown.excluded
        ],
    }


@router.post(
    "/campaigns/{campaign_id}/send", response={200: CampaignOut, **ERRORS}, tags=["campaigns"]
)
def send_campaign(request, payload: ScheduleIn, campaign_id: int = Id):
    """Send now, or schedule for ``send_at``. 409 with the reason when it cannot start."""
    key = need(request, Scope.CAMPAIGNS)
    campaign = _campaign(campaign_id)
    try:
        campaign_services.start(campaign, key, when=payload.send_at)
    except CampaignNotReady as error:
        raise ApiError(409, "not_ready", str(error)) from None
    campaign.refresh_from_db()
    return _campaign_out(campaign)


def _state_change(action, campaign_id: int, request) -> dict:
    key = need(request, Scope.CAMPAIGNS)
    campaign = _campaign(campaign_id)
    if not action(campaign, key):
        raise ApiError(
            409, "wrong_state", _("That is not possible in the campaign's current state.")
        )
    campaign.refresh_from_db()
    return _campaign_out(campaign)


@router.post(
    "/campaigns/{campaign_id}/pause", response={200: CampaignOut, **ERRORS}, tags=["campaigns"]
)
def pause_campaign(request, campaign_id: int = Id):
    return _state_change(campaign_services.pause, campaign_id, request)


@router.post(
    "/campaigns/{campaign_id}/resume", response={200: CampaignOut, **ERRORS}, tags=["campaigns"]
)
def resume_campaign(request, campaign_id: int = Id):
    return _state_change(campaign_services.resume, campaign_id, request)


@router.post(
    "/campaigns/{campaign_id}/cancel", response={200: CampaignOut, **ERRORS}, tags=["campaigns"]
)
def cancel_campaign(request, campaign_id: int = Id):
    return _state_change(campaign_services.cancel, campaign_id, request)


class DeliveryFilter(Schema):
    offset: int = Field(0, ge=0, le=10_000_000)
    limit: int = Field(100, ge=1, le=1000)


@router.get(
    "/campaigns/{campaign_id}/deliveries",
    response={200: DeliveryPage, **ERRORS},
    tags=["campaigns"],
)
def campaign_deliveries(request, query: Query[DeliveryFilter], campaign_id: int = Id):
    """Each recipient with the basis used: the consent event or the purchase it rested on."""
    need(request, Scope.CAMPAIGNS)
    deliveries = Delivery.objects.filter(campaign=_campaign(campaign_id)).order_by("id")
    page = deliveries[query.offset : query.offset + query.limit]
    return {
        "count": deliveries.count(),
        "results": [
            {
                "contact": d.contact_id,
                "status": d.status,
                "basis": d.basis,
                "reason": d.reason,
                "consent_seq": d.consent_seq,
                "purchase": d.customer_purchase_id,
                "sent_at": d.sent_at,
            }
            for d in page
        ],
    }


# --- may I mail, for many ------------------------------------------------------


@router.post("/may-mail", response={200: list[BatchDecisionOut], **ERRORS}, tags=["consent"])
def may_mail_batch(request, payload: BatchMayMailIn):
    """'May I mail?' for up to 500 contacts in one call (unknown ids answer 404)."""
    need(request, Scope.CONSENT_READ)
    ids = list(dict.fromkeys(payload.contacts))
    contacts = {c.pk: c for c in Contact.objects.filter(pk__in=ids)}
    missing = [pk for pk in ids if pk not in contacts]
    if missing:
        raise ApiError(404, "not_found", _("Unknown contact: %(id)s") % {"id": missing[0]})
    query = MayMailQuery(
        purpose=payload.purpose, mail_class=payload.mail_class, audience=payload.audience
    )
    return [{"contact": pk, **api_services.decide(contacts[pk], query)} for pk in ids]
