import pytest
from django.core import mail
from django.core.cache import cache
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from akkoord.notices.tests.test_notices import HEADER_TEXT, assert_no_injection
from akkoord.organisation.models import Organisation
from akkoord.signup.services import SignupInvalid, sign_up
from akkoord.signup.tests.conftest import PROOF

pytestmark = pytest.mark.django_db


@hsettings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    organisation=HEADER_TEXT,
    name=HEADER_TEXT,
    local=st.sampled_from(["a", "b\r\nBcc: x@evil.example", "c\n"]),
)
def test_no_field_can_add_a_header_to_the_confirmation_mail(version, organisation, name, local):
    cache.clear()
    mail.outbox.clear()
    Organisation.objects.update(name=organisation.replace("\x00", "")[:200] or "x")
    try:
        sign_up(
            version,
            {"email": f"{local}@example.nl", "first_name": name, "purposes": ["nieuwsbrief"]},
            **PROOF,
        )
    except SignupInvalid:
        # Line breaks and control characters are refused outright: nothing is sent.
        assert not mail.outbox
        return
    for message in mail.outbox:
        assert_no_injection(message)
        assert "evil.example" not in str(message.message())
