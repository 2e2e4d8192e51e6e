"""The staff_required contract every app relies on."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpResponse
from django.test import RequestFactory
from django_otp.plugins.otp_totp.models import TOTPDevice

from akkoord.accounts.decorators import staff_required
from akkoord.accounts.models import Role, User


@staff_required
def read_view(request):
    return HttpResponse("read")


@staff_required(change=True)
def change_view(request):
    return HttpResponse("changed")


@staff_required(admin=True)
def admin_view(request):
    return HttpResponse("admin")


def request_for(user, *, verified=True):
    request = RequestFactory().get("/somewhere/?page=2")
    request.session = SessionStore()
    request.user = user
    if isinstance(user, AnonymousUser):
        user.is_verified = lambda: False
        return request
    device = TOTPDevice.objects.filter(user=user).first() if verified else None
    user.otp_device = device
    user.is_verified = lambda: device is not None
    return request


def test_not_signed_in_goes_to_sign_in_with_next(db):
    response = read_view(request_for(AnonymousUser()))
    assert response.status_code == 302
    assert response["Location"] == "/account/sign-in/?next=%2Fsomewhere%2F%3Fpage%3D2"


def test_password_only_goes_to_the_code_step(marketer):
    response = read_view(request_for(marketer, verified=False))
    assert response["Location"].startswith("/account/sign-in/code/?next=")


def test_password_only_without_device_goes_to_enrolment(db):
    user = User.objects.create_user("new@example.com", "x" * 20, role=Role.ADMIN)
    response = admin_view(request_for(user, verified=False))
    assert response["Location"].startswith("/account/sign-in/set-up/?next=")


@pytest.mark.parametrize(
    ("who", "read", "change", "manage"),
    [
        ("admin", 200, 200, 200),
        ("marketer", 200, 200, 403),
        ("dpo", 200, 403, 403),
    ],
)
def test_roles(request, who, read, change, manage):
    user = request.getfixturevalue(who)
    assert read_view(request_for(user)).status_code == read
    assert change_view(request_for(user)).status_code == change
    assert admin_view(request_for(user)).status_code == manage


def test_the_dpo_is_told_the_role_is_read_only(dpo):
    response = change_view(request_for(dpo))
    assert response.status_code == 403
    assert "read-only" in response.content.decode()


def test_the_decorator_keeps_the_view_name():
    assert change_view.__name__ == "change_view"
