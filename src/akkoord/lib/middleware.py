"""Response headers: every page free of third parties, personal pages never cached."""

from django.utils.cache import add_never_cache_headers

# Everything comes from Akkoord itself: no fonts, scripts or trackers from
# elsewhere (clickjacking). Pages that must be framed by other sites (embedded
# forms) set their own frame-ancestors.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


class PrivacyHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", "interest-cohort=(), browsing-topics=()")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


class NoStoreMiddleware:
    """Tell browsers and proxies to keep no copy of pages that show personal data.

    Every response to a signed-in staff user (contacts, caught mails, exports:
    a shared computer's back button or disk cache must not show them to the
    next person) or to an API client with a valid key, and every page reached
    through a person's signed link (the customer centre, confirmation,
    unsubscribe and re-permission pages), which all name the person.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        already = "no-store" in response.get("Cache-Control", "")
        personal = (
            _for_a_staff_user(request)
            or _for_an_api_client(request)
            or _reached_by_a_personal_link(request)
        )
        if personal and not already:
            add_never_cache_headers(response)
        return response


def _for_a_staff_user(request) -> bool:
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated


def _for_an_api_client(request) -> bool:
    return getattr(request, "api_key", None) is not None


def _reached_by_a_personal_link(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and "token" in match.kwargs
