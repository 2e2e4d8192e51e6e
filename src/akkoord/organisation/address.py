"""The Dutch form of address: "u" (formal, the default) or "je", as the organisation chose.

The Dutch catalogues of the apps say "u". The informal translations of every
entry that says "u" live in one overlay catalogue, ``akkoord/lib/informal``
(``scripts/informal_candidates.py`` lists what it lacks). Django finds the
translation of a language through ``trans_real.translation(language)``:
``activate()``, ``override()`` (pages, templates, mails sent by background tasks)
and gettext with no active language all call it. :func:`install` wraps that
function: when the organisation chose "je", Dutch is given a translation object
of its own, the normal Dutch catalogues with the overlay merged on top. Its
language is still "nl", so ``get_language()`` and everything that compares it
are unchanged.

The choice is read from the database at most once every ``TTL`` seconds per
process, and forgotten at once when the organisation is saved in this process;
other processes (the task worker) follow within ``TTL`` seconds. A language is
chosen again at every activation (each request, each ``override``), so a thread
that activated Dutch before the change keeps the old form until it activates
a language again.
"""

from __future__ import annotations

import gettext as gettext_module
import time
from pathlib import Path

from django.db import DatabaseError, transaction
from django.utils.translation import to_locale, trans_real

import akkoord.lib
from akkoord.organisation.models import FormOfAddress, Organisation

OVERLAY_DIR = Path(akkoord.lib.__file__).resolve().parent / "informal"
TTL = 30.0  # seconds a process trusts the form of address it read

# (form of address, time.monotonic() when read); None: read it again.
_remembered: tuple[str, float] | None = None
_django_translation = trans_real.translation


def current() -> str:
    """The organisation's Dutch form of address, ``"u"`` or ``"je"``; cheap to call."""
    remembered = _remembered
    if remembered is not None and time.monotonic() - remembered[1] < TTL:
        return remembered[0]
    value = _read()
    if value is None:  # no database, or no table yet: formal, and ask again next time
        return FormOfAddress.FORMAL
    remember(value)
    return value


def remember(value: str) -> None:
    """Use ``value`` as the form of address until the TTL passes or the organisation is saved."""
    global _remembered
    previous, _remembered = _remembered, (value, time.monotonic())
    if previous is None or previous[0] != value:
        _forget_default_translation()


def forget(**kwargs) -> None:
    """Read the form of address again at the next activation (a post_save receiver)."""
    global _remembered
    _remembered = None
    _forget_default_translation()


def forget_when_saved(sender, instance, **kwargs) -> None:
    """Forget the form of address now, and again when the saving transaction commits.

    Forgetting only now would let another thread read the old, still committed
    value before the commit and keep it for a whole TTL.
    """
    forget()
    transaction.on_commit(forget)


def install() -> None:
    """Let Dutch translations follow the organisation's form of address (idempotent)."""
    trans_real.translation = translation


def translation(language: str):
    """``trans_real.translation`` that gives the informal Dutch translation when chosen."""
    if _is_dutch(language) and current() == FormOfAddress.INFORMAL:
        return _informal_translation(language)
    return _django_translation(language)


def _is_dutch(language: str) -> bool:
    return language.lower().split("-")[0] == "nl"


def _informal_translation(language: str):
    # Kept in Django's own cache of translation objects, under a key no language
    # code can have, so that whatever empties that cache (a changed LANGUAGES or
    # LOCALE_PATHS in tests, the autoreloader after a .mo changed) empties this too.
    key = (language, FormOfAddress.INFORMAL.value)
    translations = trans_real._translations
    informal = translations.get(key)
    if informal is None:
        informal = trans_real.DjangoTranslation(language)
        informal.merge(
            gettext_module.translation(
                "django", localedir=OVERLAY_DIR, languages=[to_locale(language)], fallback=True
            )
        )
        translations[key] = informal
    return informal


def _read() -> str | None:
    try:
        # A savepoint: a failed read must not spoil the caller's transaction.
        with transaction.atomic():
            value = (
                Organisation.objects.order_by("pk")
                .values_list("form_of_address_nl", flat=True)
                .first()
            )
    except DatabaseError:
        return None
    return value or FormOfAddress.FORMAL


def _forget_default_translation() -> None:
    # gettext without an active language uses a translation object Django keeps
    # in trans_real._default; drop it so that it is chosen again.
    trans_real._default = None
