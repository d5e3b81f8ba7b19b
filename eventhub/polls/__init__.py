"""Live polls: questions, votes, tallies, presenter view and result streams."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from eventhub import audit
from eventhub.events import hooks


def init_app(app: Flask) -> None:
    """Join page, voting, presenter and result streams; panels on the event's pages;
    the polls' part of "my data"."""
    from eventhub.events.cloning import add_cloner
    from eventhub.polls import cloning, manage_views, privacy, screen_views, views

    app.register_blueprint(views.bp)
    app.add_template_filter(ranked)
    app.register_blueprint(manage_views.bp)
    app.register_blueprint(screen_views.bp)
    hooks.add_panel(app, hooks.EVENT_PUBLIC,
                    hooks.Panel("polls/_event_panel.html", views.public_panel, 30))
    hooks.add_panel(app, hooks.EVENT_MANAGE,
                    hooks.Panel("polls/_manage_panel.html", manage_views.manage_panel, 30))
    hooks.add_panel(app, hooks.PARTICIPANT, hooks.Panel(
        "polls/_participant_links.html",
        lambda reg, user: views.public_panel(reg.event, user), 30))
    privacy.register(app)
    add_cloner(app, cloning.clone_polls, order=30)
    audit.add_action(app, "polls.delete", _l("Afstemning slettet"), _deleted)


def ranked(order: list[int], options: list) -> list:
    """A ranking's options in the voter's order (their stored ballot), else as written."""
    by_id = {o.id: o for o in options}
    first = [by_id[i] for i in order if i in by_id]
    return first + [o for o in options if o not in first]


def _deleted(target: str) -> str:
    """"#12: 5" → "Afstemning #12 med 5 svar"."""
    from flask_babel import ngettext

    poll, answers = target.split(": ")
    return ngettext("Afstemning %(poll)s med %(num)d svar",
                    "Afstemning %(poll)s med %(num)d svar", int(answers), poll=poll)

