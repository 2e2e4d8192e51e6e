"""contacts.emails: the fast path for common addresses gives what the library gives.

The reference is ``email_validator.validate_email`` itself (lower-cased, as an
address is stored): for every generated address both must accept with the
same result, or both refuse.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from akkoord.contacts.emails import _checked_domain, _common_address, normalise_email

ATEXT = "abcxyzABCXYZ0189_!#$%&'*+-/=?^`{|}~"
OTHER = ' ."(),:;<>@[\\]éßü\u00a0\u200b\t'
LABEL_CHARS = "abcxyz09-ABCXYZ"
UNICODE_LABEL_CHARS = "ëéßüçøåæ한글中文ıİ\u0301"
TLDS = ["nl", "com", "de", "example", "test", "invalid", "local", "localhost", "onion", "x", "1"]


def reference(candidate: str) -> str | None:
    """What the library makes of the address (None: refused)."""
    try:
        return validate_email(candidate, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def ours(candidate: str) -> str | None:
    try:
        return normalise_email(candidate)
    except ValidationError:
        return None


local_parts = st.one_of(
    st.text(alphabet=ATEXT + ".", min_size=0, max_size=70),
    st.text(alphabet=ATEXT + OTHER, min_size=1, max_size=20),
)
labels = st.one_of(
    st.text(alphabet=LABEL_CHARS, min_size=0, max_size=70),
    st.text(alphabet=UNICODE_LABEL_CHARS + "abc", min_size=1, max_size=12),
    st.just("xn--bcher-kva"),
    st.just("xn--invalid"),
)
domains = st.one_of(
    st.builds(
        lambda parts, tld, dot: ".".join([*parts, tld]) + dot,
        st.lists(labels, min_size=0, max_size=4),
        st.sampled_from(TLDS),
        st.sampled_from(["", ".", ".."]),
    ),
    st.text(alphabet=LABEL_CHARS + OTHER, max_size=30),
)


@settings(max_examples=1500, deadline=None)
@given(local=local_parts, domain=domains, padding=st.sampled_from(["", " ", "\t"]))
@example(local="anna", domain="example.nl", padding="")
@example(local="Anna.de.Vries", domain="BÜCHER.de", padding="")
@example(local="anna", domain="xn--bcher-kva.de", padding="")
@example(local="a" * 64, domain=("b" * 63 + ".") * 3 + "nl", padding="")
@example(local="a" * 65, domain="example.nl", padding="")
@example(local="postmaster", domain="localhost", padding="")
# Short enough as written, too long once the domain is in IDNA ASCII (260 characters).
@example(local="a" * 149, domain=".".join(["ü" * 20] * 4) + ".de", padding="")
@example(local="anna..b", domain="example.nl", padding="")
@example(local=".anna", domain="example.nl", padding="")
@example(local="anna", domain="example.nl.", padding="")
@example(local="anna", domain="-example.nl", padding="")
@example(local="anna", domain="[192.0.2.1]", padding="")
@example(local="anna", domain="example.nl>", padding="")
def test_the_fast_path_agrees_with_the_library(local, domain, padding):
    candidate = f"{padding}{local}@{domain}{padding}"
    expected = reference(candidate.strip()) if len(candidate.strip()) <= 254 else None
    assert ours(candidate) == expected


def test_the_fast_path_is_taken_for_common_addresses():
    # Otherwise the test above would only compare the library with itself.
    _checked_domain.cache_clear()
    assert _common_address("Anna.de-Vries+news@Example.NL") == "anna.de-vries+news@example.nl"
    assert _common_address("anna@bücher.de") == "anna@bücher.de"
    assert _checked_domain.cache_info().misses == 2
    assert _common_address("bram@Example.NL") == "bram@example.nl"
    assert _checked_domain.cache_info().hits == 1


@pytest.mark.parametrize(
    "candidate",
    ['"anna b"@example.nl', "anna@[192.0.2.1]", "anna@localhost", "ännä@example.nl", "a@b@c.nl"],
)
def test_anything_unusual_takes_the_full_path(candidate):
    assert _common_address(candidate) is None
