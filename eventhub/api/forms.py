"""Organizer forms: API tokens and webhook receivers."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import Length

from eventhub.api.tokens import FAMILIES
from eventhub.api.webhooks import EVENT_TYPES
from eventhub.forms import CheckboxesField, ChoiceField, required


def _level_choices():
    return [("", str(_l("Ingen adgang"))), ("read", str(_l("Læse"))),
            ("write", str(_l("Læse og ændre")))]


class TokenForm(FlaskForm):
    name = StringField(_l("Navn"), validators=[
        required(), Length(max=100, message=_l("Højst 100 tegn."))],
        description=_l("Fx systemet der skal bruge nøglen: \"CRM\"."))
    whole_organization = BooleanField(_l("Gælder alle arrangementer, jeg er arrangør af"))

    def level_fields(self):
        return [(family, getattr(self, f"scope_{family}")) for family in FAMILIES]

    def chosen_scopes(self) -> list[str]:
        from eventhub.api.tokens import scopes_for

        scopes: list[str] = []
        for family, f in self.level_fields():
            if f.data:
                scopes += scopes_for(f.data, [family])
        return scopes


for _family, _label in FAMILIES.items():
    setattr(TokenForm, f"scope_{_family}", ChoiceField(_label, choices=_level_choices,
                                                       default="read"))


class WebhookForm(FlaskForm):
    url = StringField(_l("Modtagerens adresse (URL)"), validators=[
        required(), Length(max=500, message=_l("Højst 500 tegn."))],
        description=_l("En https-adresse på internettet, som modtager en POST med JSON."))
    event_types = CheckboxesField(
        _l("Hændelser"), choices=lambda: [(k, str(v)) for k, v in EVENT_TYPES.items()])
    whole_organization = BooleanField(_l("Gælder alle arrangementer, jeg er arrangør af"))
    active = BooleanField(_l("Aktiv"), default=True)
