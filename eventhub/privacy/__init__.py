"""A participant's own data: "my data" (see, download, correct, withdraw consent, delete)
and the retention purge. Each domain contributes through ``eventhub.privacy_registry``."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """ "My data" pages (what they show comes from every domain's contributions)."""
    from flask_babel import lazy_gettext as _l
    from flask_babel import ngettext

    from eventhub import audit
    from eventhub.privacy import views

    app.register_blueprint(views.bp)
    audit.add_action(app, "privacy.purge", _l("Persondata anonymiseret efter slettefristen"),
                     lambda target: ngettext("%(num)d tilmelding", "%(num)d tilmeldinger",
                                             int(target)))

