"""Follow-up forms: leads, moves, notes, the list's filters, follow-up mail, the survey."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField

from eventhub.followup.mailing import MAX_BODY, MAX_SUBJECT, ORG_KIND_LABELS, SEGMENTS
from eventhub.followup.models import STAGES
from eventhub.followup.services import MAX_NOTE, MAX_REASON
from eventhub.forms import CheckboxesField, ChoiceField, DayField, max_length, optional


def stage_choices():
    return [(key, str(label)) for key, label in STAGES.items()]


class LeadForm(FlaskForm):
    solution = ChoiceField(_l("Løsning"))
    registration = ChoiceField(_l("Deltager"), validators=[optional()],
                               description=_l("Eller vælg kun en organisation nedenfor."))
    organization = ChoiceField(_l("Organisation"), validators=[optional()],
                               description=_l("Tom: deltagerens egen organisation."))
    owner = ChoiceField(_l("Ansvarlig"), validators=[optional()])
    due_on = DayField(_l("Frist"), validators=[optional()])
    note = TextAreaField(_l("Note"), validators=[optional(), max_length(MAX_NOTE)])


class MoveForm(FlaskForm):
    stage = ChoiceField(_l("Ny fase"), choices=stage_choices)
    reason = StringField(_l("Begrundelse (når leadet droppes)"),
                         validators=[optional(), max_length(MAX_REASON)])
    note = TextAreaField(_l("Note"), validators=[optional(), max_length(MAX_NOTE)])


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[max_length(MAX_NOTE)])


class AssignForm(FlaskForm):
    owner = ChoiceField(_l("Ansvarlig"), validators=[optional()])
    due_on = DayField(_l("Frist"), validators=[optional()])


class FilterForm(FlaskForm):
    """GET form: no CSRF (it changes nothing)."""

    class Meta:
        csrf = False

    owner = ChoiceField(_l("Ansvarlig"), validators=[optional()])
    solution = ChoiceField(_l("Løsning"), validators=[optional()])
    stage = ChoiceField(_l("Fase"), validators=[optional()],
                        choices=lambda: [("", _l("Alle"))] + stage_choices())
    overdue = BooleanField(_l("Kun overskredne frister"))


class MailForm(FlaskForm):
    segment = ChoiceField(_l("Modtagere"), choices=lambda: [
        (k, str(v)) for k, v in SEGMENTS.items()])
    solution = ChoiceField(_l("Løsning (for dem med interesse)"), validators=[optional()])
    org_kind = ChoiceField(_l("Type organisation"), validators=[optional()], choices=lambda: [
        ("", _l("Vælg"))] + [(k, str(v)) for k, v in ORG_KIND_LABELS.items()])
    subject = StringField(_l("Emne"), validators=[optional(), max_length(MAX_SUBJECT)])
    body = TextAreaField(_l("Tekst"), validators=[optional(), max_length(MAX_BODY)])


class SurveyForm(FlaskForm):
    polls = CheckboxesField(_l("Afstemninger i evalueringen"), coerce=int)
