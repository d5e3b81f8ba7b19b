"""The network directory: solutions, presentations, experiences, interests, profiles
and contact requests."""

from __future__ import annotations

from flask import Flask

from eventhub.events import hooks
from eventhub.extensions import db


def init_app(app: Flask) -> None:
    """Directory and solution pages; panels on event, session and poll pages; the
    search index kept in step with the app's session; the directory's part of "my data"."""
    from eventhub.directory import (
        cloning,
        contacts,
        manage_views,
        privacy,
        search,
        services,
        views,
    )
    from eventhub.events.cloning import add_cloner
    from eventhub.mail import add_builder

    app.register_blueprint(views.bp)
    app.register_blueprint(manage_views.bp)
    app.register_blueprint(views.public_bp)
    hooks.add_panel(app, hooks.EVENT_PUBLIC,
                    hooks.Panel("directory/_event_panel.html", views.event_panel, 40))
    hooks.add_panel(app, hooks.EVENT_MANAGE,
                    hooks.Panel("directory/_manage_panel.html", views.manage_panel, 40))
    hooks.add_panel(app, hooks.SESSION,
                    hooks.Panel("directory/_session_panel.html", views.session_panel, 10))
    hooks.add_panel(app, hooks.POLL,
                    hooks.Panel("directory/_poll_panel.html", views.poll_panel, 10))
    hooks.add_panel(app, hooks.PARTICIPANT, hooks.Panel(
        "directory/_participant_links.html",
        lambda reg, user: None if services.directory_closed(reg.event) else {}, 40))
    search.listen(db.session)
    privacy.register(app)
    add_cloner(app, cloning.clone_presentations, order=40)
    add_builder(app, "contact-request", contacts.build_request)
    add_builder(app, "contact-accepted", contacts.build_accepted)

