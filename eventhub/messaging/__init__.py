"""The event's communication: scheduled mails (reminder, morning-of, thank-you),
change notices, the organizers' own mail texts, messages to registrants and
certificates of attendance."""

from __future__ import annotations

from flask import Flask

from eventhub.events import hooks


def init_app(app: Flask) -> None:
    """Mail pages and certificate pages; the scheduler's jobs; the builders of its
    mails; the listener that keeps changes to announce; the texts' override; panels on
    the event's staff page and the participant's home."""
    from eventhub import scheduler, signals
    from eventhub.events.cloning import add_cloner
    from eventhub.mail import add_builder, add_override, add_preparer
    from eventhub.messaging import changes, overrides, rules, texts, views

    app.register_blueprint(views.bp)
    app.register_blueprint(views.public_bp)
    hooks.add_panel(app, hooks.EVENT_MANAGE,
                    hooks.Panel("messaging/_manage_panel.html", views.manage_panel, 42))
    hooks.add_panel(app, hooks.PARTICIPANT,
                    hooks.Panel("messaging/_participant_panel.html",
                                views.participant_panel, 60))
    add_builder(app, "messaging-rule", rules.build_rule_mail)
    add_preparer(app, "messaging-rule", rules.prepare_rule_mails)
    add_builder(app, "messaging-change", changes.build_change_mail)
    add_override(app, overrides.override)
    signals.listen(app, changes.on_signal)
    add_cloner(app, texts.clone_texts, 90)
    scheduler.add_job(app, "mail-rules", rules.queue_due)
    scheduler.add_job(app, "change-notices", changes.send_due)
