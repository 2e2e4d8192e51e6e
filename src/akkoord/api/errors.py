"""What every API module shares: the error type, the error responses, the scope check."""

from __future__ import annotations

from django.utils.translation import gettext as _

from akkoord.api import schemas as s
from akkoord.api.models import ApiKey, Scope
from akkoord.lib.db import MAX_ID  # noqa: F401 (the API modules import it from here)

ERRORS = {code: s.ErrorOut for code in (400, 401, 403, 404, 409, 422, 429)}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


def need(request, scope: Scope) -> ApiKey:
    key = request.auth
    if not key.allows(scope):
        raise ApiError(
            403,
            "forbidden",
            _("This key lacks the scope %(scope)s.") % {"scope": scope.value},
        )
    return key
