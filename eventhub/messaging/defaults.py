"""The default texts of an event's mails, in Danish and English: (subject, body), with
{{ placeholders }} (eventhub/messaging/texts.py lists them per mail)."""

from __future__ import annotations

DEFAULTS: dict[str, dict[str, tuple[str, str]]] = {
    "receipt": {
        "da": ("Du er tilmeldt {{ arrangement }}",
               "Hej {{ navn }}\n\nTak for din tilmelding. Din plads er bekræftet.\n\n"
               "{{ arrangement }}\n{{ dato }}\n{{ sted }}\n\n"
               "Se, ret eller afmeld din tilmelding her (dit personlige link – del det ikke):\n"
               "{{ personligt_link }}\n\nDin billet:\n{{ billet }}\n\n"
               "Venlig hilsen\n{{ kontakt }}"),
        "en": ("You are registered for {{ arrangement }}",
               "Hello {{ navn }}\n\nThank you for registering. Your place is secured.\n\n"
               "{{ arrangement }}\n{{ dato }}\n{{ sted }}\n\n"
               "See, change or cancel your registration here (your personal link – do not "
               "share it):\n{{ personligt_link }}\n\nYour ticket:\n{{ billet }}\n\n"
               "Kind regards\n{{ kontakt }}"),
    },
    "waitlist": {
        "da": ("Du er på venteliste til {{ arrangement }}",
               "Hej {{ navn }}\n\nArrangementet er fuldt, så du står på ventelisten som "
               "nummer {{ plads }}. Bliver der en plads ledig, får du den automatisk og får "
               "besked på mail.\n\n{{ personligt_link }}\n\nVenlig hilsen\n{{ kontakt }}"),
        "en": ("You are on the waitlist for {{ arrangement }}",
               "Hello {{ navn }}\n\nThe event is full, so you are number {{ plads }} on the "
               "waitlist. If a place becomes free, it is yours automatically and you "
               "will hear by mail.\n\n{{ personligt_link }}\n\nKind regards\n{{ kontakt }}"),
    },
    "promotion": {
        "da": ("Du har fået en plads til {{ arrangement }}",
               "Hej {{ navn }}\n\nDer er blevet en plads ledig, og den er din.\n\n"
               "{{ arrangement }}\n{{ dato }}\n{{ sted }}\n\nDin billet:\n{{ billet }}\n\n"
               "Venlig hilsen\n{{ kontakt }}"),
        "en": ("You have a place at {{ arrangement }}",
               "Hello {{ navn }}\n\nA place became free, and it is yours.\n\n"
               "{{ arrangement }}\n{{ dato }}\n{{ sted }}\n\nYour ticket:\n{{ billet }}\n\n"
               "Kind regards\n{{ kontakt }}"),
    },
    "reminder": {
        "da": ("Snart: {{ arrangement }}",
               "Hej {{ navn }}\n\nVi glæder os til at se dig til {{ arrangement }}.\n\n"
               "Hvornår: {{ dato }}\nHvor: {{ sted }}"
               "{% if vejviser %}\n{{ vejviser }}{% endif %}\n\n"
               "Din billet (QR-koden er vedhæftet – vis den ved indgangen):\n{{ billet }}\n\n"
               "Din dag i programmet:\n{{ min_dag }}\n\n"
               "Kan du ikke komme alligevel? Afmeld dig her, så en anden kan få pladsen:\n"
               "{{ personligt_link }}\n\nVenlig hilsen\n{{ kontakt }}"),
        "en": ("Soon: {{ arrangement }}",
               "Hello {{ navn }}\n\nWe look forward to seeing you at {{ arrangement }}.\n\n"
               "When: {{ dato }}\nWhere: {{ sted }}"
               "{% if vejviser %}\n{{ vejviser }}{% endif %}\n\n"
               "Your ticket (the QR code is attached – show it at the entrance):\n"
               "{{ billet }}\n\nYour day in the programme:\n{{ min_dag }}\n\n"
               "Can't make it? Cancel here, so someone else can have the place:\n"
               "{{ personligt_link }}\n\nKind regards\n{{ kontakt }}"),
    },
    "morning": {
        "da": ("I dag: {{ arrangement }}",
               "Godmorgen {{ navn }}\n\nI dag er det {{ arrangement }}.\n\n"
               "{{ dato }}\n{{ sted }}{% if vejviser %}\n{{ vejviser }}{% endif %}\n\n"
               "Din billet:\n{{ billet }}\n\n"
               "Din dag:\n{{ min_dag }}\n\nVi ses!\n{{ kontakt }}"),
        "en": ("Today: {{ arrangement }}",
               "Good morning {{ navn }}\n\nToday is {{ arrangement }}.\n\n"
               "{{ dato }}\n{{ sted }}{% if vejviser %}\n{{ vejviser }}{% endif %}\n\n"
               "Your ticket:\n{{ billet }}\n\n"
               "Your day:\n{{ min_dag }}\n\nSee you!\n{{ kontakt }}"),
    },
    "change": {
        "da": ("Ændringer i {{ arrangement }}",
               "Hej {{ navn }}\n\nDer er ændringer i {{ arrangement }}, som angår dig:\n\n"
               "{{ aendringer }}\n\nDen opdaterede kalenderfil er vedhæftet; din kalender "
               "retter de samme aftaler.\n\nProgrammet:\n{{ program }}\n\n"
               "Venlig hilsen\n{{ kontakt }}"),
        "en": ("Changes to {{ arrangement }}",
               "Hello {{ navn }}\n\nThere are changes to {{ arrangement }} that concern "
               "you:\n\n{{ aendringer }}\n\nThe updated calendar file is attached; your "
               "calendar updates the same entries.\n\nThe programme:\n{{ program }}\n\n"
               "Kind regards\n{{ kontakt }}"),
    },
    "thanks": {
        "da": ("Tak for i dag: {{ arrangement }}",
               "Hej {{ navn }}\n\nTak fordi du var med til {{ arrangement }}.\n\n"
               "{% if evaluering %}Fortæl os, hvad du syntes (det tager et par minutter):\n"
               "{{ evaluering }}\n\n{% endif %}"
               "{% if bevis %}Dit deltagerbevis er vedhæftet og kan også hentes her:\n"
               "{{ bevis }}\n\n{% endif %}Venlig hilsen\n{{ kontakt }}"),
        "en": ("Thank you: {{ arrangement }}",
               "Hello {{ navn }}\n\nThank you for taking part in {{ arrangement }}.\n\n"
               "{% if evaluering %}Tell us what you thought (it takes a few minutes):\n"
               "{{ evaluering }}\n\n{% endif %}"
               "{% if bevis %}Your certificate of attendance is attached and can also be "
               "downloaded here:\n{{ bevis }}\n\n{% endif %}Kind regards\n{{ kontakt }}"),
    },
    "certificate": {
        "da": ("Deltagerbevis",
               "{{ navn }}{% if organisation %}, {{ organisation }}{% endif %}, har deltaget "
               "i {{ arrangement }}, {{ dato }}, {{ sted }}."),
        "en": ("Certificate of attendance",
               "{{ navn }}{% if organisation %}, {{ organisation }}{% endif %}, attended "
               "{{ arrangement }}, {{ dato }}, {{ sted }}."),
    },
    "message": {
        "da": ("{{ emne }}", "{{ besked }}\n\nVenlig hilsen\n{{ kontakt }}"),
        "en": ("{{ emne }}", "{{ besked }}\n\nKind regards\n{{ kontakt }}"),
    },
    "followup": {
        "da": ("{{ emne }}", "{{ besked }}"),
        "en": ("{{ emne }}", "{{ besked }}"),
    },
}
