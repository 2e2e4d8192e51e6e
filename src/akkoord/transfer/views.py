"""Staff pages: import with column mapping and preview, encrypted export."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from akkoord.accounts.audit import audit
from akkoord.accounts.decorators import staff_required
from akkoord.accounts.models import AuditAction
from akkoord.contacts.models import ContactField
from akkoord.transfer import formats
from akkoord.transfer.exporting import write_export
from akkoord.transfer.forms import ExportForm, UploadForm
from akkoord.transfer.importer import ImportError_, prepare
from akkoord.transfer.models import ImportJob
from akkoord.transfer.parsing import RowParser
from akkoord.transfer.reading import FileProblem, open_path
from akkoord.transfer.tasks import start_job
from akkoord.transfer.uploads import remove_upload, store_upload, upload_dir, upload_path

PREVIEW_ROWS = 10
SESSION_KEY = "transfer_upload"
REFRESH_SECONDS = 2


def _stored_upload(request) -> dict | None:
    info = request.session.get(SESSION_KEY)
    if not info:
        return None
    try:
        if not upload_path(info["stored"]).exists():
            return None
    except ValueError:
        return None
    return info


def _discard(request) -> None:
    info = request.session.pop(SESSION_KEY, None)
    if info:
        remove_upload(info["stored"])


@staff_required
def index(request):
    return render(request, "transfer/index.html")


@staff_required(change=True)
def import_upload(request):
    """Step 1: upload the file and choose the purpose and format."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        _discard(request)
        upload = form.cleaned_data["file"]
        stored = store_upload(upload)
        request.session[SESSION_KEY] = {
            "stored": stored,
            "name": Path(upload.name).name[:150],
            "purpose": form.cleaned_data["purpose"].key,
            "format": form.cleaned_data["format"],
            "encoding": form.cleaned_data["encoding"],
        }
        return redirect("transfer:import_preview")
    return render(request, "transfer/import_upload.html", {"form": form})


def _open(info):
    source = open_path(upload_path(info["stored"]), encoding=info["encoding"])
    source.name = info["name"]
    return source


@staff_required(change=True)
def import_preview(request):
    """Step 2: the column mapping and the first rows as Akkoord reads them; then
    check (dry run) or import."""
    info = _stored_upload(request)
    if info is None:
        messages.error(request, _("Upload the file first."))
        return redirect("transfer:import_upload")
    field_keys = list(ContactField.objects.filter(is_active=True).values_list("key", flat=True))
    try:
        source = _open(info)
        mapping = None
        if request.method == "POST":
            mapping = {
                column: request.POST.get(f"map-{i}", "ignore")
                for i, column in enumerate(source.header)
            }
        purpose, mapping, fmt = prepare(
            source, purpose_key=info["purpose"], fmt=info["format"], mapping=mapping
        )
    except FileProblem as error:
        _discard(request)
        messages.error(request, str(error))
        return redirect("transfer:import_upload")
    except ImportError_ as error:
        messages.error(request, str(error))
        purpose, fmt = None, info["format"]
        mapping = formats.suggest_mapping(source.header, fmt, field_keys)
        return _preview_page(request, info, source, mapping, fmt, field_keys, None)
    if request.method == "POST" and request.POST.get("action") in ("check", "import"):
        dry_run = request.POST["action"] == "check"
        job = start_job(
            request.user,
            stored_name=info["stored"],
            file_name=info["name"],
            purpose_key=purpose.key if purpose else "",
            fmt=fmt,
            encoding=info["encoding"],
            mapping=mapping,
            valid_only=request.POST.get("valid_only") == "on",
            dry_run=dry_run,
        )
        if not dry_run:
            # The job owns the upload now and removes it when it ends.
            request.session.pop(SESSION_KEY, None)
        return redirect("transfer:import_job", pk=job.pk)
    return _preview_page(request, info, source, mapping, fmt, field_keys, purpose)


def _preview_page(request, info, source, mapping, fmt, field_keys, purpose):
    from akkoord.consent.models import Purpose

    parser = RowParser(
        source.header,
        mapping,
        purpose,
        {p.key: p for p in Purpose.objects.filter(is_active=True)},
        {f.key: f for f in ContactField.objects.filter(is_active=True)},
    )
    rows = []
    for source_row in source.rows:
        row, problems = parser.parse(source_row)
        rows.append({"number": source_row.number, "cells": source_row.cells, "problems": problems})
        if len(rows) >= PREVIEW_ROWS:
            break
    columns = [
        {"index": i, "name": column, "target": mapping.get(column, "ignore")}
        for i, column in enumerate(source.header)
    ]
    return render(
        request,
        "transfer/import_preview.html",
        {
            "info": info,
            "format": fmt,
            "columns": columns,
            "targets": formats.valid_targets(field_keys),
            "rows": rows,
        },
    )


@staff_required(change=True)
def import_job(request, pk: int):
    """An import's progress while it runs (the page reloads itself), then its report."""
    job = get_object_or_404(ImportJob, pk=pk)
    return render(
        request,
        "transfer/import_job.html",
        {
            "job": job,
            "report": job.report,
            "refresh_seconds": REFRESH_SECONDS,
            "can_retry": job.dry_run and _stored_upload(request) is not None,
        },
    )


@staff_required(admin=True)
def export(request):
    """Download all contacts and consents as an AES-encrypted zip."""
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        stored = upload_dir() / f"export-{secrets.token_hex(16)}.zip"
        counts = write_export(str(stored), form.cleaned_data["password"])
        audit(
            request.user,
            AuditAction.EXPORT,
            object_type="export",
            detail=f"contacts and consents: {counts['contacts']} contacts, "
            f"{counts['consent_events']} events",
        )
        handle = stored.open("rb")
        stored.unlink()  # the open handle keeps the data until the download ends
        name = f"akkoord-export-{timezone.localdate().isoformat()}.zip"
        return FileResponse(handle, as_attachment=True, filename=name)
    return render(request, "transfer/export.html", {"form": form})
