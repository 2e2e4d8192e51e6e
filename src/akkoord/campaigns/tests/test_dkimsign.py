"""The signer's own relaxed canonicalisation gives dkimpy's bytes, and dkimpy verifies it."""

import dkim
from dkim.canonicalization import Relaxed
from hypothesis import given, settings
from hypothesis import strategies as st

from akkoord.campaigns.dkimsign import Signer, relaxed_body, relaxed_header
from akkoord.campaigns.tests.conftest import dkim_test_key, stub_dns

# Few symbols, so that runs of spaces and tabs, bare CR and LF and empty lines
# at the end all occur often.
SYMBOLS = st.sampled_from([b" ", b"\t", b"\r\n", b"\r", b"\n", b"a", b"=", b"\xc3\xa9"])
TEXT = st.lists(SYMBOLS, max_size=60).map(b"".join)


@given(TEXT)
@settings(max_examples=400, deadline=None)
def test_body_canonicalisation_is_dkimpys(body):
    assert relaxed_body(body) == Relaxed.canonicalize_body(body)


@given(st.sampled_from([b"Subject", b"subject ", b"List-Unsubscribe\t"]), TEXT)
@settings(max_examples=400, deadline=None)
def test_header_canonicalisation_is_dkimpys(name, value):
    assert [relaxed_header(name, value)] == Relaxed.canonicalize_headers([(name, value)])


def message(subject: bytes, body: bytes) -> bytes:
    return (
        b"From: Winkel <nieuws@mail.example.com>\r\n"
        b"To: <eva@example.nl>\r\n"
        b"Subject: " + subject + b"\r\n"
        b"Date: Fri, 04 Dec 2026 05:00:00 -0000\r\n"
        b"Message-ID: <x@mail.example.com>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"List-Unsubscribe: <https://akkoord.example.com/u/abc>\r\n"
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
        b'Content-Type: text/plain; charset="utf-8"\r\n'
        b"\r\n" + body
    )


@given(
    st.lists(st.sampled_from([b"Herfst", b" ", b"\t", b"\r\n\t", b"\r\n "]), min_size=1).map(
        lambda parts: b"Herfst" + b"".join(parts)
    ),
    st.lists(st.sampled_from([b"Hallo  daar", b" \t", b"\r\n", b"=C3=A9", b"x"])).map(b"".join),
)
@settings(max_examples=60, deadline=None)
def test_dkimpy_verifies_folded_headers_and_odd_whitespace(subject, body):
    signer = Signer("mail.example.com", "akkoord", dkim_test_key())
    signed = signer.sign(message(subject, body))
    assert dkim.verify(signed, dnsfunc=stub_dns)
    assert not dkim.verify(signed.replace(b"eva@", b"eve@"), dnsfunc=stub_dns)
