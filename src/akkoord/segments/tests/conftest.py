"""Campaign fixtures shared with the campaign tests (a segment narrows a campaign)."""

from akkoord.campaigns.tests.conftest import (  # noqa: F401
    make_campaign,
    repermission_template,
    sending_domain,
    template,
)
