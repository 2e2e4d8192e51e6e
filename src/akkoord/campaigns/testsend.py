"""A test mail to a staff user's own address: the real pipeline with sample data."""

from __future__ import annotations

from akkoord.campaigns.dkimsign import Signer
from akkoord.campaigns.messenger import Messenger
from akkoord.campaigns.models import Campaign
from akkoord.campaigns.rendering import SAMPLE_CONTEXT, CompiledMail, build_message
from akkoord.mail.outgoing import header_safe
from akkoord.organisation.models import Organisation


def send_test(campaign: Campaign, language: str, to: str, messenger: Messenger) -> None:
    """Render with sample data (no contact's data), sign, and send to ``to``."""
    subject, html, text = campaign.template.part(language)
    compiled = CompiledMail(
        subject=subject,
        html=html,
        text=text,
        language=language,
        organisation=Organisation.current(),
        from_name=campaign.from_name,
    )
    context = {**SAMPLE_CONTEXT, "email": to}
    subject, text, html = compiled.render(context)
    domain = campaign.sending_domain
    raw, _message_id = build_message(
        from_name=campaign.from_name,
        from_address=campaign.from_address,
        to=to,
        subject=header_safe("[TEST] " + subject),
        text=text,
        html=html,
        domain=domain.domain,
        list_unsubscribe=None,
    )
    signed = Signer(domain.domain, domain.selector, domain.private_key_pem).sign(raw)
    try:
        messenger.send(campaign.from_address, to, signed)
    finally:
        messenger.close()
