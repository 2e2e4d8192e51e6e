"""Bot checks for rendered forms: a honeypot field and a signed render time.

Every rendered form carries ``_t``, a signed token naming the form and version
shown and (for the hosted page and the script embed) when it was rendered. A
submission faster than ``AKKOORD_SIGNUP_MIN_SECONDS`` is refused with a
message; one with the honeypot filled is answered as if it succeeded and
nothing is stored. The plain-HTML embed is static markup pasted into another
site, so its token has no render time: only the honeypot and the rate limits
apply to it.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core import signing

HONEYPOT = "website"
_SALT = "akkoord.signup.render"


class GuardTripped(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code  # "honeypot", "too_fast", "stale", "bad_token"


def min_seconds() -> float:
    return float(getattr(settings, "AKKOORD_SIGNUP_MIN_SECONDS", 3))


def render_token(version, *, timed: bool = True) -> str:
    payload = {"f": version.form_id, "v": version.number}
    if timed:
        payload["t"] = int(time.time())
    return signing.dumps(payload, salt=_SALT)


def read_token(token: str, form) -> tuple[int, int | None]:
    """(version number, render time or None); GuardTripped("bad_token") if not ours."""
    try:
        payload = signing.loads(token or "", salt=_SALT)
    except signing.BadSignature:
        raise GuardTripped("bad_token") from None
    if not isinstance(payload, dict) or payload.get("f") != form.pk:
        raise GuardTripped("bad_token")
    number = payload.get("v")
    rendered = payload.get("t")
    if not isinstance(number, int) or (rendered is not None and not isinstance(rendered, int)):
        raise GuardTripped("bad_token")
    return number, rendered


def check(post, form) -> int:
    """Run the checks on a submitted form; returns the version number shown."""
    number, rendered = read_token(post.get("_t", ""), form)
    if post.get(HONEYPOT, ""):
        raise GuardTripped("honeypot")
    if rendered is not None:
        age = time.time() - rendered
        if age < min_seconds():
            raise GuardTripped("too_fast")
        if age > 24 * 3600:
            raise GuardTripped("stale")
    return number
