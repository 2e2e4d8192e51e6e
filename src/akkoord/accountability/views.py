"""Staff pages: register, processors, statement, breaches, retention."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from akkoord.accountability import breaches, exports, register, retention, statement
from akkoord.accountability.forms import (
    ActivityForm,
    BreachForm,
    CategoryRetentionFormSet,
    ProcessorForm,
    PublishForm,
    SettingsForm,
)
from akkoord.accountability.models import (
    AccountabilitySettings,
    Breach,
    CategoryRetention,
    ProcessingActivity,
    Processor,
    RegisterVersion,
    RetentionRun,
    StatementVersion,
)
from akkoord.accountability.panels import dpo_advice
from akkoord.accountability.tasks import run_retention, start_notification
from akkoord.accounts.audit import audit
from akkoord.accounts.decorators import staff_required
from akkoord.accounts.models import AuditAction


def _language(request) -> str:
    wanted = request.GET.get("lang") or translation.get_language() or "nl"
    return "nl" if wanted.startswith("nl") else "en"


@staff_required
def index(request):
    register.prefill()
    return render(
        request,
        "accountability/index.html",
        {
            "advice": dpo_advice(),
            "processors": Processor.objects.all(),
            "statement": statement.current_statement(),
            "missing": statement.missing_parts(),
            "open_breaches": Breach.objects.filter(authority_notified_at__isnull=True).count(),
            "last_run": RetentionRun.objects.filter(dry_run=False).first(),
            "now": timezone.now(),
        },
    )


# --- register ---------------------------------------------------------------


def _register_data(request) -> tuple[dict, RegisterVersion | None]:
    language = _language(request)
    number = request.GET.get("version", "")
    if number:
        if not number.isdigit():
            raise Http404
        version = get_object_or_404(RegisterVersion, number=int(number))
        return version.content[language], version
    register.prefill()
    return register.build_register(language), None


@staff_required
def register_view(request):
    data, version = _register_data(request)
    return render(
        request,
        "accountability/register.html",
        {
            "data": data,
            "version": version,
            "gaps": [] if version else register.missing_items(data),
            "versions": RegisterVersion.objects.all()[:50],
            "activities": ProcessingActivity.objects.select_related("purpose"),
            "lang": data["language"],
        },
    )


@staff_required
def register_export(request, fmt: str):
    data, version = _register_data(request)
    suffix = f"-v{version.number}" if version else ""
    name = f"verwerkingsregister{suffix}-{data['language']}"
    audit(request.user, AuditAction.EXPORT, version, object_type="register", detail=fmt)
    if fmt == "csv":
        response = HttpResponse(exports.register_csv(data), content_type="text/csv; charset=utf-8")
    elif fmt == "json":
        response = HttpResponse(exports.register_json(data), content_type="application/json")
    elif fmt == "pdf":
        response = HttpResponse(exports.register_pdf(data), content_type="application/pdf")
    elif fmt == "html":
        with translation.override(data["language"]):
            return render(
                request,
                "accountability/register_print.html",
                {"data": data, "version": version},
            )
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@staff_required(change=True)
@require_POST
def register_save(request):
    register.prefill()
    version = register.save_version(request.user)
    audit(request.user, AuditAction.CREATE, version, object_type="register")
    messages.success(request, _("Register version %(n)s saved.") % {"n": version.number})
    return redirect("accountability:register")


@staff_required(change=True)
@require_http_methods(["GET", "POST"])
def activity_edit(request, pk: int):
    activity = get_object_or_404(ProcessingActivity, pk=pk)
    form = ActivityForm(request.POST or None, instance=activity)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            audit(request.user, AuditAction.CHANGE, activity)
        messages.success(request, _("Processing activity saved."))
        return redirect("accountability:register")
    return render(
        request, "accountability/form.html", {"form": form, "title": _("Processing activity")}
    )


@staff_required(change=True)
@require_http_methods(["GET", "POST"])
def settings_edit(request):
    config = AccountabilitySettings.current()
    form = SettingsForm(request.POST or None, instance=config)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            audit(request.user, AuditAction.SETTINGS, config)
        messages.success(request, _("Saved."))
        return redirect("accountability:index")
    return render(
        request,
        "accountability/form.html",
        {"form": form, "title": _("Texts, data location and log retention")},
    )


@staff_required(change=True)
@require_http_methods(["GET", "POST"])
def category_retention(request):
    register.prefill()
    formset = CategoryRetentionFormSet(
        request.POST or None, queryset=CategoryRetention.objects.all()
    )
    if request.method == "POST" and formset.is_valid():
        with transaction.atomic():
            formset.save()
            audit(request.user, AuditAction.SETTINGS, object_type="categoryretention")
        messages.success(request, _("Saved."))
        return redirect("accountability:register")
    return render(request, "accountability/categories.html", {"formset": formset})


# --- processors (data location) -----------------------------------------------


@staff_required(change=True)
@require_http_methods(["GET", "POST"])
def processor_edit(request, pk: int | None = None):
    processor = get_object_or_404(Processor, pk=pk) if pk else None
    form = ProcessorForm(request.POST or None, instance=processor)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save()
            if processor is None:
                for activity in ProcessingActivity.objects.all():
                    activity.processors.add(saved)
            audit(request.user, AuditAction.CHANGE if processor else AuditAction.CREATE, saved)
        messages.success(request, _("Processor saved."))
        return redirect("accountability:index")
    return render(request, "accountability/form.html", {"form": form, "title": _("Processor")})


@staff_required(change=True)
@require_POST
def processor_delete(request, pk: int):
    processor = get_object_or_404(Processor, pk=pk)
    audit(request.user, AuditAction.DELETE, processor)
    processor.delete()
    messages.success(request, _("Processor removed."))
    return redirect("accountability:index")


# --- privacy statement --------------------------------------------------------------


@staff_required
def statement_view(request):
    register.prefill()
    language = _language(request)
    draft = statement.build_statement(language)
    return render(
        request,
        "accountability/statement.html",
        {
            "draft": draft,
            "lang": language,
            "missing": statement.missing_parts(),
            "versions": StatementVersion.objects.all()[:50],
            "form": PublishForm(),
        },
    )


@staff_required(change=True)
@require_POST
def statement_publish(request):
    form = PublishForm(request.POST)
    form.is_valid()
    try:
        version = statement.publish(request.user, material=form.cleaned_data.get("material", False))
    except statement.StatementIncomplete as refused:
        messages.error(
            request,
            _("Not published. Missing: %(missing)s") % {"missing": "; ".join(refused.missing)},
        )
        return redirect("accountability:statement")
    audit(request.user, AuditAction.CREATE, version, object_type="statementversion")
    messages.success(
        request, _("Privacy statement version %(n)s published.") % {"n": version.number}
    )
    return redirect("accountability:statement")


@staff_required
def renewal(request):
    material, states = statement.renewal_needed()
    page = Paginator(states, 100).get_page(request.GET.get("page"))
    audit(request.user, AuditAction.VIEW, object_type="renewal-list")
    return render(
        request,
        "accountability/renewal.html",
        {
            "material": material,
            "page": page,
            "count": states.count(),
            "contacts": states.values("contact_id").distinct().count(),
        },
    )


# --- breaches -------------------------------------------------------------------------


@staff_required
def breach_list(request):
    now = timezone.now()
    items = [(b, b.is_overdue(now)) for b in Breach.objects.all()[:200]]
    return render(request, "accountability/breaches.html", {"items": items, "now": now})


@staff_required(change=True)
@require_http_methods(["GET", "POST"])
def breach_edit(request, pk: int | None = None):
    breach = get_object_or_404(Breach, pk=pk) if pk else None
    form = BreachForm(request.POST or None, instance=breach)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save(commit=False)
            if breach is None:
                saved.created_by = request.user
            saved.save()
            audit(request.user, AuditAction.CHANGE if breach else AuditAction.CREATE, saved)
        messages.success(request, _("Breach saved."))
        return redirect("accountability:breach", pk=saved.pk)
    return render(request, "accountability/form.html", {"form": form, "title": _("Data breach")})


@staff_required
def breach_detail(request, pk: int):
    breach = get_object_or_404(Breach, pk=pk)
    now = timezone.now()
    affected = breaches.affected_contacts(breach)
    return render(
        request,
        "accountability/breach.html",
        {
            "breach": breach,
            "now": now,
            "overdue": breach.is_overdue(now),
            "left": breach.time_left(now),
            "affected_count": affected.distinct().count(),
            "can_notify": breaches.can_notify(breach),
        },
    )


@staff_required(change=True)
@require_POST
def breach_notify(request, pk: int):
    breach = get_object_or_404(Breach, pk=pk)
    if not breaches.can_notify(breach):
        messages.error(request, _("Write the message to persons in Dutch and English first."))
        return redirect("accountability:breach", pk=pk)
    audit(request.user, AuditAction.SEND, breach)
    queued = start_notification(breach, actor=request.user.email)
    if queued:
        messages.success(request, _("The notification is being sent in the background."))
    else:
        messages.success(request, _("The affected persons have been notified."))
    return redirect("accountability:breach", pk=pk)


# --- retention ------------------------------------------------------------------------


@staff_required
def retention_view(request):
    return render(
        request,
        "accountability/retention.html",
        {"runs": _with_report_lines(RetentionRun.objects.all()[:30])},
    )


# What a retention report counts, in words (the report stores keys and counts).
REPORT_LABELS = {
    "unconfirmed_signups": gettext_lazy("Unconfirmed sign-ups removed"),
    "unconfirmed_contacts": gettext_lazy("People who never confirmed, removed"),
    "import_uploads": gettext_lazy("Import files left behind, removed"),
    "privacy_confirmations_waiting": gettext_lazy("Privacy confirmations still waiting"),
    "contacts_erased": gettext_lazy("People erased after their retention period"),
    "audit_entries": gettext_lazy("Old audit-log entries removed"),
    "caught_mail": gettext_lazy("Old caught mails removed"),
    "bounce_reports": gettext_lazy("Bounce and complaint reports erased after inspection"),
}


def _with_report_lines(runs) -> list:
    runs = list(runs)
    for run in runs:
        run.lines = [
            {"label": REPORT_LABELS.get(key, key), "count": count}
            for key, count in (run.report or {}).items()
        ]
    return runs


@staff_required(change=True)
@require_POST
def retention_start(request):
    dry_run = request.POST.get("dry_run") == "1"
    audit(
        request.user,
        AuditAction.VIEW if dry_run else AuditAction.DELETE,
        object_type="retention",
        detail="retention dry run" if dry_run else "retention run",
    )
    if dry_run:
        retention.run(dry_run=True)
        messages.success(request, _("Dry run done: nothing was changed."))
    else:
        # Erasing can take a while on a large install: the worker does it.
        run_retention.enqueue(False)
        messages.success(request, _("The retention run has started; its report appears below."))
    return redirect("accountability:retention")
