"""Directory forms: search, profile, experience, solution, contact request."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    StringField,
    TextAreaField,
)

from eventhub.directory.models import CATEGORIES, EXPERIENCE_STATUSES, MAST_DOMAINS, MATURITY
from eventhub.events.models import ORGANIZATION_KINDS
from eventhub.forms import CheckboxesField, ChoiceField, DayField, max_length, optional, required


def category_choices():
    return [(key, str(label)) for key, label in CATEGORIES.items()]


class SearchForm(FlaskForm):
    """GET form: no CSRF (it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(_l("Søg"), validators=[optional(), max_length(200)])
    kind = ChoiceField(_l("Vis"), validators=[optional()], choices=lambda: [
        ("", _l("Alt")), ("person", _l("Personer")), ("organization", _l("Organisationer")),
        ("solution", _l("Løsninger")), ("experience", _l("Erfaringer"))])
    org_kind = ChoiceField(_l("Organisationstype"), validators=[optional()], choices=lambda: [
        ("", _l("Alle"))] + [(k, str(ORG_KIND_LABELS[k])) for k in ORGANIZATION_KINDS])
    region = ChoiceField(_l("Region"), validators=[optional()])
    municipality = ChoiceField(_l("Kommune"), validators=[optional()])
    category = ChoiceField(_l("Kategori"), validators=[optional()],
                           choices=lambda: [("", _l("Alle"))] + category_choices())
    status = ChoiceField(_l("Erfaring"), validators=[optional()], choices=lambda: [
        ("", _l("Alle"))] + [(k, str(v)) for k, v in EXPERIENCE_STATUSES.items()])


ORG_KIND_LABELS = {
    "municipality": _l("Kommune"), "region": _l("Region"), "company": _l("Virksomhed"),
    "knowledge": _l("Videninstitution"), "other": _l("Andet"),
}


class ProfileForm(FlaskForm):
    consent = BooleanField(_l("Vis mig i netværket for dette arrangement"),
                           description=_l("Andre deltagere kan se dit navn, din organisation, "
                                          "din stilling og det, du skriver her – aldrig din "
                                          "e-mailadresse. Du kan trække samtykket tilbage når "
                                          "som helst."))
    bio = TextAreaField(_l("Kort om mig"), validators=[optional(), max_length(1000)])
    can_help_with = TextAreaField(_l("Jeg kan hjælpe med"),
                                  validators=[optional(), max_length(1000)])
    looking_for = TextAreaField(_l("Jeg leder efter"), validators=[optional(), max_length(1000)])
    looking_for_categories = CheckboxesField(_l("Områder, jeg interesserer mig for"),
                                             choices=category_choices)


class ExperienceForm(FlaskForm):
    status = ChoiceField(_l("Status"), validators=[required()], choices=lambda: [
        (k, str(v)) for k, v in EXPERIENCE_STATUSES.items()])
    since = DayField(_l("Siden"), validators=[optional()])
    scale = StringField(_l("Omfang"), validators=[optional(), max_length(200)],
                        description=_l("Fx 250 borgere eller 4 plejecentre."))
    effect_clinical = TextAreaField(MAST_DOMAINS["effect_clinical"],
                                    validators=[optional(), max_length(5000)])
    effect_patient = TextAreaField(MAST_DOMAINS["effect_patient"],
                                   validators=[optional(), max_length(5000)])
    effect_economic = TextAreaField(MAST_DOMAINS["effect_economic"],
                                    validators=[optional(), max_length(5000)])
    effect_organisational = TextAreaField(MAST_DOMAINS["effect_organisational"],
                                          validators=[optional(), max_length(5000)])
    lessons = TextAreaField(_l("Det virkede ikke / det lærte vi"),
                            validators=[optional(), max_length(5000)])
    evidence_url = StringField(_l("Link til evaluering eller dokumentation"),
                               validators=[optional(), max_length(300)])


class SolutionForm(FlaskForm):
    name = StringField(_l("Navn"), validators=[required(), max_length(200)])
    summary = StringField(_l("Kort beskrivelse"), validators=[optional(), max_length(500)])
    description = TextAreaField(_l("Beskrivelse"), validators=[optional(), max_length(5000)])
    provider = StringField(_l("Leverandør eller ejer"), validators=[optional(), max_length(200)],
                           description=_l("Organisationens navn, fx en virksomhed eller en "
                                          "kommune."))
    categories = CheckboxesField(_l("Kategorier"), choices=category_choices)
    target_group = StringField(_l("Målgruppe"), validators=[optional(), max_length(200)])
    maturity = ChoiceField(_l("Modenhed"), choices=lambda: [
        (k, str(v)) for k, v in MATURITY.items()], default="ready")
    website = StringField(_l("Hjemmeside"), validators=[optional(), max_length(300)])


class ContactForm(FlaskForm):
    message = TextAreaField(_l("Besked"), validators=[required(), max_length(1000)],
                            description=_l("Skriv kort, hvem du er, og hvad du gerne vil tale "
                                           "om. Din e-mailadresse deles først, hvis modtageren "
                                           "siger ja."))
    solution_id = HiddenField()


class PresentationForm(FlaskForm):
    """Which catalogue solutions a session presents; speakers ticked per solution."""

    solutions = CheckboxesField(_l("Løsninger, der præsenteres"), coerce=int)
