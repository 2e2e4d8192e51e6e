"""Set-up code for tests that unsubscribe through a real server
(``front.tests.served.Served.run_script``): migrate, make a purpose and
``count`` subscribed people, print their unsubscribe links and ledger keys."""

SETUP = """
from django.core.management import call_command
from akkoord.consent.ledger import record_event
from akkoord.consent.models import Channel, Purpose
from akkoord.consent.rules import EventKind
from akkoord.contacts.services import register_contact
from akkoord.lib import tokens

call_command("migrate", interactive=False, verbosity=0)
call_command("createcachetable", verbosity=0)
purpose = Purpose.objects.create(
    key="productupdates", name_nl="Productupdates", name_en="Product updates",
    consent_text_nl="Ja.", consent_text_en="Yes.", double_opt_in=False,
)
people = []
for number in range(int(sys.argv[1])):
    contact, _created = register_contact(
        {"email": f"lezer{number}@example.nl"}, source_kind="staff", actor="test"
    )
    record_event(contact, purpose, EventKind.GRANTED, channel=Channel.STAFF, actor="test")
    token = tokens.make_token(tokens.UNSUBSCRIBE, contact, p=purpose.pk, c=7)
    people.append({"path": f"/u/{token}", "key": contact.ledger_key.hex})
print(json.dumps({"people": people}))
"""

WITHDRAWN = (
    "SELECT COUNT(*) FROM consent_consentevent WHERE subject_key = %s AND kind = 'withdrawn'"
)
STATE = (
    "SELECT s.status FROM consent_consentstate s JOIN contacts_contact c ON c.id = s.contact_id "
    "WHERE c.ledger_key = %s"
)
