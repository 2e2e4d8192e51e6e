"""Signing in (password, then a second factor), enrolment, signing out, and
the signed-in user's own password and recovery codes."""

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import (
    REDIRECT_FIELD_NAME,
    authenticate,
    login,
    logout,
    update_session_auth_hash,
)
from django.contrib.auth.forms import PasswordChangeForm
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice

from akkoord.accounts import lockout, services
from akkoord.accounts.audit import audit
from akkoord.accounts.decorators import has_confirmed_totp, staff_required
from akkoord.accounts.forms import CodeForm, EnrolForm, SignInForm
from akkoord.accounts.models import AuditAction, User
from akkoord.lib import ratelimit

# Failed attempts allowed before further attempts are refused, until a window
# has passed since the last failure (accounts.lockout).
FAILED_PER_ACCOUNT = getattr(settings, "AKKOORD_SIGNIN_FAILURES_PER_ACCOUNT", 5)
FAILED_PER_IP = getattr(settings, "AKKOORD_SIGNIN_FAILURES_PER_IP", 20)
FAILED_WINDOW = getattr(settings, "AKKOORD_SIGNIN_WINDOW_SECONDS", 15 * 60)
SESSION_CODES = "akkoord_new_recovery_codes"


def _next_url(request) -> str:
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


def _with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"


def _password_limits(email: str, ip: str) -> list[lockout.Limit]:
    return [
        lockout.Limit("signin-ip", ip, FAILED_PER_IP, FAILED_WINDOW),
        lockout.Limit("signin-account", email, FAILED_PER_ACCOUNT, FAILED_WINDOW),
    ]


def _code_limits(user) -> list[lockout.Limit]:
    return [lockout.Limit("otp-account", str(user.pk), FAILED_PER_ACCOUNT, FAILED_WINDOW)]


def _after_password_step(user) -> str:
    return "accounts:verify" if has_confirmed_totp(user) else "accounts:enrol"


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def sign_in(request):
    next_url = _next_url(request)
    user = request.user
    if user.is_authenticated and user.is_verified():
        return redirect(next_url)
    timed_out = request.session.pop("akkoord_timed_out", False)
    form = SignInForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        # The attempt is counted before the password is checked, so that
        # parallel guesses cannot pass the limit (accounts.lockout).
        reserved = lockout.reserve_all(_password_limits(email, ratelimit.client_ip(request)))
        if reserved is None:
            form.add_error(
                None,
                _("Too many failed attempts. Wait %(minutes)s minutes and try again.")
                % {"minutes": FAILED_WINDOW // 60},
            )
            status = 429
        else:
            user = authenticate(request, email=email, password=form.cleaned_data["password"])
            if user is None:
                known = User.objects.filter(email=email).first()
                audit(
                    known,
                    AuditAction.SIGN_IN_FAILED,
                    known,
                    detail="wrong password" if known else "unknown account",
                )
                # The same message whether or not the address is known.
                form.add_error(None, _("This e-mail address and password do not match."))
            else:
                for limit in reserved:
                    lockout.give_back(limit)
                lockout.prune()
                login(request, user)
                return redirect(_with_next(_after_password_step(user), next_url))
    return render(
        request,
        "accounts/sign_in.html",
        {
            "form": form,
            "next": next_url,
            "timed_out": timed_out,
            "idle_minutes": settings.AKKOORD_IDLE_TIMEOUT_MINUTES,
        },
        status=status,
    )


def _verified(request, device) -> None:
    """Mark the session as past the second factor, under a new session key.

    The key was renewed at the password step too; renewing it again here means
    a session key seen before the second factor (a fixed or leaked one) never
    becomes a fully signed-in one.
    """
    otp_login(request, device)
    request.session.cycle_key()


def _password_step_done(request):
    user = request.user
    return user.is_authenticated and user.is_active


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def verify(request):
    next_url = _next_url(request)
    if not _password_step_done(request):
        return redirect(_with_next("accounts:login", next_url))
    user = request.user
    if user.is_verified():
        return redirect(next_url)
    if not has_confirmed_totp(user):
        return redirect(_with_next("accounts:enrol", next_url))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        reserved = lockout.reserve_all(_code_limits(user))
        if reserved is None:
            form.add_error(
                None,
                _("Too many wrong codes. Wait %(minutes)s minutes and try again.")
                % {"minutes": FAILED_WINDOW // 60},
            )
            status = 429
        else:
            device = match_token(user, form.cleaned_data["code"])
            if device is None:
                audit(user, AuditAction.SIGN_IN_FAILED, user, detail="wrong code")
                form.add_error(
                    "code", _("This code is not valid. Try the next code from your app.")
                )
            else:
                for limit in reserved:
                    lockout.give_back(limit)
                _verified(request, device)
                used_recovery = isinstance(device, StaticDevice)
                audit(
                    user,
                    AuditAction.SIGN_IN,
                    user,
                    detail="with recovery code" if used_recovery else "with authenticator",
                )
                if used_recovery:
                    left = services.recovery_codes_left(user)
                    messages.warning(
                        request,
                        _(
                            "You signed in with a recovery code. %(left)s codes are left; "
                            "make new ones on your account page."
                        )
                        % {"left": left},
                    )
                return redirect(next_url)
    return render(request, "accounts/verify.html", {"form": form, "next": next_url}, status=status)


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def enrol(request):
    next_url = _next_url(request)
    if not _password_step_done(request):
        return redirect(_with_next("accounts:login", next_url))
    user = request.user
    if has_confirmed_totp(user):
        return redirect(next_url if user.is_verified() else _with_next("accounts:verify", next_url))
    device = services.pending_totp_device(user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            with transaction.atomic():
                services.confirm_totp_device(device)
                codes = services.new_recovery_codes(user)
            _verified(request, device)
            audit(user, AuditAction.SIGN_IN, user, detail="after setting up two-factor")
            request.session[SESSION_CODES] = codes
            return redirect(_with_next("accounts:recovery_codes", next_url))
        form.add_error(
            "code", _("This code is not valid. Check the time on your phone and try again.")
        )
    uri = services.totp_uri(device)
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "next": next_url,
            "qr_data_uri": segno.make(uri, error="m").svg_data_uri(scale=5, border=2),
            "secret": services.totp_secret_text(device),
        },
    )


@never_cache
@staff_required(_password_page=True)
@require_http_methods(["GET", "POST"])
def recovery_codes(request):
    """Show freshly made recovery codes once; POST makes a new set."""
    if request.method == "POST":
        request.session[SESSION_CODES] = services.new_recovery_codes(request.user)
        return redirect("accounts:recovery_codes")
    codes = request.session.pop(SESSION_CODES, None)
    return render(
        request,
        "accounts/recovery_codes.html",
        {
            "codes": codes,
            "left": services.recovery_codes_left(request.user),
            "next": _next_url(request),
        },
    )


@require_POST
def sign_out(request):
    if request.user.is_authenticated:
        audit(request.user, AuditAction.SIGN_OUT, request.user)
    logout(request)
    messages.success(request, _("You have been signed out."))
    return redirect("accounts:login")


@never_cache
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@staff_required(_password_page=True)
@require_http_methods(["GET", "POST"])
def account(request):
    """The signed-in user's own page: password and recovery codes."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save(commit=False)
            user.password_change_required = False
            user.save()
            audit(user, AuditAction.CHANGE, user, detail="password changed")
        update_session_auth_hash(request, user)
        messages.success(request, _("Your password has been changed."))
        if request.GET.get(REDIRECT_FIELD_NAME):
            return redirect(_next_url(request))
        return redirect("accounts:account")
    return render(
        request,
        "accounts/account.html",
        {"form": form, "codes_left": services.recovery_codes_left(request.user)},
    )
