"""Request and response shapes of the REST API (they make the OpenAPI document)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from ninja import Field, Schema

from akkoord.consent.rules import Audience, MailClass


class ErrorDetail(Schema):
    code: str = Field(description="Stable machine-readable code, e.g. 'invalid', 'not_found'.")
    message: str = Field(description="What is wrong, in words a developer can act on.")
    fields: dict[str, list[str]] = Field(
        default_factory=dict, description="Problems per input field (for 'invalid')."
    )


class ErrorOut(Schema):
    error: ErrorDetail


class PurposeOut(Schema):
    key: str
    name_nl: str
    name_en: str
    is_marketing: bool
    double_opt_in: bool


class ContactOut(Schema):
    id: int
    email: str
    first_name: str
    last_name: str
    organisation_name: str
    language: str
    source_kind: str
    source_detail: str
    created_at: datetime
    customer_since: date | None
    last_purchase_on: date | None
    objection_offered_at_sale: bool
    objected_at: datetime | None
    fields: dict[str, str]


class ContactPage(Schema):
    count: int
    page: int
    page_size: int
    next_page: int | None
    items: list[ContactOut]


class ContactIn(Schema):
    email: str = Field(max_length=320)
    first_name: str = Field("", max_length=500)
    last_name: str = Field("", max_length=500)
    organisation_name: str = Field("", max_length=500)
    language: str = Field("nl", max_length=10)
    fields: dict[str, str] = Field(default_factory=dict)
    collected_from_person: bool = Field(
        True, description="False if the data did not come from the person (GDPR art. 14)."
    )


class ContactPatch(Schema):
    email: str | None = Field(None, max_length=320)
    first_name: str | None = Field(None, max_length=500)
    last_name: str | None = Field(None, max_length=500)
    organisation_name: str | None = Field(None, max_length=500)
    language: str | None = Field(None, max_length=10)
    fields: dict[str, str] | None = None


class PurchaseIn(Schema):
    purchased_on: date
    description: str = Field(max_length=500)
    reference: str = Field("", max_length=500)
    objection_offered: bool = Field(
        description="Was the person offered the chance to object to marketing at this sale?"
    )
    category: str = Field(
        "",
        max_length=50,
        description=(
            "Key of a product category (see /categories); empty: 'uncategorised'. Only purchases "
            "in a category similar to a campaign's carry the soft opt-in for it."
        ),
    )
    amount: Decimal | None = Field(
        None,
        ge=0,
        le=Decimal("9999999999.99"),
        max_digits=12,
        decimal_places=2,
        description=(
            "What the purchase cost, in the organisation's currency: a number (or a text such "
            'as "12.50") of at least 0 with at most two decimals; leave out or null if not '
            "known. Segments can select on it (purchase condition: min_amount, min_total)."
        ),
    )


class PurchaseOut(Schema):
    id: int
    purchased_on: date
    description: str
    reference: str
    objection_offered: bool
    category: str
    amount: Decimal | None = Field(
        description="What the purchase cost, in the organisation's currency (null: not known)."
    )

    @staticmethod
    def resolve_category(purchase) -> str:
        return purchase.category.key


class ConsentKind(StrEnum):
    GRANTED = "granted"
    CONFIRMED = "confirmed"
    WITHDRAWN = "withdrawn"
    OBJECTED = "objected"
    # Listed so that the refusal can explain itself: only the person can lift
    # their objection, in the customer centre; the API always refuses it.
    OBJECTION_LIFTED = "objection_lifted"


class ProofIn(Schema):
    text_shown: str = Field(
        "", max_length=5000, description="The exact consent text the person saw (for granted)."
    )
    ip: str = Field("", max_length=45)
    user_agent: str = Field("", max_length=500)
    page_url: str = Field("", max_length=500)
    privacy_statement_version: str = Field("", max_length=50)


class ConsentIn(Schema):
    purpose: str | None = Field(None, max_length=50, description="Purpose key; none for objected.")
    kind: ConsentKind
    occurred_at: datetime | None = Field(
        None,
        description=(
            "When it happened; defaults to now; with a time zone; never in the future. "
            "An event dated before one already recorded is recorded with a warning: "
            "it does not overrule what happened after it."
        ),
    )
    double_opt_in: bool | None = Field(
        None, description="For granted: must it be confirmed? Defaults to the purpose's setting."
    )
    proof: ProofIn = Field(default_factory=ProofIn)


class ConsentEventOut(Schema):
    seq: int
    purpose: str | None
    kind: str
    occurred_at: datetime
    channel: str
    channel_ref: str
    needs_confirmation: bool
    confirms_seq: int | None
    proof: dict | None
    warnings: list[str] = Field(
        default_factory=list,
        description="For instance: the event happened before events already recorded, "
        "so it does not overrule them.",
    )


class ConsentStateOut(Schema):
    purpose: str
    status: str
    granted_at: datetime | None
    confirmed_at: datetime | None


class ConsentHistoryOut(Schema):
    states: list[ConsentStateOut]
    events: list[ConsentEventOut]


class DecisionOut(Schema):
    allowed: bool
    reason: str
    basis: str | None
    consent_seq: int | None
    explanation: str


class MayMailQuery(Schema):
    purpose: str = Field(max_length=50)
    mail_class: MailClass = MailClass.MARKETING_OTHER
    audience: Audience | None = Audience.OPTINS


class ErasedOut(Schema):
    erased: bool


class SignupIn(Schema):
    form: str = Field(max_length=20, description="The form's public key.")
    email: str = Field(max_length=320)
    purposes: list[str] = Field(max_length=50)
    first_name: str | None = Field(None, max_length=500)
    last_name: str | None = Field(None, max_length=500)
    organisation_name: str | None = Field(None, max_length=500)
    language: str | None = Field(None, max_length=10)
    fields: dict[str, str] = Field(default_factory=dict)
    ip: str = Field(max_length=45, description="The IP address of the person signing up.")
    user_agent: str = Field("", max_length=500)
    page_url: str = Field("", max_length=500)


class SignupOut(Schema):
    accepted: bool
    message: str
