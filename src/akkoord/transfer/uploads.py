"""Uploaded import files in the data folder: stored, removed, swept.

An upload holds personal data in clear, so it lives only as long as its
import needs it: ``transfer.jobs`` removes it when a real import ends in any
way (imported, refused for problems, stopped by an error), and the daily
retention run removes leftovers (an upload never imported, a worker killed
mid-import) older than ``KEEP_LEFTOVERS``.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

KEEP_LEFTOVERS = timedelta(days=1)
# The names this module gives: anything else in the folder is not an upload.
_STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(csv|xlsx)$")


def upload_dir() -> Path:
    path = Path(settings.DATA_DIR) / "transfer-uploads"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def store_upload(upload) -> str:
    """Write an uploaded file to the folder; returns its stored name."""
    suffix = ".xlsx" if upload.name.lower().endswith(".xlsx") else ".csv"
    stored = secrets.token_hex(16) + suffix
    with (upload_dir() / stored).open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return stored


def upload_path(stored: str) -> Path:
    if not _STORED_NAME.match(stored or ""):
        raise ValueError("not the name of a stored upload")
    return upload_dir() / stored


def remove_upload(stored: str) -> None:
    """Remove a stored upload (nothing happens if it is gone already)."""
    if _STORED_NAME.match(stored or ""):
        (upload_dir() / stored).unlink(missing_ok=True)


def remove_leftovers(older_than: timedelta, *, keep: set[str], dry_run: bool = False) -> int:
    """Remove stored uploads last changed more than ``older_than`` ago, except those
    named in ``keep``; returns how many (see ``transfer.jobs.sweep_uploads``)."""
    cutoff = time.time() - older_than.total_seconds()
    removed = 0
    for path in upload_dir().iterdir():
        if not _STORED_NAME.match(path.name) or path.name in keep:
            continue
        try:
            if path.stat().st_mtime >= cutoff:
                continue
            if not dry_run:
                path.unlink()
        except FileNotFoundError:
            continue
        removed += 1
    if removed:
        logger.info("import uploads swept: %d", removed)
    return removed
