"""Every Dutch catalogue is complete, not fuzzy, and compiled.

Django reads only the compiled ``.mo`` files, and a fuzzy entry is ignored, so a
translation that was written but not compiled, or left fuzzy, shows English
in the Dutch interface. Read here with a small parser of our own (no gettext
tools are needed to run the tests).
"""

import ast
import gettext
import re
from pathlib import Path

import pytest

import akkoord

CATALOGUES = sorted(Path(akkoord.__file__).parent.glob("**/locale/nl/LC_MESSAGES/django.po"))


def _entries(po_path: Path) -> list[dict]:
    """The entries of a .po file: flags, msgctxt, msgid, msgid_plural, msgstr (list)."""
    entries, entry, field = [], None, None

    def finish():
        if entry is not None and "msgid" in entry:
            entries.append(entry)

    for raw in po_path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
            entry, field = None, None
            continue
        if line.startswith("#~"):  # obsolete entries are not used
            continue
        if entry is None:
            entry = {"flags": set(), "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(field, tuple):
                entry["msgstr"][field[1]] += value
            else:
                entry[field] += value
        else:
            keyword, _space, rest = line.partition(" ")
            value = ast.literal_eval(rest)
            if keyword.startswith("msgstr"):
                index = int(keyword[7:-1]) if "[" in keyword else 0
                field = ("msgstr", index)
                entry["msgstr"][index] = value
            else:
                field = keyword
                entry[keyword] = value
    finish()
    return entries


def test_there_are_catalogues_to_check():
    assert len(CATALOGUES) >= 10, CATALOGUES


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: p.parts[-5])
def test_each_dutch_catalogue_is_complete_and_compiled(po_path):
    entries = [e for e in _entries(po_path) if e["msgid"]]  # the header has an empty msgid
    assert entries, po_path
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    empty = [e["msgid"] for e in entries if not all(e["msgstr"].values())]
    assert fuzzy == [], f"fuzzy entries in {po_path}"
    assert empty == [], f"untranslated entries in {po_path}"

    with po_path.with_suffix(".mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in entries:
        context = entry.get("msgctxt")
        if "msgid_plural" in entry:
            for count, index in ((1, 0), (2, 1)):
                got = (
                    compiled.npgettext(context, entry["msgid"], entry["msgid_plural"], count)
                    if context is not None
                    else compiled.ngettext(entry["msgid"], entry["msgid_plural"], count)
                )
                if got != entry["msgstr"][index]:
                    stale.append(entry["msgid"])
            continue
        got = (
            compiled.pgettext(context, entry["msgid"])
            if context is not None
            else compiled.gettext(entry["msgid"])
        )
        if got != entry["msgstr"][0]:
            stale.append(entry["msgid"])
    assert stale == [], f"{po_path.with_suffix('.mo')} is older than its .po: compile it"


INFORMAL = re.compile(r"\b(je|jij|jou|jouw|jezelf|Je|Jij|Jou|Jouw)\b")


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: p.parts[-5])
def test_dutch_addresses_the_reader_one_way(po_path):
    """One form of address: the product says "u" everywhere (a page or mail that
    switches to "je" reads as written by someone else)."""
    informal = [
        text
        for entry in _entries(po_path)
        for text in entry["msgstr"].values()
        if INFORMAL.search(text)
    ]
    assert informal == [], f"informal Dutch in {po_path}"
