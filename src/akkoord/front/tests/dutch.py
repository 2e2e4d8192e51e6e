"""Find English and raw internal keys in the visible text of a Dutch page.

Three independent detectors, none of which reads the product's own code:

* an English source text of the product's own catalogues (``msgid``) that shows
  in a Dutch page where its translation differs: a string the page forgot to
  translate (gettext at import time, a missing ``{% translate %}``);
* a sentence in English: two or more English-only function words and no Dutch
  one (catches hard-coded English that never reached a catalogue);
* raw keys a person should never see: ``snake_case`` names, ``fields.x``,
  references such as ``form:1:v1`` or ``campaign:4``, ISO timestamps and dates.

Text a person typed or that is shown on purpose as it is (code, an exact proof
text, a mail body) is skipped when the page marks it: ``<code>``, ``<pre>``,
``translate="no"``, or a ``lang`` other than Dutch.
"""

import gettext
import re
from functools import cache
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2]

# Visible text nodes of the page, with the nearest element's tag; skipped are
# hidden elements and what the page marks as not Dutch or not to be translated.
VISIBLE_TEXT_JS = """() => {
  const skip = "script,style,code,pre,textarea,iframe,noscript,[translate=no],[lang]:not([lang=nl]):not(html)";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const texts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    const text = node.textContent.replace(/\\s+/g, " ").trim();
    if (!text || element.closest(skip)) continue;
    if (!element.getClientRects().length && !element.closest("option,select")) continue;
    texts.push(text);
  }
  for (const input of document.querySelectorAll("input[placeholder],textarea[placeholder]")) {
    if (!input.closest("[translate=no],[lang]:not([lang=nl]):not(html)")) texts.push(input.placeholder);
  }
  for (const button of document.querySelectorAll("input[type=submit][value]")) texts.push(button.value);
  return texts;
}"""

ENGLISH_ONLY = {
    "the", "and", "of", "to", "with", "your", "you", "this", "that", "for", "not", "from",
    "has", "have", "was", "were", "will", "can", "are", "be", "by", "or", "on", "at", "it",
    "its", "which", "who", "what", "when", "there", "here", "yet", "no", "yes", "any",
    "all", "one", "only", "been", "their", "they", "them", "these", "those", "should",
    "must", "may", "into", "about", "after", "before", "without", "than", "then", "how",
    "why", "where", "our", "us", "we", "a", "an", "is",
}  # fmt: skip
DUTCH = {
    "de", "het", "een", "en", "van", "voor", "met", "niet", "uw", "je", "jouw", "u", "zijn",
    "wordt", "worden", "kan", "kunt", "deze", "dit", "die", "dat", "op", "naar", "bij", "ook",
    "geen", "nog", "wat", "wie", "waar", "hoe", "om", "er", "als", "of", "te", "aan", "uit",
    "is", "in", "ja", "nee", "alle", "alleen", "heeft", "hebben", "was", "toestemming",
}  # fmt: skip
WORD = re.compile(r"[A-Za-zÀ-ÿ]+")

AUTONYMS = {"English", "Nederlands"}
RAW_KEYS = [
    (re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b"), "a snake_case key"),
    (re.compile(r"\bfields\.[\w-]+"), "a field key"),
    (
        re.compile(r"\b(?:form|campaign|system|demo|purpose|contact):[\w:]+"),
        "an internal reference",
    ),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2})?"), "an ISO date"),
]
# Shown on purpose as they are: addresses, web addresses, file names, and the
# placeholders a marketer types in a template ({{ first_name }}).
NOT_A_KEY = re.compile(r"\S+@\S+|https?://\S+|/\S*|\S+\.(?:csv|xlsx|json|pdf|html)\b|\{\{[^}]*\}\}")


@cache
def catalogue_sources() -> dict[str, str]:
    """English source text -> Dutch translation, for every sentence-like entry of every app."""
    sources, same = {}, set()
    for mo_path in SOURCE.glob("*/locale/nl/LC_MESSAGES/django.mo"):
        with mo_path.open("rb") as mo_file:
            catalogue = gettext.GNUTranslations(mo_file)._catalog
        for msgid, msgstr in catalogue.items():
            # Plural entries are keyed by (msgid, n).
            if not isinstance(msgid, str) or "%" in msgid:
                continue
            if msgstr == msgid:
                same.add(msgid)
            elif msgstr and "{" not in msgid:
                sources[msgid] = msgstr
    # A word that one catalogue keeps as it is is Dutch too ("Import", "Status");
    # a language is named in its own language ("English" in a list of languages).
    return {k: v for k, v in sources.items() if k not in same and k not in AUTONYMS}


def is_english(text: str) -> bool:
    words = [w.lower() for w in WORD.findall(text)]
    english = sum(1 for w in words if w in ENGLISH_ONLY and w not in DUTCH)
    dutch = sum(1 for w in words if w in DUTCH)
    return english >= 2 and dutch == 0


def raw_keys(text: str) -> list[str]:
    cleaned = NOT_A_KEY.sub(" ", text)
    return [
        f"{what} ({m.group(0)})" for pattern, what in RAW_KEYS for m in pattern.finditer(cleaned)
    ]


def problems_in(texts: list[str], where: str) -> list[str]:
    """What is wrong with the visible texts of one Dutch page."""
    found = []
    sources = catalogue_sources()
    whole = " | ".join(texts)
    for text in texts:
        # A label or a button of one word: the whole text node, so that a Dutch
        # word that happens to be spelled like an English one is not flagged.
        label = text.rstrip(":*? ").strip()
        if label in sources and len(label.split()) == 1:
            found.append(f"{where}: untranslated “{label}”")
    for source in sources:
        if len(source.split()) < 2:
            continue
        if source in whole and re.search(rf"(?<!\w){re.escape(source)}(?!\w)", whole):
            found.append(f"{where}: untranslated “{source}”")
    for text in texts:
        if is_english(text):
            found.append(f"{where}: English “{text[:120]}”")
        found += [f"{where}: {key} in “{text[:120]}”" for key in raw_keys(text)]
    return found
