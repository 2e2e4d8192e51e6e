"""Rate limits kept in the shared cache (database or Redis), and the client address they count by."""

import functools
import hashlib
import ipaddress
import time

from django.conf import settings
from django.core.cache import cache


def _key(scope: str, identity: str, window: int) -> str:
    bucket = int(time.time() // window)
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    return f"rl:{scope}:{digest}:{bucket}"


def hit(scope: str, identity: str, *, limit: int, window: int) -> bool:
    """Count one hit; return True while the hit is within ``limit`` per ``window`` seconds.

    Fixed windows: good enough for floods of public requests. Identities are
    hashed so that the cache holds no addresses or IPs in clear.
    """
    key = _key(scope, identity, window)
    if cache.add(key, 1, timeout=window + 5):
        return True
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=window + 5)
        count = 1
    return count <= limit


Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_ip(request) -> str:
    """The address of the client that made ``request``, for limits, proofs and logs.

    Without ``AKKOORD_BEHIND_PROXY`` this is the peer address (``REMOTE_ADDR``)
    and ``X-Forwarded-For`` is ignored: anyone can send that header. Behind a
    proxy, when the peer is one of ``AKKOORD_TRUSTED_PROXIES``, the header is
    read from the right (each proxy appends the address it saw) and the first
    address that is not itself a trusted proxy is the client. An entry that is
    not an IP address ends the walk at the last address known to be good, so a
    forged or broken header never yields a made-up client.
    """
    peer = _parse(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return "unknown"
    if not getattr(settings, "AKKOORD_BEHIND_PROXY", False):
        return str(peer)
    trusted = _networks(tuple(getattr(settings, "AKKOORD_TRUSTED_PROXIES", ())))
    current = peer
    for entry in reversed(_forwarded_for(request)):
        if not _is_trusted(current, trusted):
            break
        forwarded = _parse(entry)
        if forwarded is None:
            break
        current = forwarded
    return str(current)


def _forwarded_for(request) -> list[str]:
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return [part.strip() for part in header.split(",") if part.strip()]


def _parse(text: str) -> Address | None:
    """An IP address from ``text``; None for anything else (ports and brackets are not accepted)."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: Address, trusted: tuple[Network, ...]) -> bool:
    return any(address.version == network.version and address in network for network in trusted)


@functools.lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)
