import pytest

from akkoord.organisation.models import Organisation


@pytest.fixture
def organisation(db):
    """An organisation whose details are complete enough for a privacy statement."""
    organisation = Organisation.current()
    organisation.name = "Fietsenwinkel De Ketting B.V."
    organisation.address = "Oudegracht 123\n3511 AB Utrecht"
    organisation.contact_email = "privacy@deketting.example.nl"
    organisation.chamber_of_commerce = "12345678"
    organisation.save()
    return organisation


@pytest.fixture
def complete(organisation, newsletter, product_updates):
    """Register pre-filled, everything the statement needs present."""
    from akkoord.accountability.register import prefill

    prefill()
    return organisation
