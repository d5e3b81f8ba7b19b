"""Poll forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import NumberRange, Optional

from eventhub.forms import ChoiceField, NumberField, max_length, required
from eventhub.polls.models import KIND_LABELS


class PollForm(FlaskForm):
    question = StringField(_l("Spørgsmål"), validators=[required(_l("Skriv spørgsmålet.")),
                                                       max_length(300)])
    kind = ChoiceField(_l("Type"), choices=lambda: list(KIND_LABELS.items()), default="single")
    options = TextAreaField(_l("Svarmuligheder"), description=_l(
        "Én pr. linje. Kun til ét valg og flere valg."),
        validators=[Optional(), max_length(5000)])
    max_choices = NumberField(_l("Højst antal valg"), description=_l("Kun til flere valg."),
                              validators=[Optional(), NumberRange(min=1, max=50, message=_l(
                                  "Skriv et tal mellem 1 og 50."))])
    scale_min = NumberField(_l("Skala fra"), default=1, validators=[Optional()])
    scale_max = NumberField(_l("Skala til"), default=5, validators=[Optional()])
    banned_words = StringField(_l("Forbudte ord (ordsky)"), description=_l(
        "Adskil med komma."), validators=[Optional(), max_length(2000)])
    session_id = ChoiceField(_l("Programpunkt"), default="")
    audience = ChoiceField(_l("Hvem kan stemme"), choices=lambda: [
        ("anyone", _l("Alle med koden")),
        ("registered", _l("Kun tilmeldte deltagere"))], default="anyone")
    allow_change = BooleanField(_l("Man må ændre sin stemme, mens afstemningen er åben"))
    results_visible = BooleanField(_l("Vis resultatet på telefonerne"))
