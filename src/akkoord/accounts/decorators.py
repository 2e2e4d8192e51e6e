"""Access control for staff views: every staff page needs a signed-in user with a second factor, and a role that allows it.

``@staff_required``                 any signed-in, 2FA-verified staff user (read)
``@staff_required(change=True)``    administrator or marketer (the DPO is read-only)
``@staff_required(admin=True)``     administrator only

A visitor who is not signed in goes to the sign-in page; a user who gave a
password but not yet a second factor goes to the code step, or to enrolment
when they have no confirmed authenticator yet. All with ``?next=``.
"""

from functools import wraps

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _


def _redirect_with_next(url_name: str, request):
    from django.http import HttpResponseRedirect

    url = reverse(url_name)
    return HttpResponseRedirect(
        f"{url}?{urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})}"
    )


def has_confirmed_totp(user) -> bool:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def gate(request):
    """Return a redirect response when ``request`` may not see a staff page yet, else None."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return _redirect_with_next("accounts:login", request)
    if not user.is_verified():
        if has_confirmed_totp(user):
            return _redirect_with_next("accounts:verify", request)
        return _redirect_with_next("accounts:enrol", request)
    return None


def forbidden(request, reason: str):
    return render(request, "accounts/forbidden.html", {"reason": reason}, status=403)


READ_ONLY_REASON = _(
    "Your role (data protection officer) is read-only: you can see everything, "
    "but you cannot change data. Ask an administrator or a marketer to make this change."
)
ADMIN_REASON = _("Only administrators can open this page.")


def staff_required(
    view=None, *, change: bool = False, admin: bool = False, _password_page: bool = False
):
    """Decorate a function view; usable bare or with ``change=``/``admin=``.

    A user who signed in with a one-time password from an administrator is
    sent to choose their own password before anything else.
    """

    def decorate(fn):
        @wraps(fn)
        def wrapper(request, *args, **kwargs):
            response = gate(request)
            if response is not None:
                return response
            user = request.user
            if user.password_change_required and not _password_page:
                return _redirect_with_next("accounts:account", request)
            if admin and not user.is_administrator:
                return forbidden(request, ADMIN_REASON)
            if change and not user.can_change_data:
                return forbidden(request, READ_ONLY_REASON)
            return fn(request, *args, **kwargs)

        wrapper.staff_required = {"change": change, "admin": admin}
        return wrapper

    if view is not None:
        return decorate(view)
    return decorate


__all__ = ["staff_required", "gate", "has_confirmed_totp"]
