import pytest
from django.test import Client

from akkoord.api.models import ApiKey, Scope
from akkoord.campaigns.tests.conftest import (  # noqa: F401 - fixtures for the campaign API tests
    make_campaign,
    repermission_template,
    sending_domain,
    smtp_sink,
    template,
)


@pytest.fixture
def api_token(db):
    _key, token = ApiKey.issue("webshop", [s.value for s in Scope])
    return token


@pytest.fixture
def api(api_token):
    """A client that sends the key with every request."""
    return Client(headers={"Authorization": f"Bearer {api_token}"})
