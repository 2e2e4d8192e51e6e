"""Response headers that keep every page free of third parties."""

# Everything comes from Akkoord itself: no fonts, scripts or trackers from
# elsewhere (DOMAIN §8). Pages that must be framed by other sites (embedded
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
