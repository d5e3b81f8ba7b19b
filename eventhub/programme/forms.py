"""Programme forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import NumberRange, Optional, Regexp

from eventhub.forms import (
    ChoiceField,
    LocalDateTimeField,
    NumberField,
    input_required,
    max_length,
    required,
)
from eventhub.programme.models import KIND_LABELS


class RoomForm(FlaskForm):
    name = StringField(_l("Lokale"), validators=[required(_l("Skriv et navn.")), max_length(120)])
    capacity = NumberField(_l("Pladser"), validators=[Optional(), NumberRange(
        min=0, max=100000, message=_l("Skriv et tal mellem 0 og 100000."))])


class TrackForm(FlaskForm):
    name = StringField(_l("Spor"), validators=[required(_l("Skriv et navn.")), max_length(120)])
    # A colour picker: no maxlength attribute (not allowed on type=color), same check.
    colour = StringField(_l("Farve"), default="#0b5c54", validators=[Regexp(
        r"^(#[0-9a-fA-F]{6})?$", message=_l("Vælg en farve."))])


class SessionForm(FlaskForm):
    title = StringField(_l("Titel"), validators=[required(_l("Skriv en titel.")),
                                                max_length(300)])
    kind = ChoiceField(_l("Type"), choices=lambda: list(KIND_LABELS.items()), default="talk")
    starts_at = LocalDateTimeField(_l("Start"), validators=[input_required(_l("Angiv start."))])
    ends_at = LocalDateTimeField(_l("Slut"), validators=[input_required(_l("Angiv slut."))])
    room_id = ChoiceField(_l("Lokale"), default="")
    track_id = ChoiceField(_l("Spor"), default="")
    description = TextAreaField(_l("Beskrivelse"), validators=[Optional(), max_length(10000)])
    title_en = StringField(_l("Titel på engelsk"),
                           description=_l("Valgfri. Vises på den engelske side; ellers den "
                                          "danske titel."),
                           validators=[Optional(), max_length(300)])
    description_en = TextAreaField(_l("Beskrivelse på engelsk"),
                                   validators=[Optional(), max_length(10000)])
    signup_capacity = NumberField(
        _l("Pladser med tilmelding"),
        description=_l("Kun til workshops o.l., hvor deltagerne skal tilmelde sig. "
                       "Tomt felt: ingen tilmelding."),
        validators=[Optional(), NumberRange(min=0, max=100000,
                                            message=_l("Skriv et tal mellem 0 og 100000."))])
    person_ids = SelectMultipleField(
        _l("Oplægsholdere"), coerce=int, validate_choice=False,
        description=_l("Arrangementets oplægsholdere (rettes under \"Oplægsholdere\"). "
                       "Hold Ctrl (Cmd på Mac) nede for at vælge flere."))
    speaker_ids = SelectMultipleField(
        _l("Tilmeldte deltagere som oplægsholdere"), coerce=int, validate_choice=False,
        description=_l("Hold Ctrl (Cmd på Mac) nede for at vælge flere."))
    external_speakers = TextAreaField(
        _l("Nye oplægsholdere udefra"),
        description=_l("Én pr. linje: Navn; Organisation. Stilling, kort bio og foto "
                       "tilføjes under \"Oplægsholdere\"."),
        validators=[Optional(), max_length(5000)])
    confirm_warnings = BooleanField(_l("Gem alligevel – jeg har set advarslerne"))
    quiet = BooleanField(_l("Ret uden at give besked"),
                         description=_l("Til en slåfejl: ingen mail om ny tid eller nyt "
                                        "lokale."))

    def set_choices(self, rooms, tracks, registrations, people=()) -> None:
        self.person_ids.choices = [(p.id, f"{p.name} ({p.organization})" if p.organization
                                    else p.name) for p in people]
        self.room_id.choices = [("", _l("Intet lokale"))] + [(str(r.id), r.name) for r in rooms]
        self.track_id.choices = [("", _l("Intet spor"))] + [(str(t.id), t.name) for t in tracks]
        self.speaker_ids.choices = [(r.id, f"{r.name} ({r.organization.name})"
                                     if r.organization else r.name) for r in registrations]


class SpeakerForm(FlaskForm):
    registration_id = ChoiceField(
        _l("Tilmeldt deltager"), default="",
        description=_l("Er oplægsholderen tilmeldt, får vedkommende navneskilt som taler "
                       "med QR-kode. Ellers udskrives et taler-skilt uden QR-kode."))
    name = StringField(_l("Navn"), validators=[Optional(), max_length(200)],
                       description=_l("Tomt felt ved en tilmeldt deltager: navnet fra "
                                      "tilmeldingen."))
    job_title = StringField(_l("Stilling"), validators=[Optional(), max_length(200)])
    organization = StringField(_l("Organisation"), validators=[Optional(), max_length(200)])
    bio = TextAreaField(_l("Kort om oplægsholderen"), validators=[Optional(), max_length(2000)])
    photo = FileField(_l("Foto"), description=_l("JPEG, PNG eller WebP, højst 5 MB. "
                                                 "Oplysninger om kamera og sted fjernes."))
    remove_photo = BooleanField(_l("Fjern fotoet"))

    def set_choices(self, registrations) -> None:
        self.registration_id.choices = [("", _l("Ikke tilmeldt (udefra)"))] + [
            (str(r.id), f"{r.name} ({r.organization.name})" if r.organization else r.name)
            for r in registrations]


class ProgrammeImportForm(FlaskForm):
    file = FileField(_l("CSV-fil"))
    csv_text = TextAreaField(_l("Indsæt CSV"), validators=[Optional(), max_length(1_000_000)])
