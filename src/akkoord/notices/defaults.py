"""The texts a new install starts with; staff edit them in the settings.

The Dutch texts say "u". An organisation that chose "je" as its form of address
gets the informal twin of a Dutch text that staff left as it was
(:func:`in_chosen_form`); a text staff edited is theirs, and sent as written.
"""

from akkoord.organisation import address
from akkoord.organisation.models import FormOfAddress

SUBJECT_NL = "Uw gegevens bij {{ organisation_name }}"
SUBJECT_EN = "Your data at {{ organisation_name }}"

BODY_NL = """{% if first_name %}Beste {{ first_name }},{% else %}Beste lezer,{% endif %}

{{ organisation_name }} heeft uw persoonsgegevens opgeslagen. Wij laten u graag weten wat wij bewaren en waarom.

Welke gegevens wij van u bewaren:
{% for category in categories %}- {{ category }}
{% endfor %}
Waarvoor wij ze gebruiken:
{% for purpose in purposes %}- {{ purpose }}
{% empty %}- Contact met u over uw relatie met ons
{% endfor %}
U kunt uw toestemming altijd intrekken, kosteloos en zonder opgave van reden. Dat kan met één klik onder elke e-mail die wij u sturen, of in uw persoonlijke klantenpagina.

Uw gegevens zijn veilig: ze staan in onze eigen beveiligde omgeving, alleen medewerkers die ze nodig hebben kunnen erbij, en wij verkopen ze niet. Wij delen ze alleen met de verwerkers die ons helpen e-mail te versturen, onder een verwerkersovereenkomst.

In uw persoonlijke klantenpagina kunt u uw gegevens inzien, verbeteren, downloaden of laten verwijderen, en kiezen welke e-mails u ontvangt:
{{ centre_url }}
Deze link is geldig tot en met {{ centre_valid_until }} ({{ centre_valid_days }} dagen).
{% if privacy_statement_url %}
Onze privacyverklaring: {{ privacy_statement_url }}{% endif %}{% if organisation_email %}
Vragen? Mail ons via {{ organisation_email }}.{% endif %}

Met vriendelijke groet,
{{ organisation_name }}
"""

BODY_EN = """{% if first_name %}Dear {{ first_name }},{% else %}Dear reader,{% endif %}

{{ organisation_name }} has stored your personal data. We would like you to know what we keep and why.

What we store about you:
{% for category in categories %}- {{ category }}
{% endfor %}
What we use it for:
{% for purpose in purposes %}- {{ purpose }}
{% empty %}- Keeping in touch with you about your relationship with us
{% endfor %}
You can withdraw your consent at any time, free of charge and without giving a reason: with one click at the bottom of every e-mail we send you, or in your personal customer centre.

Your data is kept safe: it is stored in our own secured environment, only staff who need it can see it, and we never sell it. We share it only with the processors that help us send e-mail, under a data processing agreement.

In your personal customer centre you can see, correct, download or erase your data, and choose which e-mails you receive:
{{ centre_url }}
This link is valid until {{ centre_valid_until }} ({{ centre_valid_days }} days).
{% if privacy_statement_url %}
Our privacy statement: {{ privacy_statement_url }}{% endif %}{% if organisation_email %}
Questions? Write to us at {{ organisation_email }}.{% endif %}

Kind regards,
{{ organisation_name }}
"""

SUBJECT_NL_INFORMAL = "Je gegevens bij {{ organisation_name }}"

BODY_NL_INFORMAL = """{% if first_name %}Beste {{ first_name }},{% else %}Beste lezer,{% endif %}

{{ organisation_name }} heeft je persoonsgegevens opgeslagen. We laten je graag weten wat we bewaren en waarom.

Welke gegevens we van je bewaren:
{% for category in categories %}- {{ category }}
{% endfor %}
Waarvoor we ze gebruiken:
{% for purpose in purposes %}- {{ purpose }}
{% empty %}- Contact met jou over je relatie met ons
{% endfor %}
Je kunt je toestemming altijd intrekken, kosteloos en zonder opgave van reden. Dat kan met één klik onder elke e-mail die we je sturen, of op je persoonlijke klantenpagina.

Je gegevens zijn veilig: ze staan in onze eigen beveiligde omgeving, alleen medewerkers die ze nodig hebben kunnen erbij, en we verkopen ze niet. We delen ze alleen met de verwerkers die ons helpen e-mail te versturen, onder een verwerkersovereenkomst.

Op je persoonlijke klantenpagina kun je je gegevens inzien, verbeteren, downloaden of laten verwijderen, en kiezen welke e-mails je ontvangt:
{{ centre_url }}
Deze link is geldig tot en met {{ centre_valid_until }} ({{ centre_valid_days }} dagen).
{% if privacy_statement_url %}
Onze privacyverklaring: {{ privacy_statement_url }}{% endif %}{% if organisation_email %}
Vragen? Mail ons via {{ organisation_email }}.{% endif %}

Met vriendelijke groet,
{{ organisation_name }}
"""

_INFORMAL = {SUBJECT_NL: SUBJECT_NL_INFORMAL, BODY_NL: BODY_NL_INFORMAL}


def in_chosen_form(text_nl: str) -> str:
    """``text_nl`` in the organisation's form of address, if it is an unedited default."""
    if text_nl in _INFORMAL and address.current() == FormOfAddress.INFORMAL:
        return _INFORMAL[text_nl]
    return text_nl
