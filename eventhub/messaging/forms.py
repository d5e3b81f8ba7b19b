"""Forms of the event's mail pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import NumberRange

from eventhub.directory.forms import CheckboxesField
from eventhub.followup.forms import MailForm
from eventhub.followup.mailing import STATUS_CHOICES
from eventhub.forms import ChoiceField, NumberField, max_length, optional
from eventhub.messaging.texts import MAX_BODY, MAX_SUBJECT
from eventhub.registration.models import STATUS_LABELS


class RuleForm(FlaskForm):
    enabled = BooleanField(_l("Send denne mail"))
    days_before = NumberField(
        _l("Dage før start"), validators=[optional(), NumberRange(
            min=1, max=60, message=_l("Skriv et tal mellem 1 og 60."))])


class TextForm(FlaskForm):
    subject = StringField(_l("Emne"), validators=[optional(), max_length(MAX_SUBJECT)])
    body = TextAreaField(_l("Tekst"), validators=[optional(), max_length(MAX_BODY)])


class MessageForm(MailForm):
    """The follow-up mail's form with the segments of an organizer's message."""

    status = ChoiceField(_l("Status"), validators=[optional()], choices=lambda: [
        ("", _l("Vælg"))] + [(s, str(STATUS_LABELS[s])) for s in STATUS_CHOICES])
    session = ChoiceField(_l("Programpunkt"), validators=[optional()])
    registrations = CheckboxesField(_l("Udvalgte fra deltagerlisten"), coerce=int)


class PreviewForm(FlaskForm):
    registration = ChoiceField(_l("Vis mailen, som denne deltager får den"),
                               validators=[optional()])
