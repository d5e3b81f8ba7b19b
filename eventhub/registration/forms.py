"""Registration forms. The event's own questions are read from the request by the view
(their fields are ``q_<id>``) and checked by the service."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, StringField, TextAreaField
from wtforms.validators import Optional

from eventhub.events.models import ORGANIZATION_KIND_LABELS
from eventhub.forms import ChoiceField, max_length, required
from eventhub.registration.models import (
    BADGE_LABELS,
    QUESTION_KIND_LABELS,
    REGISTRATION_STATUSES,
    STATUS_LABELS,
)


def kind_choices():
    return [("", "–")] + list(
        ORGANIZATION_KIND_LABELS.items())


class RegistrationForm(FlaskForm):
    name = StringField(_l("Navn"), validators=[required(_l("Skriv dit navn.")), max_length(200)])
    email = EmailField(_l("E-mail"), validators=[required(_l("Skriv din e-mailadresse.")),
                                                 max_length(254)])
    organization = StringField(
        _l("Organisation"),
        description=_l("Begynd at skrive, og vælg din kommune, region eller virksomhed. "
                       "Står den ikke på listen, så skriv navnet."),
        validators=[required(_l("Skriv navnet på din organisation.")), max_length(200)],
    )
    organization_kind = ChoiceField(_l("Type, hvis din organisation ikke er på listen"),
                                    choices=kind_choices,
                                    validators=[Optional()], default="")
    job_title = StringField(_l("Stilling"), validators=[Optional(), max_length(200)])
    phone = StringField(_l("Telefon (frivilligt)"), validators=[Optional(), max_length(40)],
                        render_kw={"type": "tel", "autocomplete": "tel"})
    followup_consent = BooleanField(
        _l("Arrangøren må kontakte mig om opfølgning efter arrangementet"),
        description=_l("Så kan arrangørens community managers se din e-mail og telefon og "
                       "skrive til dig om løsningerne. Du kan fortryde under \"Mine data\"."),
        default=False,
    )
    directory_consent = BooleanField(
        _l("Ja tak, vis mig i arrangementets netværksoversigt"),
        description=_l("Andre deltagere kan så se dit navn, din organisation og stilling og "
                       "sende dig en besked gennem EventHub. Din e-mailadresse vises aldrig. "
                       "Du kan fortryde når som helst."),
        default=False,
    )
    scan_consent = BooleanField(
        _l("Udstillere og oplægsholdere må scanne mit badge"),
        description=_l("Scanner de dit badge, får deres løsning dit navn, din organisation "
                       "og stilling, og du får en mail om det med et link til at trække det "
                       "tilbage. Din e-mailadresse gives ikke videre."),
        default=False,
    )


class StaffRegistrationForm(RegistrationForm):
    badge_role = ChoiceField(_l("Rolle på navneskiltet"), choices=lambda: list(
        BADGE_LABELS.items()), default="participant")


class ResendForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[required(), max_length(254)])


class CheckInCodeForm(FlaskForm):
    code = StringField(_l("Billetkode eller navn"),
                       validators=[required(_l("Skriv billetkoden eller et navn.")),
                                   max_length(300)])


class QuestionForm(FlaskForm):
    label = StringField(_l("Spørgsmål"), validators=[required(_l("Skriv spørgsmålet.")),
                                                    max_length(300)])
    label_en = StringField(_l("Spørgsmålet på engelsk"),
                           description=_l("Valgfrit. Vises på den engelske formular; ellers "
                                          "det danske."),
                           validators=[Optional(), max_length(300)])
    help_text = StringField(_l("Hjælpetekst"), validators=[Optional(), max_length(500)])
    kind = ChoiceField(_l("Type"), choices=lambda: list(QUESTION_KIND_LABELS.items()),
                       default="short_text")
    options = TextAreaField(_l("Svarmuligheder"),
                            description=_l("Én pr. linje. Kun til ét valg og flere valg."),
                            validators=[Optional(), max_length(5000)])
    required = BooleanField(_l("Skal besvares"))


class ImportForm(FlaskForm):
    file = FileField(_l("CSV-fil"))
    csv_text = TextAreaField(_l("Eller indsæt CSV"), validators=[Optional(),
                                                               max_length(2_000_000)])


def status_filter_choices():
    return [("", _l("Alle"))] + [(s, STATUS_LABELS[s]) for s in REGISTRATION_STATUSES]
