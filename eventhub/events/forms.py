"""Event and staff forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, StringField, TextAreaField
from wtforms.validators import NumberRange

from eventhub.events.models import LANGUAGES, ROLE_LABELS, STATUS_LABELS
from eventhub.forms import (
    ChoiceField,
    DayField,
    LocalDateTimeField,
    NumberField,
    input_required,
    max_length,
    optional,
    required,
)


def status_choices():
    return list(STATUS_LABELS.items())


def role_choices():
    return list(ROLE_LABELS.items())


class EventForm(FlaskForm):
    title = StringField(_l("Titel"), validators=[required(_l("Skriv en titel.")), max_length(200)])
    slug = StringField(
        _l("Kortnavn i adressen"),
        description=_l("Bruges i adressen /e/kortnavn. Små bogstaver, tal og bindestreger."),
        validators=[optional(), max_length(80)],
    )
    description = TextAreaField(_l("Beskrivelse"), validators=[optional(), max_length(20000)])
    language = ChoiceField(
        _l("Arrangementets sprog"), default="da",
        choices=lambda: [(code, str(label)) for code, label in LANGUAGES.items()],
        description=_l("Navneskilte og billetter udskrives på dette sprog, uanset hvilket "
                       "sprog du selv bruger."))
    title_en = StringField(_l("Titel på engelsk"),
                           description=_l("Valgfri. Vises for dem, der bruger EventHub på "
                                          "engelsk; ellers den danske titel."),
                           validators=[optional(), max_length(200)])
    description_en = TextAreaField(_l("Beskrivelse på engelsk"),
                                   validators=[optional(), max_length(20000)])
    venue = StringField(_l("Sted"), validators=[optional(), max_length(300)])
    starts_at = LocalDateTimeField(_l("Start"), validators=[input_required(_l("Angiv start."))])
    ends_at = LocalDateTimeField(_l("Slut"), validators=[input_required(_l("Angiv slut."))])
    capacity = NumberField(
        _l("Antal pladser"),
        description=_l("Tomt felt: ingen grænse."),
        validators=[optional(), NumberRange(min=0, max=100000,
                                            message=_l("Skriv et tal mellem 0 og 100000."))],
    )
    registration_opens_at = LocalDateTimeField(_l("Tilmelding åbner"), validators=[optional()])
    registration_closes_at = LocalDateTimeField(_l("Tilmelding lukker"), validators=[optional()])
    requires_approval = BooleanField(
        _l("Tilmeldinger skal godkendes af en arrangør"),
        description=_l("Ellers bekræftes tilmeldinger automatisk, så længe der er plads."),
    )
    privacy_notice = TextAreaField(
        _l("Privatlivspolitik"),
        description=_l("Vises for deltagerne og linkes fra tilmeldingen. Tomt felt: en "
                       "standardtekst."),
        validators=[optional(), max_length(20000)],
    )
    directory_open_until = DayField(
        _l("Netværksoversigten er åben til"), validators=[optional()]
    )
    retention_until = DayField(_l("Persondata slettes efter"), validators=[optional()])
    contact_name = StringField(
        _l("Kontaktperson"),
        description=_l("Navnet, deltagerne ser som afsender af arrangementets mails."),
        validators=[optional(), max_length(200)])
    contact_email = EmailField(
        _l("Kontaktadresse"),
        description=_l("Svar på arrangementets mails går hertil. Skal udfyldes, før "
                       "arrangementet offentliggøres."),
        validators=[optional(), max_length(254)])
    quiet = BooleanField(
        _l("Ret uden at give besked"),
        description=_l("Til en slåfejl: deltagerne får ingen mail om ændringen af tid "
                       "eller sted."))


class CloneForm(FlaskForm):
    title = StringField(_l("Den nye udgaves titel"),
                        validators=[required(_l("Skriv en titel.")), max_length(200)])
    slug = StringField(
        _l("Kortnavn i adressen"),
        description=_l("Bruges i adressen /e/kortnavn. Tomt felt: lavet ud fra titlen."),
        validators=[optional(), max_length(80)])
    starts_on = DayField(
        _l("Første dag"),
        description=_l("Programmet flyttes hele dage frem: hvert punkt beholder sit "
                       "klokkeslæt og sin dag i forhold til første dag."),
        validators=[input_required(_l("Vælg den nye udgaves første dag."))])
    with_staff = BooleanField(_l("Giv holdet de samme roller på den nye udgave"),
                              default=True)


class PicturesForm(FlaskForm):
    cover = FileField(_l("Forsidebillede"),
                      description=_l("JPEG, PNG eller WebP, højst 5 MB. Vises øverst på "
                                     "arrangementets side, i to størrelser til telefon og "
                                     "computer. Oplysninger om kamera og sted fjernes."))
    cover_alt = StringField(_l("Hvad viser billedet?"),
                            description=_l("Alt-tekst til dem, der ikke kan se billedet."),
                            validators=[optional(), max_length(300)])
    remove_cover = BooleanField(_l("Fjern forsidebilledet"))
    logo = FileField(_l("Logo"), description=_l("JPEG, PNG eller WebP, højst 5 MB."))
    logo_alt = StringField(_l("Logoets tekst"),
                           description=_l("Fx navnet på den, logoet tilhører."),
                           validators=[optional(), max_length(300)])
    remove_logo = BooleanField(_l("Fjern logoet"))
    directions = TextAreaField(
        _l("Sådan finder du vej"),
        description=_l("Vises under adressen med et link til kortet: offentlig transport, "
                       "parkering, indgang."),
        validators=[optional(), max_length(5000)])


class InviteForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[required(), max_length(254)])
    name = StringField(_l("Navn"), validators=[optional(), max_length(200)])
    role = ChoiceField(_l("Rolle"), choices=role_choices, default="organizer")


def attach_errors(form: FlaskForm, exc) -> None:
    """A service's field problems beside their fields (the rest above the form)."""
    for problem in getattr(exc, "problems", [exc]):
        field = form[problem.field] if problem.field and problem.field in form else None
        if field is not None:
            field.errors = list(field.errors) + [problem.message]
        else:
            form.form_errors.append(problem.message)
