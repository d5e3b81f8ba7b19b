"""Sign-in forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField

from eventhub.forms import max_length, required


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[required(), max_length(254)])
    password = PasswordField(_l("Adgangskode"), validators=[required(), max_length(200)])
    next = HiddenField()


class MagicLinkForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[required(), max_length(254)])
    next = HiddenField()


class PasswordForm(FlaskForm):
    password = PasswordField(_l("Ny adgangskode"), validators=[required(), max_length(200)])
