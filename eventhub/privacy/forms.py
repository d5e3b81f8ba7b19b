"""The correction form on "my data"."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Optional

from eventhub.forms import max_length, required


class CorrectionForm(FlaskForm):
    name = StringField(_l("Navn"), validators=[required(_l("Skriv dit navn.")), max_length(200)])
    job_title = StringField(_l("Stilling"), validators=[Optional(), max_length(200)])
    organization = StringField(_l("Organisation"), validators=[
        required(_l("Skriv navnet på din organisation.")), max_length(200)])
