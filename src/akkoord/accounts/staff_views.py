"""Staff management for administrators, and the audit log viewer."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from akkoord.accounts import services
from akkoord.accounts.decorators import forbidden, staff_required
from akkoord.accounts.forms import AuditFilterForm, RoleForm, StaffCreateForm
from akkoord.accounts.models import AuditEntry, Role, User

AUDIT_PAGE_SIZE = 50


@staff_required(admin=True)
def staff_list(request):
    users = User.objects.annotate(
        totp=Count("totpdevice", filter=Q(totpdevice__confirmed=True), distinct=True)
    ).order_by("-is_active", "email")
    return render(request, "accounts/staff_list.html", {"users": users})


@never_cache
@staff_required(admin=True)
@require_http_methods(["GET", "POST"])
def staff_create(request):
    form = StaffCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        password = services.generate_password()
        try:
            user = services.create_staff_user(
                form.cleaned_data["email"],
                form.cleaned_data["role"],
                password,
                name=form.cleaned_data["name"],
                by=request.user,
                one_time=True,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            # Shown in this response only; never stored in clear.
            return render(
                request, "accounts/staff_password.html", {"member": user, "password": password}
            )
    return render(request, "accounts/staff_create.html", {"form": form})


@staff_required(admin=True)
def staff_detail(request, pk):
    member = get_object_or_404(User, pk=pk)
    return render(
        request,
        "accounts/staff_detail.html",
        {
            "member": member,
            "role_form": RoleForm(initial={"role": member.role}),
            "has_totp": member.totpdevice_set.filter(confirmed=True).exists(),
            "codes_left": services.recovery_codes_left(member),
            "is_self": member.pk == request.user.pk,
        },
    )


def _apply(request, action) -> None:
    try:
        action()
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Saved."))


@staff_required(admin=True)
@require_POST
def staff_role(request, pk):
    member = get_object_or_404(User, pk=pk)
    form = RoleForm(request.POST)
    if form.is_valid():
        _apply(
            request,
            lambda: services.change_role(member, form.cleaned_data["role"], by=request.user),
        )
    else:
        messages.error(request, _("Choose a role."))
    return redirect("accounts:staff_detail", pk=member.pk)


@staff_required(admin=True)
@require_POST
def staff_active(request, pk):
    member = get_object_or_404(User, pk=pk)
    active = request.POST.get("active") == "1"
    if member.pk == request.user.pk and not active:
        messages.error(request, _("You cannot deactivate your own account."))
    else:
        _apply(request, lambda: services.set_active(member, active, by=request.user))
    return redirect("accounts:staff_detail", pk=member.pk)


@staff_required(admin=True)
@require_POST
def staff_reset_2fa(request, pk):
    member = get_object_or_404(User, pk=pk)
    if member.pk == request.user.pk:
        messages.error(request, _("You cannot reset your own two-factor authentication here."))
    else:
        _apply(request, lambda: services.reset_two_factor(member, by=request.user))
    return redirect("accounts:staff_detail", pk=member.pk)


@never_cache
@staff_required(admin=True)
@require_POST
def staff_reset_password(request, pk):
    member = get_object_or_404(User, pk=pk)
    if member.pk == request.user.pk:
        messages.error(request, _("Change your own password on your account page."))
        return redirect("accounts:staff_detail", pk=member.pk)
    password = services.reset_password(member, by=request.user)
    return render(request, "accounts/staff_password.html", {"member": member, "password": password})


@staff_required
def audit_log(request):
    """Who viewed, exported or changed what: for administrators and the DPO."""
    if request.user.role not in (Role.ADMIN, Role.DPO):
        return forbidden(
            request,
            _("Only administrators and the data protection officer can read the audit log."),
        )
    form = AuditFilterForm(request.GET or None)
    entries = AuditEntry.objects.all()
    if form.is_valid():
        data = form.cleaned_data
        if data["actor"]:
            entries = entries.filter(actor__icontains=data["actor"].strip())
        if data["action"]:
            entries = entries.filter(action=data["action"])
        if data["object_type"]:
            entries = entries.filter(object_type=data["object_type"].strip().lower())
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    object_types = (
        AuditEntry.objects.exclude(object_type="")
        .order_by("object_type")
        .values_list("object_type", flat=True)
        .distinct()
    )
    return render(
        request,
        "accounts/audit_log.html",
        {"form": form, "page": page, "query": query.urlencode(), "object_types": object_types},
    )
