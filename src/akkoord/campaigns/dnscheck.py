"""Checking a sending domain's SPF, DKIM and DMARC records (mail that fails them is refused or marked as spam).

Uses dnspython; tests pass a stub resolver. Each check returns a status
(ok / warn / bad) and an explanation a staff user can act on.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.exception
import dns.resolver
from django.utils.translation import gettext as _

from akkoord.campaigns.models import SendingDomain


@dataclass
class Check:
    name: str
    record_name: str
    status: str  # ok, warn, bad
    found: list[str]
    explanation: str


def _txt(resolver, name: str) -> list[str]:
    try:
        answer = resolver.resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers):
        return []
    except dns.exception.Timeout:
        return ["(timeout)"]
    return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


def _tags(record: str) -> dict[str, str]:
    tags = {}
    for part in record.split(";"):
        key, _sep, value = part.strip().partition("=")
        if key:
            tags[key.strip().lower()] = value.strip()
    return tags


def check_spf(resolver, domain: str) -> Check:
    records = [r for r in _txt(resolver, domain) if r.lower().startswith("v=spf1")]
    if not records:
        return Check(
            "SPF",
            domain,
            "bad",
            [],
            _(
                "No SPF record. Publish a TXT record starting with v=spf1 that names your mail "
                'server, e.g. "v=spf1 include:your-provider ~all".'
            ),
        )
    if len(records) > 1:
        return Check(
            "SPF",
            domain,
            "bad",
            records,
            _("More than one SPF record: receivers treat this as an error. Merge them into one."),
        )
    record = records[0].lower()
    if record.rstrip().endswith("+all"):
        return Check(
            "SPF",
            domain,
            "bad",
            records,
            _("The record ends with +all: anyone may send in your name. Use ~all or -all."),
        )
    if not (record.rstrip().endswith("-all") or record.rstrip().endswith("~all")):
        return Check(
            "SPF",
            domain,
            "warn",
            records,
            _(
                "The record does not end with ~all or -all, so it does not say what to do with "
                "other senders."
            ),
        )
    return Check("SPF", domain, "ok", records, _("SPF record found."))


def check_dkim(resolver, domain: SendingDomain) -> Check:
    name = domain.dkim_record_name()
    records = [r for r in _txt(resolver, name) if "p=" in r]
    expected = _tags(domain.dkim_record_value())["p"]
    if not records:
        return Check(
            "DKIM",
            name,
            "bad",
            [],
            _(
                "No DKIM key published. Publish the TXT record shown on this page, or receivers "
                "cannot verify the signature Akkoord puts on every mail."
            ),
        )
    published = _tags(records[0]).get("p", "").replace(" ", "")
    if published != expected:
        return Check(
            "DKIM",
            name,
            "bad",
            records,
            _(
                "A DKIM key is published, but it is not Akkoord's key for this selector. Replace it "
                "with the record shown on this page."
            ),
        )
    return Check("DKIM", name, "ok", records, _("The published DKIM key matches Akkoord's key."))


def check_dmarc(resolver, domain: str) -> Check:
    name = f"_dmarc.{domain}"
    records = [r for r in _txt(resolver, name) if r.lower().startswith("v=dmarc1")]
    if not records:
        return Check(
            "DMARC",
            name,
            "bad",
            [],
            _(
                'No DMARC record. Publish e.g. "v=DMARC1; p=none; rua=mailto:dmarc@your-domain" '
                "and tighten to quarantine or reject once reports look clean."
            ),
        )
    policy = _tags(records[0]).get("p", "").lower()
    if policy == "none":
        return Check(
            "DMARC",
            name,
            "warn",
            records,
            _(
                "DMARC policy is 'none': receivers only report. Move to quarantine or reject once "
                "SPF and DKIM pass."
            ),
        )
    if policy in ("quarantine", "reject"):
        return Check(
            "DMARC", name, "ok", records, _("DMARC record with policy %(p)s.") % {"p": policy}
        )
    return Check("DMARC", name, "bad", records, _("The DMARC record has no valid p= policy."))


def check_domain(domain: SendingDomain, resolver=None) -> list[Check]:
    resolver = resolver or dns.resolver.Resolver()
    resolver.lifetime = getattr(resolver, "lifetime", 5) or 5
    return [
        check_spf(resolver, domain.domain),
        check_dkim(resolver, domain),
        check_dmarc(resolver, domain.domain),
    ]
