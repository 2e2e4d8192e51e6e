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


def _not_compiled(po_path: Path, entries: list[dict]) -> list[str]:
    """The msgids whose translation in the compiled .mo differs from the .po."""
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
    return stale


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: p.parts[-5])
def test_each_dutch_catalogue_is_complete_and_compiled(po_path):
    entries = [e for e in _entries(po_path) if e["msgid"]]  # the header has an empty msgid
    assert entries, po_path
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    empty = [e["msgid"] for e in entries if not all(e["msgstr"].values())]
    assert fuzzy == [], f"fuzzy entries in {po_path}"
    assert empty == [], f"untranslated entries in {po_path}"
    stale = _not_compiled(po_path, entries)
    assert stale == [], f"{po_path.with_suffix('.mo')} is older than its .po: compile it"


# A word in quotes (“je”) names the word, as the form-of-address setting does;
# it does not address the reader.
INFORMAL = re.compile(r"(?<![“\"'])\b(je|jij|jou|jouw|jezelf|Je|Jij|Jou|Jouw)\b(?![”\"'])")
FORMAL = re.compile(r"(?<![“\"'])\b(u|uw|uzelf|U|Uw|Uzelf)\b(?![”\"'])")


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: p.parts[-5])
def test_dutch_addresses_the_reader_one_way(po_path):
    """One form of address: the app catalogues say "u" everywhere (a page or mail
    that switches to "je" reads as written by someone else). An organisation
    that chose "je" gets every "u" from the informal overlay catalogue instead."""
    informal = [
        text
        for entry in _entries(po_path)
        for text in entry["msgstr"].values()
        if INFORMAL.search(text)
    ]
    assert informal == [], f"informal Dutch in {po_path}"


# The informal overlay: read before the catalogues above when the organisation
# chose "je" (akkoord.organisation.address). scripts/informal_candidates.py
# lists what these tests would refuse.
OVERLAY = Path(akkoord.__file__).parent / "lib" / "informal" / "nl" / "LC_MESSAGES" / "django.po"
PLACEHOLDER_OR_TAG = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{\{.*?\}\}|\{%.*?%\}|<[^>]*>")


def _key(entry: dict) -> tuple:
    return entry.get("msgctxt"), entry["msgid"]


def _formal_entries() -> dict[tuple, dict]:
    """Every entry of the app catalogues whose Dutch says u/uw/uzelf, by (msgctxt, msgid)."""
    return {
        _key(entry): entry
        for po_path in CATALOGUES
        for entry in _entries(po_path)
        if entry["msgid"] and any(FORMAL.search(text) for text in entry["msgstr"].values())
    }


def _overlay_entries() -> dict[tuple, dict]:
    return {_key(entry): entry for entry in _entries(OVERLAY) if entry["msgid"]}


def test_the_app_catalogues_say_u_often_enough_to_need_an_overlay():
    assert len(_formal_entries()) >= 100


def test_every_dutch_translation_that_says_u_has_an_informal_one():
    missing = sorted(set(_formal_entries()) - set(_overlay_entries()), key=str)
    assert missing == [], "run scripts/informal_candidates.py --write and translate these"


def test_no_informal_translation_is_stale_still_formal_or_unfinished():
    formal = _formal_entries()
    overlay = _overlay_entries()
    stale = [key for key in overlay if key not in formal]
    still_formal = [
        key for key, entry in overlay.items() if any(map(FORMAL.search, entry["msgstr"].values()))
    ]
    not_informal = [
        key
        for key, entry in overlay.items()
        if not all(map(INFORMAL.search, entry["msgstr"].values()))
    ]
    unfinished = [
        key
        for key, entry in overlay.items()
        if "fuzzy" in entry["flags"] or not all(entry["msgstr"].values())
    ]
    assert stale == [], "msgid gone from the app catalogues, or no longer formal"
    assert still_formal == []
    assert not_informal == [], "an informal translation without je/jij/jou/jouw/jezelf"
    assert unfinished == []


def test_informal_plurals_match_the_formal_ones():
    formal = _formal_entries()
    for key, entry in _overlay_entries().items():
        assert entry.get("msgid_plural") == formal[key].get("msgid_plural"), key
        assert sorted(entry["msgstr"]) == sorted(formal[key]["msgstr"]), key


def test_informal_translations_keep_placeholders_and_markup():
    formal = _formal_entries()
    changed = [
        (key, index)
        for key, entry in _overlay_entries().items()
        for index, text in entry["msgstr"].items()
        if sorted(PLACEHOLDER_OR_TAG.findall(text))
        != sorted(PLACEHOLDER_OR_TAG.findall(formal[key]["msgstr"][index]))
    ]
    assert changed == []


def test_the_informal_overlay_is_compiled():
    entries = list(_overlay_entries().values())
    assert _not_compiled(OVERLAY, entries) == [], "compile it: msgfmt -o django.mo django.po"
    header = _entries(OVERLAY)[0]["msgstr"][0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header
