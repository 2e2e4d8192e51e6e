"""The sending pipeline: claim a batch, re-check, render, sign, send, record.

Several workers (processes, on one or many machines) may work on one campaign.
Each claims a batch of queued delivery rows with a conditional UPDATE
(queued -> sending, with its claim token); on PostgreSQL the ids are selected
``FOR UPDATE SKIP LOCKED`` so workers never wait for or take each other's rows;
on SQLite every transaction takes the write lock first (IMMEDIATE), so select
and update in one transaction are enough.

Crash safety: a row is marked *sent* right after the SMTP server accepted the
message, in groups of at most ``commit_every`` messages. A worker killed at any
point leaves rows in *sending*; once their lease runs out another worker (or
the restarted one) queues them again. The only duplicates possible are the
messages accepted but not yet recorded: at most ``commit_every`` plus the
small hand-over window of the signing and SMTP threads (3) per worker and crash. A worker
kept waiting by the server for more than ``STALL_SECONDS`` records what was
accepted first, so a crash during a slow or hanging SMTP answer repeats only
the message in flight. A restored
backup is safe in the same way for rows that were recorded as sent in it.

One recipient never stops the others: an error while rendering, signing or
sending one message (an address the server cannot take, a bug) fails that
delivery only, with a ``FailureReason``, and the campaign goes on.

Each sending worker also renews its campaign's lease (``beat``) while it sends
or waits on purpose; ``watchdog`` queues the campaign again when that lease
runs out, so a killed worker's campaign is taken over without anyone's help.

Each recipient is checked against the engine again when its batch is claimed
(one query per batch), and again whenever the consent ledger or the
suppression list has moved since (checked once per commit group, a cheap
read of two maxima), so an unsubscribe during the batch is honoured within
``commit_every`` messages plus that small window (3).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache

from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from akkoord.campaigns.dkimsign import Signer
from akkoord.campaigns.messenger import DeliveryError, Messenger
from akkoord.campaigns.models import (
    PERIOD_SECONDS,
    Campaign,
    CampaignBody,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    FailureReason,
)
from akkoord.campaigns.rendering import (
    CompiledMail,
    Recipient,
    build_message,
    envelope_address,
    recipient_context,
    repermission_token,
    repermission_urls,
    unsubscribe_token,
    unsubscribe_url,
)
from akkoord.consent import audiences
from akkoord.consent.models import LedgerHead, Suppression
from akkoord.consent.rules import ALLOWING_REASONS, MailClass, Reason
from akkoord.contacts.models import Activity, ActivityKind, Contact
from akkoord.deliverability import tracking
from akkoord.deliverability.verp import envelope_sender
from akkoord.organisation.models import Organisation

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# How long the worker waits for the SMTP thread before it records what the
# server accepted so far (see _SendThread.results).
STALL_SECONDS = 1.0
RETRY_BASE_SECONDS = 60
HARD_BOUNCE_CODES = {550, 551, 553}


@cache
def _mark_sent_statement() -> str:
    """The prepared UPDATE that records one sent mail, names taken from the model."""
    quote = connection.ops.quote_name
    meta = Delivery._meta
    columns = [
        meta.get_field(name).column
        for name in (
            "status",
            "sent_at",
            "message_id",
            "basis",
            "reason",
            "consent_seq",
            "attempts",
        )
    ]
    assignments = ", ".join(f"{quote(column)} = %s" for column in columns)
    # Only names from the model's own metadata go into the text; values are parameters.
    return (
        f"UPDATE {quote(meta.db_table)} SET {assignments}, "  # noqa: S608
        f"{quote(meta.get_field('claim_token').column)} = '' "
        f"WHERE {quote(meta.pk.column)} = %s"
    )


class StopReason(StrEnum):
    """Why ``run_worker`` returned."""

    FINISHED = "finished"
    NOT_SENDING = "not sending"  # paused, cancelled, or taken over
    WAITING_FOR_RETRIES = "waiting for retries"  # only retries due later are left


@dataclass
class WorkerStats:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retried: int = 0
    batches: int = 0
    stopped_because: StopReason | None = None


@dataclass(frozen=True)
class _Job:
    """One rendered message on its way through the signing and SMTP threads."""

    pk: int
    contact_id: int
    language: str
    attempts: int
    reason: str
    consent_seq: int | None
    message_id: str
    subject: str
    tracked: bool = False  # sent with a pixel and tracked links (the person consented)


@dataclass(frozen=True)
class _Sent:
    """A message the server accepted, waiting to be recorded."""

    job: _Job
    sent_at: datetime
    basis: str
    consent_seq: int | None


@dataclass(frozen=True)
class _Failed:
    pk: int
    reply: str
    reason: str


@dataclass
class _Pending:
    sent: list[_Sent] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    retry: list[tuple[int, int, str]] = field(default_factory=list)
    failed: list[_Failed] = field(default_factory=list)
    bounced: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.sent) + len(self.skipped) + len(self.retry) + len(self.failed)

    def clear(self) -> None:
        """Start the next commit group (new lists: the recorded ones are left as they were)."""
        self.sent, self.skipped, self.retry, self.failed, self.bounced = [], [], [], [], []


@dataclass
class _Lease:
    """This worker's claim token, and when it last told the database it is alive."""

    token: str
    seconds: float
    extended_at: float = 0.0
    beat_at: float = float("-inf")

    def due(self) -> bool:
        # A quarter of the lease: often enough that a slow batch keeps its rows,
        # rare enough not to rewrite the whole batch after every commit group.
        return time.monotonic() - self.extended_at >= self.seconds / 4

    def beat_if_due(self, campaign_id: int) -> None:
        """The campaign's own lease (``Campaign.sending_beat_at``), renewed as often."""
        if time.monotonic() - self.beat_at >= self.seconds / 4:
            beat(campaign_id)
            self.beat_at = time.monotonic()


class CampaignSender:
    """Everything compiled once per campaign: templates, signer, engine arguments."""

    def __init__(self, campaign: Campaign):
        self.campaign = campaign
        organisation = Organisation.current()
        self.customer_months = organisation.customer_relationship_months
        domain = campaign.sending_domain
        self.signer = Signer(domain.domain, domain.selector, domain.private_key_pem)
        self.domain = domain.domain
        self.bodies = {
            body.language: body for body in CampaignBody.objects.filter(campaign=campaign)
        }
        self.compiled = {
            language: CompiledMail(
                subject=body.subject,
                html=body.html,
                text=body.text,
                language=language,
                organisation=organisation,
                from_name=campaign.from_name,
            )
            for language, body in self.bodies.items()
        }
        self.mail_class = MailClass(campaign.mail_class)
        # The send-time recheck asks the same question as the audience did,
        # product categories included (a soft opt-in covers similar products only).
        self.similar_categories = campaign.similar_categories()
        self.list_id = f"<campaign-{campaign.pk}.{domain.domain}>"

    def render(self, contact: Contact, language: str) -> tuple[bytes, str, str]:
        """The signed message for one contact; returns (bytes, message id, subject)."""
        raw, message_id, subject = self.render_unsigned(contact, language)
        return self.signer.sign(raw), message_id, subject

    def render_unsigned(
        self, contact: Contact, language: str, *, tracked_delivery: int | None = None
    ) -> tuple[bytes, str, str]:
        """The message before DKIM: the sending pipeline signs it on its own thread.

        ``tracked_delivery``: only for a recipient who consented to be measured
        (``deliverability.tracking``), the delivery the pixel and links name.
        """
        links = {}
        unsubscribe = unsubscribe_url(unsubscribe_token(contact, self.campaign))
        links["unsubscribe_url"] = unsubscribe
        if self.campaign.is_repermission:
            links["yes_url"], links["no_url"] = repermission_urls(
                repermission_token(contact, self.campaign)
            )
        recipient = Recipient(
            email=contact.email,
            first_name=contact.first_name,
            last_name=contact.last_name,
            organisation_name=contact.organisation_name,
            ledger_key=contact.ledger_key,
        )
        compiled = self.compiled[language]
        subject, text, html = compiled.render(recipient_context(recipient, links))
        if tracked_delivery is not None:
            text, html = tracking.instrument(tracked_delivery, text, html)
        raw, message_id = build_message(
            from_name=self.campaign.from_name,
            from_address=self.campaign.from_address,
            to=contact.email,
            subject=subject,
            text=text,
            html=html,
            domain=self.domain,
            list_unsubscribe=unsubscribe,
            list_id=self.list_id,
        )
        return raw, message_id, subject

    def decisions(self, contact_ids: list[int]) -> dict[int, tuple[str, int | None]]:
        """The engine's verdict for each contact now, in one query."""
        rows = audiences.with_decisions(
            self.campaign.purpose,
            self.mail_class,
            self.campaign.audience_value,
            today=timezone.localdate(),
            customer_months=self.customer_months,
            similar_categories=self.similar_categories,
            contacts=Contact.objects.filter(pk__in=contact_ids),
        ).values_list("pk", "reason", "c_grant_seq")
        return {pk: (reason, seq) for pk, reason, seq in rows}


def claim(campaign_id: int, token: str, limit: int, *, lease_seconds: float) -> list[int]:
    """Take up to ``limit`` rows for this worker; also re-queues rows of dead workers."""
    if limit <= 0:
        return []
    now = timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    stale = now - timedelta(seconds=lease_seconds)
    with transaction.atomic():
        # Rows of a worker that died (lease run out) first, so they are not
        # left until the end of the campaign; then queued rows that are due.
        ids = _select_ids(
            Delivery.objects.filter(
                campaign_id=campaign_id, status=DeliveryStatus.SENDING, claimed_at__lt=stale
            ).order_by("id"),
            limit,
        )
        if len(ids) < limit:
            ids += _select_ids(
                Delivery.objects.filter(campaign_id=campaign_id, status=DeliveryStatus.QUEUED)
                .filter(due)
                .order_by("id"),
                limit - len(ids),
            )
        if ids:
            Delivery.objects.filter(pk__in=ids).update(
                status=DeliveryStatus.SENDING, claim_token=token, claimed_at=now
            )
    return ids


def _select_ids(queryset, limit: int) -> list[int]:
    if connection.features.has_select_for_update_skip_locked:
        queryset = queryset.select_for_update(skip_locked=True)
    return list(queryset.values_list("id", flat=True)[:limit])


def release(campaign_id: int, token: str) -> int:
    """Give back rows this worker claimed but did not send (pause, stop)."""
    return Delivery.objects.filter(
        campaign_id=campaign_id, claim_token=token, status=DeliveryStatus.SENDING
    ).update(status=DeliveryStatus.QUEUED, claim_token="", claimed_at=None)


def allowance(campaign: Campaign, wanted: int) -> tuple[int, float]:
    """How many messages the throttle allows now, and how long to wait if none."""
    if not campaign.rate_limit:
        return wanted, 0.0
    period = PERIOD_SECONDS[campaign.rate_period]
    since = timezone.now() - timedelta(seconds=period)
    used = Delivery.objects.filter(
        Q(status=DeliveryStatus.SENT, sent_at__gte=since) | Q(status=DeliveryStatus.SENDING),
        campaign=campaign,
    ).count()
    left = campaign.rate_limit - used
    if left <= 0:
        return 0, min(period / max(campaign.rate_limit, 1), 5.0)
    return min(wanted, left), 0.0


def _flush(campaign: Campaign, sender: CampaignSender, pending: _Pending, lease: _Lease) -> None:
    """Record results in one transaction, and extend the lease of the rest of the batch."""
    if not len(pending):
        return
    now = timezone.now()
    with transaction.atomic():
        if pending.sent:
            # One prepared statement for the group (bulk_update builds a CASE
            # per field and row: far slower than the sending it records).
            adapt = connection.ops.adapt_datetimefield_value
            with connection.cursor() as cursor:
                cursor.executemany(
                    _mark_sent_statement(),
                    [
                        (
                            DeliveryStatus.SENT.value,
                            adapt(sent.sent_at),
                            sent.job.message_id,
                            sent.basis,
                            sent.job.reason,
                            sent.consent_seq,
                            sent.job.attempts,
                            sent.job.pk,
                        )
                        for sent in pending.sent
                    ],
                )
            _insert_activities(
                [
                    (
                        sent.job.contact_id,
                        ActivityKind.MAIL.value,
                        sent.sent_at,
                        f"campaign:{campaign.pk}",
                        sent.job.subject[:300],
                        {
                            "class": campaign.mail_class,
                            "campaign": campaign.pk,
                            "body": sender.bodies[sent.job.language].pk,
                            "language": sent.job.language,
                            "basis": sent.basis,
                            "consent_seq": sent.consent_seq,
                            "message_id": sent.job.message_id,
                        },
                    )
                    for sent in pending.sent
                ]
            )
            tracking.mark_tracked([sent.job.pk for sent in pending.sent if sent.job.tracked])
        for pk, reason in pending.skipped:
            Delivery.objects.filter(pk=pk).update(
                status=DeliveryStatus.SKIPPED, skip_reason=reason[:30], claim_token=""
            )
        for pk, attempts, reply in pending.retry:
            Delivery.objects.filter(pk=pk).update(
                status=DeliveryStatus.QUEUED,
                attempts=attempts,
                smtp_reply=reply,
                claim_token="",
                next_attempt_at=now + timedelta(seconds=RETRY_BASE_SECONDS * 2 ** (attempts - 1)),
            )
        for failed in pending.failed:
            Delivery.objects.filter(pk=failed.pk).update(
                status=DeliveryStatus.FAILED,
                smtp_reply=failed.reply,
                failure_reason=failed.reason,
                claim_token="",
            )
        if pending.bounced:
            Contact.objects.filter(pk__in=pending.bounced, hard_bounced_at__isnull=True).update(
                hard_bounced_at=now
            )
        if lease.due():
            Delivery.objects.filter(
                campaign=campaign, claim_token=lease.token, status=DeliveryStatus.SENDING
            ).update(claimed_at=now)
            lease.extended_at = time.monotonic()
    pending.clear()
    lease.beat_if_due(campaign.pk)


def beat(campaign_id: int) -> None:
    """Tell /healthz, the campaign page and the watchdog that a live worker sends this campaign."""
    Campaign.objects.filter(pk=campaign_id).update(sending_beat_at=timezone.now())


_ACTIVITY_FIELDS = ("contact", "kind", "occurred_at", "actor", "summary", "data")


def _insert_activities(rows: list[tuple]) -> None:
    """Insert timeline entries (values in ``_ACTIVITY_FIELDS`` order) with one statement.

    Each value is prepared by its model field, as the ORM would; the ORM's
    bulk_create itself spent more time building SQL than the database writing.
    """
    fields = [Activity._meta.get_field(name) for name in _ACTIVITY_FIELDS]
    quote = connection.ops.quote_name
    # Only names from the model's own metadata go into the text; values are parameters.
    sql = (
        f"INSERT INTO {quote(Activity._meta.db_table)}"  # noqa: S608
        f" ({', '.join(quote(f.column) for f in fields)})"
        f" VALUES ({', '.join(['%s'] * len(fields))})"
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                [f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)]
                for row in rows
            ],
        )


def _still_sending(campaign_id: int) -> bool:
    status = Campaign.objects.filter(pk=campaign_id).values_list("status", flat=True).first()
    return status == CampaignStatus.SENDING


def finish_if_done(campaign_id: int) -> bool:
    open_rows = Delivery.objects.filter(
        campaign_id=campaign_id, status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING]
    ).exists()
    if open_rows:
        return False
    Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.SENDING).update(
        status=CampaignStatus.FINISHED, finished_at=timezone.now()
    )
    return True


def run_worker(
    campaign_id: int,
    messenger: Messenger,
    *,
    batch_size: int = 100,
    commit_every: int = 10,
    lease_seconds: float = 120.0,
    idle_wait: float = 0.5,
    max_idle_seconds: float | None = None,
    on_sent: Callable[[int], None] | None = None,
) -> WorkerStats:
    """Send a campaign until it is finished, paused or cancelled.

    ``commit_every`` bounds the messages accepted by the server but not yet
    recorded (the most a crash can duplicate). ``max_idle_seconds`` makes the
    worker give up waiting for retries due later (a task can be re-enqueued).
    """
    token = uuid.uuid4().hex
    lease = _Lease(token, lease_seconds)
    stats = WorkerStats()
    campaign = Campaign.objects.select_related("sending_domain", "purpose", "template").get(
        pk=campaign_id
    )
    sender = CampaignSender(campaign)
    idle_since = None
    sending = _SendThread(messenger, sender.signer.sign)
    worker = _Worker(campaign, sender, sending, lease, stats, commit_every, on_sent)
    try:
        while True:
            if not _still_sending(campaign_id):
                stats.stopped_because = StopReason.NOT_SENDING
                break
            # Also while throttled or waiting for retries: waiting on purpose is not a stall.
            lease.beat_if_due(campaign_id)
            limit, wait = allowance(campaign, batch_size)
            if limit == 0:
                time.sleep(wait)
                continue
            ids = claim(campaign_id, token, limit, lease_seconds=lease_seconds)
            lease.extended_at = time.monotonic()
            if not ids:
                if finish_if_done(campaign_id):
                    stats.stopped_because = StopReason.FINISHED
                    break
                idle_since = idle_since or time.monotonic()
                if (
                    max_idle_seconds is not None
                    and time.monotonic() - idle_since > max_idle_seconds
                ):
                    stats.stopped_because = StopReason.WAITING_FOR_RETRIES
                    break
                time.sleep(_idle_wait(campaign_id, idle_wait))
                continue
            idle_since = None
            stats.batches += 1
            if not _send_batch(worker, ids):
                stats.stopped_because = StopReason.NOT_SENDING
                break
    finally:
        sending.stop()
        # Whatever the SMTP thread finished is recorded, so it is not sent again.
        worker.on_sent = None
        with contextlib.suppress(Exception):
            worker.collect()
        worker.flush()
        release(campaign_id, token)
        messenger.close()
    return stats


def _idle_wait(campaign_id: int, default: float) -> float:
    next_due = Delivery.objects.filter(
        campaign_id=campaign_id, status=DeliveryStatus.QUEUED
    ).aggregate(next_due=Min("next_attempt_at"))["next_due"]
    if next_due is None:
        return default
    return max(0.05, min((next_due - timezone.now()).total_seconds(), 5.0))


class _SendThread:
    """Signs rendered messages and hands them to the messenger, on two threads.

    A message goes worker (render) -> signing thread (DKIM) -> SMTP thread
    (send), so the three steps of consecutive messages overlap: the RSA step
    (OpenSSL) and socket waits release the GIL. At most ``limit`` (3) messages
    are handed over and not yet collected by the worker: one signing, one
    sending, one waiting, while the worker renders the next. That bounds what
    a crash can duplicate (handed over, accepted, not recorded) and how many
    messages an unsubscribe can arrive too late for. Results come back in
    order and are recorded by the worker's thread, which owns the database
    connection.
    """

    def __init__(self, messenger: Messenger, sign: Callable[[bytes], bytes], limit: int = 3):
        self.messenger = messenger
        self.sign = sign
        self.limit = limit
        self.inbox: queue.Queue = queue.Queue(maxsize=limit)
        self.signed: queue.Queue = queue.Queue(maxsize=limit)
        self.outbox: queue.Queue = queue.Queue()
        self.outstanding = 0
        self.threads = [
            threading.Thread(target=self._sign, name="akkoord-dkim", daemon=True),
            threading.Thread(target=self._send, name="akkoord-smtp", daemon=True),
        ]
        for thread in self.threads:
            thread.start()

    def _sign(self) -> None:
        while True:
            item = self.inbox.get()
            if item is None:
                self.signed.put(None)
                return
            job, sender, recipient, raw = item
            try:
                self.signed.put((job, sender, recipient, self.sign(raw), None))
            except Exception as error:  # noqa: BLE001 - fails this message only
                failure = _unexpected(job.pk, error, FailureReason.SIGN)
                self.signed.put((job, sender, recipient, None, failure))

    def _send(self) -> None:
        while True:
            item = self.signed.get()
            if item is None:
                return
            job, sender, recipient, raw, error = item
            if error is not None:
                self.outbox.put((job, error))
                continue
            try:
                self.messenger.send(sender, recipient, raw)
            except DeliveryError as failure:
                self.outbox.put((job, failure))
            except Exception as error:  # noqa: BLE001 - fails this message only
                # The connection may be half-way through a command: start afresh,
                # and try this message again later (it may have been a passing
                # fault); it fails for good after MAX_ATTEMPTS.
                with contextlib.suppress(Exception):
                    self.messenger.close()
                failure = _unexpected(job.pk, error, FailureReason.SEND, temporary=True)
                self.outbox.put((job, failure))
            else:
                self.outbox.put((job, None))

    def submit(self, job, sender: str, recipient: str, raw: bytes) -> None:
        self.inbox.put((job, sender, recipient, raw))
        self.outstanding += 1

    def results(self, *, wait_all: bool = False, on_stall: Callable[[], None] | None = None):
        """Collected results; waits for all with ``wait_all``, else only to make room.

        ``on_stall`` is called once when a result keeps the worker waiting
        longer than ``STALL_SECONDS`` (a slow or hanging server): the worker
        records what was accepted so far, so a crash during the wait can only
        repeat the messages still in flight.
        """
        while self.outstanding:
            block = wait_all or self.outstanding >= self.limit
            try:
                item = self.outbox.get(block=block, timeout=STALL_SECONDS if block else None)
            except queue.Empty:
                if not block:
                    return
                if on_stall is not None:
                    on_stall()
                    on_stall = None
                item = self.outbox.get()
            self.outstanding -= 1
            yield item

    def stop(self) -> None:
        self.inbox.put(None)
        for thread in self.threads:
            thread.join(timeout=60)


def _unexpected(
    pk: int, error: Exception, reason: FailureReason, *, temporary: bool = False
) -> DeliveryError:
    """An error that is not the server's answer (a bug, a bad address, a broken key),
    as the failure of this one message: the campaign goes on.

    Logged with the delivery's id and the error's type only: the message of an
    encoding error quotes the address.
    """
    logger.warning("delivery %s: %s (%s)", pk, reason.value, type(error).__name__)
    return DeliveryError(
        f"{reason.value}: {type(error).__name__}", temporary=temporary, reason=reason
    )


def _record(job: _Job, error, pending: _Pending, stats: WorkerStats, on_sent) -> None:
    if error is not None:
        if error.temporary and job.attempts < MAX_ATTEMPTS:
            pending.retry.append((job.pk, job.attempts, error.reply))
            stats.retried += 1
        else:
            pending.failed.append(_Failed(job.pk, error.reply, error.reason))
            stats.failed += 1
            if error.code in HARD_BOUNCE_CODES:
                pending.bounced.append(job.contact_id)
        return
    reason = Reason(job.reason)
    pending.sent.append(
        _Sent(
            job=job,
            sent_at=timezone.now(),
            basis=ALLOWING_REASONS[reason].value,
            consent_seq=job.consent_seq if reason != Reason.OK_CUSTOMER else None,
        )
    )
    stats.sent += 1
    if on_sent is not None:
        on_sent(job.pk)


def _status_and_consent_marker(campaign_id: int) -> tuple[str | None, tuple]:
    """The campaign's status, and a marker that changes whenever a ledger event
    is appended or an address is suppressed.

    Asked once per commit group, so it is one hand-written query: through the
    ORM these were three, and building them cost more than running them.
    """
    quote = connection.ops.quote_name
    # Only names from the models' own metadata go into the text; values are parameters.
    sql = (
        f"SELECT (SELECT status FROM {quote(Campaign._meta.db_table)} WHERE id = %s),"  # noqa: S608
        f" (SELECT seq FROM {quote(LedgerHead._meta.db_table)} WHERE id = 1),"
        f" (SELECT MAX(id) FROM {quote(Suppression._meta.db_table)})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [campaign_id])
        status, head, suppressed = cursor.fetchone()
    return status, (head, suppressed)


@dataclass
class _Worker:
    """What one worker holds while it sends a campaign."""

    campaign: Campaign
    sender: CampaignSender
    sending: _SendThread
    lease: _Lease
    stats: WorkerStats
    commit_every: int
    on_sent: Callable[[int], None] | None
    pending: _Pending = field(default_factory=_Pending)

    def collect(self, *, wait_all: bool = False, on_stall=None) -> None:
        """Take the SMTP thread's results into ``pending``."""
        for job, error in self.sending.results(wait_all=wait_all, on_stall=on_stall):
            _record(job, error, self.pending, self.stats, self.on_sent)

    def flush(self) -> None:
        _flush(self.campaign, self.sender, self.pending, self.lease)

    def skip(self, pk: int, reason: str) -> None:
        self.pending.skipped.append((pk, reason))
        self.stats.skipped += 1

    def fail_before_sending(self, pk: int, error: Exception, reason: FailureReason) -> None:
        failure = _unexpected(pk, error, reason)
        self.pending.failed.append(_Failed(pk, failure.reply, failure.reason))
        self.stats.failed += 1


def _send_batch(worker: _Worker, ids: list[int]) -> bool:
    """Send one claimed batch; False when the campaign stopped being sent meanwhile."""
    campaign, sender = worker.campaign, worker.sender
    rows = list(
        Delivery.objects.filter(pk__in=ids).values_list("pk", "contact_id", "language", "attempts")
    )
    contact_ids = [row[1] for row in rows if row[1] is not None]
    contacts = Contact.objects.only(
        "pk", "email", "first_name", "last_name", "organisation_name", "ledger_key"
    ).in_bulk(contact_ids)
    verdicts = sender.decisions(contact_ids)
    measured = tracking.consenting(contact_ids)
    marker = _status_and_consent_marker(campaign.pk)[1]
    rows.sort()
    for index, (pk, contact_id, language, attempts) in enumerate(rows):
        contact = contacts.get(contact_id)
        # Erased between the two queries: gone from the verdicts too.
        if contact is None or contact_id not in verdicts:
            worker.skip(pk, "erased")
            continue
        reason, seq = verdicts[contact_id]
        if Reason(reason) not in ALLOWING_REASONS:
            worker.skip(pk, reason)
            continue
        try:
            envelope_address(contact.email)
        except UnicodeError as error:
            worker.fail_before_sending(pk, error, FailureReason.BAD_ADDRESS)
            continue
        tracked = contact_id in measured
        try:
            raw, message_id, subject = sender.render_unsigned(
                contact, language, tracked_delivery=pk if tracked else None
            )
        except Exception as error:  # noqa: BLE001 - one recipient never stops the others
            worker.fail_before_sending(pk, error, FailureReason.RENDER)
            continue
        job = _Job(
            pk, contact_id, language, attempts + 1, reason, seq, message_id, subject, tracked
        )
        worker.sending.submit(job, envelope_sender(campaign, pk), contact.email, raw)
        worker.collect(on_stall=worker.flush)
        if len(worker.pending) >= worker.commit_every:
            worker.flush()
            status, now = _status_and_consent_marker(campaign.pk)
            if status != CampaignStatus.SENDING:
                worker.collect(wait_all=True)
                worker.flush()
                return False
            if now != marker:
                # Someone unsubscribed, objected or was erased: ask the engine
                # again for the rest of this batch before sending any of it.
                marker = now
                rest = [row[1] for row in rows[index + 1 :] if row[1] is not None]
                verdicts = sender.decisions(rest)
                measured = tracking.consenting(rest)
    worker.collect(wait_all=True, on_stall=worker.flush)
    worker.flush()
    return True
