"""Small helpers for the command-line tools: an audit actor and a progress line."""

from __future__ import annotations

import getpass
import time


class CliActor:
    """The operator at the console, as named in the audit log."""

    def __init__(self, name: str | None = None):
        try:
            user = name or getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        self.audit_label = f"cli:{user}"[:200]
        self.is_authenticated = False


class Progress:
    """A plain progress line on stderr (no extra dependency), at most 4 updates a second."""

    def __init__(self, stream, unit: str):
        self.stream = stream
        self.unit = unit
        self.started = time.monotonic()
        self.last = 0.0
        self.count = 0

    def __call__(self, count: int, position: int = 0, total: int | None = None) -> None:
        self.count = count
        now = time.monotonic()
        if now - self.last < 0.25:
            return
        self.last = now
        rate = count / max(now - self.started, 1e-6)
        text = f"\r{count:,} {self.unit} ({rate:,.0f}/s)"
        if total:
            text += f" {min(position / total, 1):.0%}"
        self.stream.write(text, ending="")
        self.stream.flush()

    def done(self) -> None:
        self.stream.write("", ending="\n")
