"""The staff decorator (from accounts), with a stand-in of the same contract
while the accounts app does not provide it yet."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

try:
    from akkoord.accounts.decorators import staff_required
except ImportError:  # pragma: no cover - removed once accounts ships the decorator

    def staff_required(view=None, *, change=False, admin=False):
        def decorate(fn):
            @wraps(fn)
            def wrapper(request, *args, **kwargs):
                user = request.user
                if not user.is_authenticated or not user.is_verified():
                    return redirect_to_login(request.get_full_path())
                if admin and not user.is_administrator:
                    raise PermissionDenied
                if change and not user.can_change_data:
                    raise PermissionDenied
                return fn(request, *args, **kwargs)

            return wrapper

        return decorate(view) if view is not None else decorate


__all__ = ["staff_required"]
