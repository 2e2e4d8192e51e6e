"""Rules for text that comes from outside or goes into a spreadsheet, kept in one place."""

from __future__ import annotations

import re

# Control characters: never part of a name, an address, a user agent or a
# choice; PostgreSQL cannot store a NUL in text or JSON at all.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The same, but a tab and a line break are allowed (free text of several lines).
_CONTROL_IN_FREE_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

# A cell starting with one of these runs as a formula in a spreadsheet
# (CSV injection): refused in imports, neutralised in exports.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def has_control_characters(text: str, *, free_text: bool = False) -> bool:
    """Whether ``text`` holds a control character (with ``free_text``: other than tab and newline)."""
    pattern = _CONTROL_IN_FREE_TEXT if free_text else _CONTROL
    return pattern.search(text) is not None


def without_control_characters(text: str) -> str:
    return _CONTROL.sub("", text)


def spreadsheet_safe(text: str) -> str:
    """``text`` as a cell no spreadsheet runs as a formula (a leading quote makes it text)."""
    return "'" + text if text.startswith(FORMULA_START) else text
