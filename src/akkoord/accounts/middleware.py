"""Sign staff users out after a period without requests."""

import time

from django.conf import settings
from django.contrib.auth import logout

_KEY = "akkoord_last_seen"


class StaffSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            last_seen = request.session.get(_KEY)
            limit = settings.AKKOORD_IDLE_TIMEOUT_MINUTES * 60
            if last_seen is not None and now - last_seen > limit:
                logout(request)
                request.session["akkoord_timed_out"] = True
            else:
                request.session[_KEY] = now
        return self.get_response(request)
