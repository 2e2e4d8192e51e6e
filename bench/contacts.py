"""Benchmark: the staff contact list and the audience count on a large population.

    python bench/contacts.py [--size N] [--database URL] [--repeat R] [--keep] [--reuse]

--size: contacts to load (default 100000). --database: a PostgreSQL URL whose
database this script may DROP and re-create (it is dropped again at the end);
without it a temporary SQLite database is used (removed at the end).
--repeat: timed repetitions per case (default 10), after one untimed warm-up.
--keep: keep the database (and the temporary data directory) afterwards.
--reuse: measure the population an earlier run left with --keep in the
--database given (it must hold --size contacts): nothing is dropped or loaded
(pending migrations are applied), the database is kept, and the load figures
of the result (``load_seconds``, ``load_contacts_per_s``,
``objection_seconds``) are null. The rest runs as usual: VACUUM ANALYZE, the
ledger check, every case and every check.

Loads the population with ``_contacts_helpers.populate`` (the project's bulk
paths: COPY/bulk_create of contacts, purchases and timeline, the ledger's batch
append for consent events with proofs and derived ConsentState, record_event
for objections): two purposes (newsletter with double opt-in, product updates
without) with mixed states (granted, pending, withdrawn, unproven, none), ~40%
customers with purchases, ~3% objections (some overridden by a later consent),
bounces, complaints and suppressions. The ledger is verified and the derived
state replayed (no drift allowed). On PostgreSQL the database is VACUUM
ANALYZEd after the load (what autovacuum does after a bulk insert: statistics
and the visibility map); SQLite is measured as the project leaves it.

Then measures, each case alternating with its floor, in the same run:

* ``list_*``: GET of the staff contact list (``contacts:list``) through Django's
  test client, signed in as a marketer with a verified TOTP device: the first
  page, the last page, a search for a common last name, a search for one
  address, and the consent filter for several (purpose, state) pairs. Floor:
  the bare SQL ``SELECT * FROM contacts_contact [same WHERE] ORDER BY
  created_at DESC, id DESC LIMIT 50 [OFFSET]``. Also reported per case:
  ``count_floor`` (bare ``SELECT COUNT(*)`` with the same WHERE), because the
  page shows the number of matches and so must count them.
* ``audience_*``: ``consent.audiences.lawful_recipients(newsletter,
  marketing_similar, audience, today=..., customer_months=<organisation's>)
  .count()`` for each of the three audiences. Floor: ``SELECT COUNT(*) FROM
  consent_consentstate WHERE purpose_id = %s``; also reported: ``join_floor``,
  the contact table LEFT JOINed to that purpose's state rows and counted.

* ``segment_count``: the live count of a segment with three conditions
  (language English, a purchase of a bicycle or e-bike in the last two years,
  the tag "fair-2026"), as the segment editor asks it
  (``segments.services.count``). Floor: the same count as bare SQL
  (``EXISTS`` on purchases and tag rows, category and tag ids resolved).
* ``audience_segment``: the lawful audience of a similar-products campaign
  about bicycles (customers + opt-ins) intersected with that segment, counted
  as the campaign preview does. Floor: the segment's bare SQL count above.

Checks: the page's count equals the floor's count; the audience counts equal
what the pure engine (``consent.rules.decide``) gives on the same facts.

DEBUG is forced off and no SQL is logged; nothing personal is printed (the data
is made up anyway). One line per case, then the last line, one JSON object:
the headline ``p50_ms``/``p95_ms``/``floor_*``/``vs_floor`` are the list's first
page; ``audience_*`` headline fields are the customers + opt-ins count;
``cases`` holds every case. ``vs_floor`` is floor_p50_ms / p50_ms (as in
import.py and send.py: the project's speed as a fraction of the floor's).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import _contacts_helpers as population  # noqa: E402
import _import_helpers as helpers  # noqa: E402

COMMON_NAME = "jansen"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--database", default="")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Measure the population an earlier --keep run left in --database (no load).",
    )
    parser.add_argument(
        "--allow-drift",
        action="store_true",
        help="Report derived consent states that differ from the ledger instead of stopping.",
    )
    args = parser.parse_args()
    if args.reuse and not args.database:
        parser.error("--reuse needs the --database an earlier --keep run left")

    workdir = Path(tempfile.mkdtemp(prefix="akkoord-bench-contacts-"))
    os.environ["AKKOORD_DATA_DIR"] = str(workdir / "data")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "akkoord.settings")
    os.environ["AKKOORD_DEBUG"] = "0"
    os.environ["AKKOORD_LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("AKKOORD_TASK_BACKEND", "database")
    if args.database:
        if not args.reuse:
            helpers.recreate_postgres(args.database)
        os.environ["DATABASE_URL"] = args.database
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    assert not settings.DEBUG, "DEBUG must be off for a benchmark"
    call_command("migrate", verbosity=0)

    from akkoord.contacts.signals import contact_registered

    # Nothing here registers contacts one by one, but make sure no listener
    # queues privacy mails in the middle of the measurement.
    contact_registered.receivers.clear()
    contact_registered.sender_receivers_cache.clear()

    try:
        result = run(args, connection)
    finally:
        connection.close()
        if args.database and not (args.keep or args.reuse):
            helpers.drop_postgres(args.database)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result))


def run(args, connection) -> dict:
    from django.utils import timezone

    from akkoord.accounts.models import Role, User
    from akkoord.conftest import make_user, signed_in_client
    from akkoord.consent.ledger import rebuild_state, verify_ledger
    from akkoord.consent.models import ConsentEvent, ConsentState, Purpose
    from akkoord.consent.rules import Audience, MailClass
    from akkoord.contacts.models import Contact
    from akkoord.organisation.models import Organisation

    def progress(done):
        print(f"\r{done:,} contacts, rss {helpers.rss_mb():.0f} MB", end="", file=sys.stderr)

    if args.reuse:
        stats, load_s = reused_population(), None
    else:
        started = time.perf_counter()
        stats = population.populate(args.size, progress=progress)
        load_s = time.perf_counter() - started
        print(f"\nloaded in {load_s:.1f} s: {stats}", file=sys.stderr)
    assert Contact.objects.count() == args.size

    vacuum_s = 0.0
    if connection.vendor == "postgresql":
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        vacuum_s = time.perf_counter() - started

    started = time.perf_counter()
    verified = verify_ledger()
    drift = rebuild_state(fix=False).drift
    check_s = time.perf_counter() - started
    assert verified.ok, verified.problem
    if drift and args.allow_drift:
        print(f"WARNING: {len(drift)} derived states differ from the ledger", file=sys.stderr)
    else:
        assert not drift, f"{len(drift)} derived states differ from the ledger"
    print(f"ledger verified, no drift ({check_s:.1f} s)", file=sys.stderr)

    newsletter = Purpose.objects.get(key="nieuwsbrief")
    updates = Purpose.objects.get(key="productupdates")
    distribution = {
        purpose.key: dict(
            ConsentState.objects.filter(purpose=purpose)
            .values_list("status")
            .annotate(n=django_count())
            .order_by()
        )
        for purpose in (newsletter, updates)
    }
    customers = Contact.objects.filter(last_purchase_on__isnull=False).count()
    objected = Contact.objects.filter(objected_at__isnull=False).count()

    user = User.objects.filter(email="bench.marketer@example.com").first() or make_user(
        "bench.marketer@example.com", Role.MARKETER
    )
    client = signed_in_client(user)
    qn = connection.ops.quote_name
    contact_table = qn(Contact._meta.db_table)
    state_table = qn(ConsentState._meta.db_table)
    like = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
    search_where = " OR ".join(
        f"{qn(c)} {like} %s" for c in ("email", "first_name", "last_name", "organisation_name")
    )
    exists = (
        f"EXISTS (SELECT 1 FROM {state_table} s WHERE s.contact_id = {contact_table}.id "
        "AND s.purpose_id = %s AND s.status {op} %s)"
    )
    last_page = (args.size + 49) // 50
    cases = [
        ("list_first_page", {}, "", [], 0),
        ("list_last_page", {"page": last_page}, "", [], (last_page - 1) * 50),
        ("list_search_name", {"q": COMMON_NAME}, search_where, [f"%{COMMON_NAME}%"] * 4, 0),
    ]
    one = population.address(args.size // 2)
    cases.append(("list_search_address", {"q": one}, search_where, [f"%{one}%"] * 4, 0))
    for purpose, states in (
        (newsletter, ["granted", "pending", "withdrawn", "none"]),
        (updates, ["granted", "withdrawn", "none"]),
    ):
        for state in states:
            if state == "none":
                where, values = "NOT " + exists.format(op="<>"), [purpose.pk, "none"]
            else:
                where, values = exists.format(op="="), [purpose.pk, state]
            params = {"purpose": purpose.pk, "state": state}
            cases.append((f"list_{purpose.key}_{state}", params, where, values, 0))

    results = {}
    for name, params, where, values, offset in cases:
        where_sql = f" WHERE {where}" if where else ""
        select_sql = (
            f"SELECT * FROM {contact_table}{where_sql} "
            f"ORDER BY {qn('created_at')} DESC, {qn('id')} DESC LIMIT 50 OFFSET {offset}"
        )
        count_sql = f"SELECT COUNT(*) FROM {contact_table}{where_sql}"

        def page(params=params):
            response = client.get("/contacts/", params)
            assert response.status_code == 200, response.status_code
            return response

        def floor(sql=select_sql, values=values):
            with connection.cursor() as cursor:
                cursor.execute(sql, values)
                return cursor.fetchall()

        def count_floor(sql=count_sql, values=values):
            with connection.cursor() as cursor:
                cursor.execute(sql, values)
                return cursor.fetchone()[0]

        shown = page_count(page())
        expected = count_floor()
        assert shown == expected, f"{name}: the page says {shown}, the floor counts {expected}"
        floor()
        results[name] = measure(
            args.repeat, page, floor, {"count_floor": count_floor}, matches=expected
        )
        report(name, results[name])

    today = timezone.localdate()
    months = Organisation.current().customer_relationship_months
    audiences = [Audience.CUSTOMERS, Audience.CUSTOMERS_AND_OPTINS, Audience.OPTINS]
    engine = population.engine_allowed(
        newsletter,
        audiences,
        mail_class=MailClass.MARKETING_SIMILAR,
        today=today,
        customer_months=months,
    )
    from akkoord.consent.audiences import lawful_recipients

    floor_sql = f"SELECT COUNT(*) FROM {state_table} WHERE {qn('purpose_id')} = %s"
    join_sql = (
        f"SELECT COUNT(*) FROM {contact_table} LEFT JOIN {state_table} s "
        f"ON s.contact_id = {contact_table}.id AND s.purpose_id = %s"
    )
    for audience in audiences:

        def count(audience=audience):
            return lawful_recipients(
                newsletter,
                MailClass.MARKETING_SIMILAR,
                audience,
                today=today,
                customer_months=months,
            ).count()

        def floor(sql=floor_sql):
            with connection.cursor() as cursor:
                cursor.execute(sql, [newsletter.pk])
                return cursor.fetchone()[0]

        def join_floor(sql=join_sql):
            with connection.cursor() as cursor:
                cursor.execute(sql, [newsletter.pk])
                return cursor.fetchone()[0]

        lawful = count()
        if lawful != len(engine[audience]):
            disagreement(newsletter, audience, engine[audience], today, months)
        floor()
        name = f"audience_{audience.value}"
        results[name] = measure(
            args.repeat, count, floor, {"join_floor": join_floor}, recipients=lawful
        )
        del engine[audience]
        report(name, results[name])

    results.update(segment_cases(args, connection, newsletter, today, months))

    head = results["list_first_page"]
    audience = results["audience_customers_and_optins"]
    return {
        "workload": "contacts",
        "size": args.size,
        "database": connection.vendor,
        "repeat": args.repeat,
        "p50_ms": head["p50_ms"],
        "p95_ms": head["p95_ms"],
        "floor_p50_ms": head["floor_p50_ms"],
        "floor_p95_ms": head["floor_p95_ms"],
        "vs_floor": head["vs_floor"],
        "audience_p50_ms": audience["p50_ms"],
        "audience_p95_ms": audience["p95_ms"],
        "audience_floor_p50_ms": audience["floor_p50_ms"],
        "audience_floor_p95_ms": audience["floor_p95_ms"],
        "audience_vs_floor": audience["vs_floor"],
        "segment_p50_ms": results["segment_count"]["p50_ms"],
        "segment_p95_ms": results["segment_count"]["p95_ms"],
        "segment_floor_p50_ms": results["segment_count"]["floor_p50_ms"],
        "segment_vs_floor": results["segment_count"]["vs_floor"],
        "audience_segment_p50_ms": results["audience_segment"]["p50_ms"],
        "audience_segment_p95_ms": results["audience_segment"]["p95_ms"],
        "audience_segment_vs_floor": results["audience_segment"]["vs_floor"],
        "slowest_list_case": max(
            (n for n in results if n.startswith("list_")), key=lambda n: results[n]["p50_ms"]
        ),
        "load_seconds": None if load_s is None else round(load_s, 1),
        "load_contacts_per_s": None if load_s is None else round(args.size / load_s),
        "objection_seconds": stats["objection_seconds"],
        "vacuum_analyze_seconds": round(vacuum_s, 1),
        "check_seconds": round(check_s, 1),
        "consent_events": ConsentEvent.objects.count(),
        "purchases": stats["purchases"],
        "customers": customers,
        "objected": objected,
        "suppressions": stats["suppressions"],
        "states": distribution,
        "ledger_verified": verified.ok,
        "state_drift": len(drift),
        "engine_agrees": True,
        "cases": results,
        "peak_rss_mb": round(helpers.peak_rss_mb()),
    }


def reused_population() -> dict:
    """The figures ``populate`` reports, counted in a population loaded earlier."""
    from akkoord.consent.models import Suppression
    from akkoord.contacts.models import Purchase

    return {
        "purchases": Purchase.objects.count(),
        "suppressions": Suppression.objects.count(),
        "objection_seconds": None,
    }


def segment_cases(args, connection, newsletter, today, months) -> dict:
    """The segment editor's live count and a campaign audience narrowed by the segment."""
    from datetime import timedelta

    from akkoord.consent.audiences import lawful_recipients
    from akkoord.consent.rules import Audience, MailClass
    from akkoord.contacts.models import Contact, ProductCategory, Purchase
    from akkoord.segments.conditions import matching_contacts
    from akkoord.segments.models import Tag
    from akkoord.segments.services import count as segment_count

    since = today - timedelta(days=730)
    bikes = ["bicycles", "ebikes"]
    definition = {
        "match": "all",
        "conditions": [
            {"field": "language", "op": "equals", "value": "en"},
            {
                "field": "purchase",
                "op": "has",
                "value": {"categories": bikes, "on_or_after": since.isoformat()},
            },
            {"field": "tag", "op": "has", "value": population.TAG},
        ],
    }
    qn = connection.ops.quote_name
    category_ids = list(ProductCategory.objects.filter(key__in=bikes).values_list("id", flat=True))
    tag_id = Tag.objects.get(name=population.TAG).pk
    contact_table = qn(Contact._meta.db_table)
    floor_sql = (
        f"SELECT COUNT(*) FROM {contact_table} c WHERE c.{qn('language')} = %s "
        f"AND EXISTS (SELECT 1 FROM {qn(Purchase._meta.db_table)} p WHERE p.contact_id = c.id "
        f"AND p.category_id IN ({', '.join(['%s'] * len(category_ids))}) "
        f"AND p.purchased_on >= %s) "
        f"AND EXISTS (SELECT 1 FROM {qn(Tag.contacts.through._meta.db_table)} t "
        f"WHERE t.contact_id = c.id AND t.tag_id = %s)"
    )
    values = ["en", *category_ids, since, tag_id]

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(floor_sql, values)
            return cursor.fetchone()[0]

    def live_count():
        return segment_count(definition)

    def narrowed_audience():
        return lawful_recipients(
            newsletter,
            MailClass.MARKETING_SIMILAR,
            Audience.CUSTOMERS_AND_OPTINS,
            today=today,
            customer_months=months,
            similar_categories=frozenset(bikes),
            contacts=matching_contacts(definition),
        ).count()

    matches = live_count()
    assert matches == floor(), f"segment: the project counts {matches}, the floor {floor()}"
    narrowed = narrowed_audience()
    assert narrowed <= matches, "a segment can only narrow the audience"
    results = {
        "segment_count": measure(args.repeat, live_count, floor, {}, matches=matches),
        "audience_segment": measure(args.repeat, narrowed_audience, floor, {}, recipients=narrowed),
    }
    for name, result in results.items():
        report(name, result)
    return results


def disagreement(purpose, audience, engine_ids: set, today, months) -> None:
    """Stop with the first contacts (ids and reasons only) where query and engine differ."""
    from akkoord.consent.audiences import facts_for, with_decisions
    from akkoord.consent.rules import MailClass, decide

    decided = with_decisions(
        purpose, MailClass.MARKETING_SIMILAR, audience, today=today, customer_months=months
    )
    lines = []
    for contact in decided.iterator(chunk_size=2000):
        facts = facts_for(contact, purpose)
        decision = decide(
            facts, MailClass.MARKETING_SIMILAR, audience, today=today, customer_months=months
        )
        if decision.reason.value != contact.reason or decision.allowed != (
            contact.pk in engine_ids
        ):
            lines.append(
                f"contact {contact.pk}: query {contact.reason}, engine {decision.reason.value}, "
                f"bulk engine {'allowed' if contact.pk in engine_ids else 'not allowed'}, "
                f"status {facts.consent.status.value}, objected {facts.objected_at is not None}, "
                f"suppressed {facts.suppressed_at is not None}, "
                f"last purchase {facts.last_purchase_on}, offered {facts.objection_offered_at_sale}"
            )
            if len(lines) >= 10:
                break
    raise AssertionError(
        f"{audience}: the query and the engine disagree (today {today}, {months} months):\n"
        + "\n".join(lines or ["(no contact differs on a second look)"])
    )


def django_count():
    from django.db.models import Count

    return Count("id")


def page_count(response) -> int:
    """The "N contacts" line of the list page, as a number."""
    match = re.search(r'id="result-count">([^<]*)<', response.content.decode())
    assert match, "the list page has no result count"
    return int(re.sub(r"\D", "", match.group(1)) or 0)


def measure(repeat: int, project, floor, extras: dict, **info) -> dict:
    """Time ``project`` and ``floor`` (and ``extras``) alternately, ``repeat`` times."""
    project()  # warm-up (template loading, statement caches)
    samples = {"project": [], "floor": [], **{name: [] for name in extras}}
    for _ in range(repeat):
        samples["project"].append(population.timed(project))
        samples["floor"].append(population.timed(floor))
        for name, function in extras.items():
            samples[name].append(population.timed(function))
    result = {}
    for key, label in (("project", ""), ("floor", "floor_"), *((n, f"{n}_") for n in extras)):
        result[f"{label}p50_ms"] = round(population.percentile(samples[key], 0.5), 2)
        result[f"{label}p95_ms"] = round(population.percentile(samples[key], 0.95), 2)
    result["vs_floor"] = round(result["floor_p50_ms"] / result["p50_ms"], 4)
    result.update(info)
    return result


def report(name: str, result: dict) -> None:
    others = (k for k in result if k.endswith("_p50_ms") and k != "floor_p50_ms")
    extra = next(others, "floor_p50_ms")
    print(
        f"{name:32} p50 {result['p50_ms']:8.1f} ms  p95 {result['p95_ms']:8.1f} ms  | "
        f"floor p50 {result['floor_p50_ms']:7.2f} ms  p95 {result['floor_p95_ms']:7.2f} ms  | "
        f"{extra.removesuffix('_p50_ms')} p50 {result[extra]:7.1f} ms  | "
        f"vs_floor {result['vs_floor']}",
        flush=True,
    )


if __name__ == "__main__":
    main()
