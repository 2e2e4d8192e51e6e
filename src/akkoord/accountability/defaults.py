"""Standard texts for the parts of the privacy statement Akkoord can word itself.

These are content in both languages (not interface strings): staff may edit
them; the statement refuses to publish when one is emptied.
"""

DEFAULT_TEXTS = {
    "security_nl": (
        "Toegang alleen voor medewerkers met een eigen account, sterk wachtwoord en "
        "tweestapsverificatie; automatisch afmelden bij inactiviteit; een logboek van wie "
        "persoonsgegevens inzag, wijzigde of exporteerde; versleutelde verbindingen (TLS); "
        "versleutelde exportbestanden; geen scripts of lettertypen van derden."
    ),
    "security_en": (
        "Access only for staff with their own account, a strong password and two-factor "
        "authentication; automatic sign-out after inactivity; a log of who viewed, changed or "
        "exported personal data; encrypted connections (TLS); encrypted export files; no "
        "third-party scripts or fonts."
    ),
    "rights_nl": (
        "U heeft het recht uw persoonsgegevens in te zien, te laten corrigeren of te laten "
        "wissen, en ze in een gangbaar bestandsformaat te ontvangen. Dat kan zelf via de link "
        "naar uw klantenpagina in onze e-mails, of door ons te mailen."
    ),
    "rights_en": (
        "You have the right to see your personal data, to have it corrected or erased, and to "
        "receive it in a common file format. You can do this yourself through the link to your "
        "customer page in our e-mails, or by e-mailing us."
    ),
    "objection_nl": (
        "U kunt altijd bezwaar maken tegen het gebruik van uw gegevens voor direct marketing. "
        "Wij stoppen daar dan direct mee, zonder dat u een reden hoeft te geven."
    ),
    "objection_en": (
        "You can object at any time to the use of your data for direct marketing. We then stop "
        "at once, and you do not need to give a reason."
    ),
    "withdrawal_nl": (
        "Gaf u toestemming, dan kunt u die op elk moment weer intrekken: met één klik op de "
        "afmeldlink onder elke e-mail of via uw klantenpagina. Dat is even makkelijk als het "
        "geven ervan."
    ),
    "withdrawal_en": (
        "If you gave consent, you can withdraw it at any time: with one click on the unsubscribe "
        "link under every e-mail or through your customer page. It is as easy as giving it."
    ),
    "complaint_nl": (
        "Bent u niet tevreden over hoe wij met uw gegevens omgaan, dan heeft u het recht een "
        "klacht in te dienen bij de Autoriteit Persoonsgegevens (autoriteitpersoonsgegevens.nl)."
    ),
    "complaint_en": (
        "If you are not satisfied with how we handle your data, you have the right to lodge a "
        "complaint with the Dutch Data Protection Authority, the Autoriteit Persoonsgegevens "
        "(autoriteitpersoonsgegevens.nl)."
    ),
    "required_nl": (
        "Wij zijn niet wettelijk verplicht deze gegevens te vragen en u bent niet verplicht ze "
        "te geven. Zonder e-mailadres kunnen wij u echter geen nieuwsbrief of andere berichten "
        "sturen; voor een aankoop hebben wij de gegevens nodig om de overeenkomst uit te voeren."
    ),
    "required_en": (
        "We are not required by law to ask for this data and you are not obliged to give it. "
        "Without an e-mail address, however, we cannot send you a newsletter or other messages; "
        "for a purchase we need the data to perform the contract."
    ),
    "automated_nl": (
        "Wij nemen geen besluiten op basis van geautomatiseerde verwerking of profilering. Onze "
        "aanmeld- en klantenpagina's plaatsen alleen een strikt noodzakelijk cookie voor de "
        "beveiliging van formulieren; geen tracking- of advertentiecookies. Het meten van het "
        "openen van e-mails en klikken op links staat uit, tenzij u daarvoor toestemming gaf."
    ),
    "automated_en": (
        "We take no decisions based on automated processing or profiling. Our sign-up and "
        "customer pages only set a strictly necessary cookie that protects the forms; no "
        "tracking or advertising cookies. Measuring e-mail opens and link clicks is off unless "
        "you consented to it."
    ),
}

# The Dutch standard texts as they read when the organisation addresses people
# with "je". Used only while a text is still the standard one: a text staff
# edited is theirs and is shown as written.
INFORMAL_NL = {
    "rights_nl": (
        "Je hebt het recht je persoonsgegevens in te zien, te laten corrigeren of te laten "
        "wissen, en ze in een gangbaar bestandsformaat te ontvangen. Dat kan zelf via de link "
        "naar je klantenpagina in onze e-mails, of door ons te mailen."
    ),
    "objection_nl": (
        "Je kunt altijd bezwaar maken tegen het gebruik van je gegevens voor direct marketing. "
        "Wij stoppen daar dan direct mee, zonder dat je een reden hoeft te geven."
    ),
    "withdrawal_nl": (
        "Gaf je toestemming, dan kun je die op elk moment weer intrekken: met één klik op de "
        "afmeldlink onder elke e-mail of via je klantenpagina. Dat is even makkelijk als het "
        "geven ervan."
    ),
    "complaint_nl": (
        "Ben je niet tevreden over hoe wij met je gegevens omgaan, dan heb je het recht een "
        "klacht in te dienen bij de Autoriteit Persoonsgegevens (autoriteitpersoonsgegevens.nl)."
    ),
    "required_nl": (
        "Wij zijn niet wettelijk verplicht deze gegevens te vragen en je bent niet verplicht ze "
        "te geven. Zonder e-mailadres kunnen wij je echter geen nieuwsbrief of andere berichten "
        "sturen; voor een aankoop hebben wij de gegevens nodig om de overeenkomst uit te voeren."
    ),
    "automated_nl": (
        "Wij nemen geen besluiten op basis van geautomatiseerde verwerking of profilering. Onze "
        "aanmeld- en klantenpagina's plaatsen alleen een strikt noodzakelijk cookie voor de "
        "beveiliging van formulieren; geen tracking- of advertentiecookies. Het meten van het "
        "openen van e-mails en klikken op links staat uit, tenzij je daarvoor toestemming gaf."
    ),
}
