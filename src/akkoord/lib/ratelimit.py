"""Fixed-window rate limits kept in the shared cache (database or Redis)."""

import hashlib
import time

from django.core.cache import cache


def _key(scope: str, identity: str, window: int) -> str:
    bucket = int(time.time() // window)
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    return f"rl:{scope}:{digest}:{bucket}"


def hit(scope: str, identity: str, *, limit: int, window: int) -> bool:
    """Count one hit; return True while the hit is within ``limit`` per ``window`` seconds.

    Identities are hashed so that the cache holds no addresses or IPs in clear.
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


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"
