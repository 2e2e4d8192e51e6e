"""List the Dutch translations that address the reader with "u", and what the
informal ("je") overlay catalogue still lacks.

    python3 scripts/informal_candidates.py           # report; exit 1 if work is left
    python3 scripts/informal_candidates.py --write   # add missing entries, drop stale ones

An organisation may choose to be addressed as "je" instead of "u" (the
organisation setting "form of address in Dutch"). The informal translations
live in one overlay catalogue, src/akkoord/lib/informal/nl/LC_MESSAGES/django.po,
that is read before the normal Dutch catalogues. Every msgid whose Dutch
translation in any app's catalogue uses u/uw/uzelf is a candidate: it needs an
entry in the overlay. With --write, missing candidates are added with an empty
msgstr (the formal text as a comment, to translate from) and entries whose msgid
is gone, or no longer formal, are removed; then fill the empty entries by hand
and compile: msgfmt -o django.mo django.po (in the overlay's LC_MESSAGES folder).

Needs polib (pip install polib); the product itself does not.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

try:
    import polib
except ImportError:  # pragma: no cover - a maintainer's tool
    sys.exit("This script needs polib: python3 -m pip install polib")

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "akkoord"
OVERLAY = PACKAGE / "lib" / "informal" / "nl" / "LC_MESSAGES" / "django.po"

# "u" as a word that addresses the reader; a quoted “u” only names the word.
FORMAL = re.compile(r"(?<![“\"'])\b(?:u|uw|uzelf)\b(?![”\"'])", re.IGNORECASE)
INFORMAL = re.compile(r"(?<![“\"'])\b(?:je|jij|jou|jouw|jezelf)\b(?![”\"'])", re.IGNORECASE)


def _texts(entry: polib.POEntry) -> list[str]:
    """The translation of an entry: its plural forms, or its one msgstr."""
    if entry.msgid_plural:
        return [entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def candidates() -> dict[tuple[str | None, str], polib.POEntry]:
    """Every entry, by (msgctxt, msgid), whose Dutch translation says u/uw/uzelf."""
    found: dict[tuple[str | None, str], polib.POEntry] = {}
    for path in sorted(PACKAGE.glob("*/locale/nl/LC_MESSAGES/django.po")):
        for entry in polib.pofile(str(path)):
            if entry.obsolete or not entry.msgid:
                continue
            if any(FORMAL.search(text) for text in _texts(entry)):
                found.setdefault((entry.msgctxt, entry.msgid), entry)
    return found


def _new_overlay() -> polib.POFile:
    overlay = polib.POFile(wrapwidth=79)
    overlay.metadata = {
        "Project-Id-Version": "akkoord",
        "Language": "nl",
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "Plural-Forms": "nplurals=2; plural=(n != 1);",
    }
    return overlay


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="update the overlay .po")
    args = parser.parse_args()

    wanted = candidates()
    overlay = polib.pofile(str(OVERLAY), wrapwidth=79) if OVERLAY.exists() else _new_overlay()
    have = {(entry.msgctxt, entry.msgid): entry for entry in overlay if not entry.obsolete}

    missing = [key for key in wanted if key not in have]
    empty = [key for key, entry in have.items() if key in wanted and not all(_texts(entry))]
    stale = [key for key in have if key not in wanted]
    formal = [
        key
        for key, entry in have.items()
        if key in wanted and any(FORMAL.search(text) for text in _texts(entry))
    ]
    print(f"{len(wanted)} Dutch translations say u/uw; the overlay has {len(have)} entries.")
    for title, keys in (
        ("missing from the overlay", missing),
        ("empty in the overlay", empty),
        ("stale in the overlay (msgid gone or no longer formal)", stale),
        ("still formal in the overlay", formal),
    ):
        if keys:
            print(f"\n{title} ({len(keys)}):")
            for context, msgid in keys:
                print(f"  {f'[{context}] ' if context else ''}{msgid!r}")

    if args.write:
        for key in stale:
            overlay.remove(have[key])
        for key in missing:
            source = wanted[key]
            entry = polib.POEntry(
                msgctxt=source.msgctxt,
                msgid=source.msgid,
                msgid_plural=source.msgid_plural,
                msgstr="",
                msgstr_plural={index: "" for index in source.msgstr_plural},
                comment="formal: " + " | ".join(_texts(source)),
                flags=[flag for flag in source.flags if flag != "fuzzy"],
            )
            overlay.append(entry)
        OVERLAY.parent.mkdir(parents=True, exist_ok=True)
        overlay.save(str(OVERLAY))
        print(f"\nWrote {OVERLAY.relative_to(ROOT)}: fill the empty entries, then run msgfmt.")
    return 1 if missing or empty or stale or formal else 0


if __name__ == "__main__":
    sys.exit(main())
