"""The texts a new install starts with; staff edit them in the settings."""

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
