"""1:1 meetings booked at the event, and badge scanning by the people of a solution."""

from __future__ import annotations

from flask import Flask

from eventhub.events import hooks


def init_app(app: Flask) -> None:
    """Meeting and scanner pages; staff schedule, PDF and figures; "book a meeting" on
    people's and solutions' pages; meetings in my day and the calendar feed; the
    mails, the reminder job and the meetings' part of "my data"."""
    from eventhub import scheduler
    from eventhub.mail import add_builder
    from eventhub.meetings import mailing, manage_views, privacy, services, views
    from eventhub.programme.agenda import add_day_items

    app.register_blueprint(views.bp)
    app.register_blueprint(views.public_bp)
    app.register_blueprint(manage_views.bp)
    hooks.add_panel(app, hooks.EVENT_MANAGE,
                    hooks.Panel("meetings/_manage_panel.html", manage_views.manage_panel, 46))
    hooks.add_panel(app, hooks.EVENT_PUBLIC,
                    hooks.Panel("meetings/_event_panel.html", views.event_panel, 45))
    hooks.add_panel(app, hooks.PERSON,
                    hooks.Panel("meetings/_person_panel.html", views.person_panel, 10))
    hooks.add_panel(app, hooks.SOLUTION,
                    hooks.Panel("meetings/_solution_panel.html", views.solution_panel, 10))
    hooks.add_panel(app, hooks.PARTICIPANT, hooks.Panel(
        "meetings/_participant_links.html", views.participant_links, 45))
    add_day_items(app, services.day_items)
    add_builder(app, "meeting", mailing.build_meeting)
    add_builder(app, "meeting-reminder", mailing.build_reminder)
    add_builder(app, "badge-scanned", mailing.build_scanned)
    scheduler.add_job(app, "meeting-reminders", mailing.queue_reminders)
    privacy.register(app)
