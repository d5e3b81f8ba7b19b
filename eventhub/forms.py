"""Form fields with our own (translatable) messages; WTForms ships no Danish."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    ValidationError,
    widgets,
)
from wtforms.csrf.core import CSRFTokenField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from eventhub.timeutil import FIRST_YEAR, LAST_YEAR, in_range, range_message

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


class LocalDateTimeField(DateTimeLocalField):
    """A ``datetime-local`` input read as Copenhagen wall-clock time, in the years
    ``timeutil`` allows (the browser's picker is told them too)."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("format", DATETIME_FORMATS)
        kwargs["render_kw"] = {"min": f"{FIRST_YEAR}-01-01T00:00",
                               "max": f"{LAST_YEAR}-12-31T23:59", **kwargs.get("render_kw", {})}
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        raw = valuelist[0].strip()
        for fmt in self.format:
            try:
                value = datetime.strptime(raw, fmt)
            except ValueError:
                continue
            if not in_range(value):
                break
            self.data = value
            return
        else:
            self.data = None
            raise ValueError(_l("Skriv dato og klokkeslæt som dd-mm-åååå tt:mm."))
        self.data = None
        raise ValueError(range_message())

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.strftime("%Y-%m-%dT%H:%M") if self.data else ""


class ChoiceField(SelectField):
    """A select whose "not a valid choice" message is ours. Blanks around the value are
    dropped: an ``optional()`` field clears the choice check for a blank value, which
    would otherwise reach the view as " "."""

    def process_formdata(self, valuelist):
        super().process_formdata([v.strip() if isinstance(v, str) else v
                                  for v in valuelist or []])

    def pre_validate(self, form):
        values = [str(value) for value, _label, *_rest in self.iter_choices()]
        if self.data is None or str(self.data) not in values:
            raise ValidationError(_l("Vælg en af mulighederne på listen."))


class CheckboxesField(SelectMultipleField):
    """Several checkboxes; our own message for a value that is not on the list."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form):
        allowed = {str(value) for value, *_rest in self.iter_choices()}
        if any(str(v) not in allowed for v in (self.data or [])):
            raise ValidationError(_l("Vælg en af mulighederne på listen."))


def required(message=None):
    return DataRequired(message=message or _l("Feltet skal udfyldes."))


def input_required(message=None):
    return InputRequired(message=message or _l("Feltet skal udfyldes."))


def max_length(n: int):
    return Length(max=n, message=_l("Højst %(max)d tegn.", max=n))


optional = Optional


class _HiddenWithoutId(HiddenInput):
    """The CSRF field has no label, and a page may hold many forms: no ``id``, so the ids
    stay unique (HTML validity, WCAG 4.1.1)."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", False)
        return super().__call__(field, **kwargs)


CSRFTokenField.widget = _HiddenWithoutId()


class ActionForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that POST."""


class NumberField(IntegerField):
    """An integer input with our own message for what is not a whole number."""

    def process_formdata(self, valuelist):
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            self.data = int(str(valuelist[0]).strip())
        except ValueError:
            self.data = None
            raise ValueError(_l("Skriv et helt tal.")) from None


class DayField(DateField):
    """A date input with our own message, in the years ``timeutil`` allows."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs["render_kw"] = {"min": f"{FIRST_YEAR}-01-01", "max": f"{LAST_YEAR}-12-31",
                               **kwargs.get("render_kw", {})}
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            value = datetime.strptime(str(valuelist[0]).strip(), "%Y-%m-%d").date()
        except ValueError:
            self.data = None
            raise ValueError(_l("Skriv datoen som dd-mm-åååå.")) from None
        if not in_range(value):
            self.data = None
            raise ValueError(range_message())
        self.data = value
