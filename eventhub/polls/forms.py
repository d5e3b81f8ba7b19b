"""Poll forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import NumberRange, Optional

from eventhub.forms import ChoiceField, NumberField, max_length, required
from eventhub.polls.models import KIND_LABELS, RESULTS_MODE_LABELS


class PollForm(FlaskForm):
    question = StringField(_l("Spørgsmål"), validators=[required(_l("Skriv spørgsmålet.")),
                                                       max_length(300)])
    kind = ChoiceField(_l("Type"), choices=lambda: list(KIND_LABELS.items()), default="single")
    options = TextAreaField(_l("Svarmuligheder"), description=_l(
        "Én pr. linje. Til ét valg, flere valg, rangordning og quiz (sæt * foran quizzens "
        "rigtige svar)."),
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
    results_visible = BooleanField(_l("Vis resultatet nu (på skærmen og telefonerne)"))
    results_mode = ChoiceField(_l("Telefonerne ser resultatet"),
                               choices=lambda: list(RESULTS_MODE_LABELS.items()),
                               default="voted")
    max_entries = NumberField(_l("Svar pr. deltager (ordsky)"), default=1,
                              description=_l("1 til 5. Hvert svar er ét til tre ord."),
                              validators=[Optional()])
    qa_names = BooleanField(_l("Deltagerne må skrive deres navn ved spørgsmålet (ellers "
                               "anonymt)"))
    time_limit = NumberField(_l("Tidsgrænse i sekunder (quiz)"), validators=[Optional()])
