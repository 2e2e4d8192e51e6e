"""The per-delivery return path: signed, case-proof, and carrying no address."""

from types import SimpleNamespace

from akkoord.deliverability import verp


def campaign(domain="mail.example.com"):
    return SimpleNamespace(
        sending_domain=SimpleNamespace(domain=domain), from_address=f"nieuws@{domain}"
    )


def test_a_token_names_its_delivery_and_survives_upper_case(settings):
    token = verp.make_token(123456)
    assert verp.read_token(token) == 123456
    assert verp.read_token(token.upper()) == 123456


def test_a_forged_or_altered_token_is_refused(settings):
    token = verp.make_token(42)
    other = verp.make_token(43)
    forged = token.split(".")[0] + "." + other.split(".")[1]
    assert verp.read_token(forged) is None
    assert verp.read_token("16.aaaaaaaaaaaaaaaa") is None
    assert verp.read_token("") is None


def test_a_token_signed_with_another_secret_is_refused(settings):
    token = verp.make_token(42)
    settings.SECRET_KEY = "another-secret-" + "x" * 40
    assert verp.read_token(token) is None


def test_without_a_bounce_domain_the_envelope_sender_is_the_from_address(settings):
    settings.AKKOORD_BOUNCE_DOMAIN = ""
    assert verp.envelope_sender(campaign(), 7) == "nieuws@mail.example.com"


def test_the_envelope_sender_names_the_delivery_at_the_bounce_domain(settings):
    settings.AKKOORD_BOUNCE_DOMAIN = "bounce.example.com"
    address = verp.envelope_sender(campaign(), 7)
    assert address.startswith("bounces+") and address.endswith("@bounce.example.com")
    assert verp.delivery_id_from_address(address) == 7
    assert verp.delivery_id_from_address(f"<{address.upper()}>") == 7
    settings.AKKOORD_BOUNCE_DOMAIN = "sending"
    assert verp.envelope_sender(campaign(), 7).endswith("@mail.example.com")


def test_a_verp_address_quoted_in_a_report_is_found():
    address = "bounces+" + verp.make_token(99) + "@bounce.example.com"
    text = f"X-Postfix-Sender: rfc822; {address}\nReturn-Path: <other+zz.abc@x>"
    assert verp.delivery_id_in_text(text) == 99
