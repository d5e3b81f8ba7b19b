"""Rooms, tracks, sessions, personal agendas, workshop sign-up and calendar feeds."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from eventhub.events import hooks, publishing


def init_app(app: Flask) -> None:
    """Programme pages and calendar feeds; panels on the event's pages; the programme's
    part of "my data"."""
    from eventhub.events.cloning import add_cloner
    from eventhub.programme import (
        auditlog,
        cloning,
        manage_views,
        people,
        privacy,
        services,
        speaker_views,
        views,
    )
    from eventhub.registration.badges import add_speaker_source

    app.register_blueprint(views.bp)
    app.register_blueprint(manage_views.bp)
    app.register_blueprint(speaker_views.bp)
    hooks.add_panel(app, hooks.EVENT_PUBLIC,
                    hooks.Panel("programme/_event_panel.html", views.public_panel, 20))
    hooks.add_panel(app, hooks.EVENT_MANAGE,
                    hooks.Panel("programme/_manage_panel.html", views.manage_panel, 20))
    hooks.add_panel(app, hooks.PARTICIPANT, hooks.Panel(
        "programme/_participant_links.html",
        lambda reg, user: {} if services.has_sessions(reg.event) else None, 20))
    privacy.register(app)
    add_cloner(app, cloning.clone_programme, order=20)
    add_speaker_source(app, people.badge_speakers)
    publishing.add_rule(app, publishing.Rule(
        "sessions", _l("Program"), _l("Læg mindst ét programpunkt ind."),
        services.has_sessions, fix="manage_programme.new_session", order=70))
    auditlog.register(app)

