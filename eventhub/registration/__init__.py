"""Registrations, tickets and check-in."""

from __future__ import annotations

from flask import Flask, request

from eventhub.events import hooks, publishing
from eventhub.events import services as events_services

# Signing out removes what the door app keeps in this browser (its list, queue, cached
# page and service worker), also where the page's own script did not get to run.
SIGN_OUT_ENDPOINTS = ("accounts.logout", "accounts.logout_everywhere")


def init_app(app: Flask) -> None:
    """Registration, tickets, check-in and the door app; panels on the event's pages; the
    registrations' part of "my data"."""
    from eventhub.accounts.landing import add_landing
    from eventhub.events.cloning import add_cloner
    from eventhub.mail import add_builder
    from eventhub.registration import (
        auditlog,
        cloning,
        door_views,
        manage_views,
        notifications,
        privacy,
        services,
        views,
    )

    app.register_blueprint(views.bp)
    app.register_blueprint(manage_views.bp)
    app.register_blueprint(door_views.bp)
    app.register_blueprint(door_views.worker_bp)
    hooks.add_panel(app, hooks.EVENT_PUBLIC,
                    hooks.Panel("registration/_event_panel.html", views.public_panel, 10))
    hooks.add_panel(app, hooks.EVENT_MANAGE,
                    hooks.Panel("registration/_manage_panel.html", views.manage_panel, 10))
    privacy.register(app)
    auditlog.register(app)
    add_builder(app, "registration-receipt", notifications.build_receipt)
    add_builder(app, "registration-promoted", notifications.build_promoted)
    events_services.on_event_saved(app, services.seats_may_have_freed)
    app.after_request(_clear_door_data_on_sign_out)
    publishing.add_audience_counter(app, services.registered_count)
    add_cloner(app, cloning.clone_questions, order=10)
    add_landing(app, views.participant_landing)


def _clear_door_data_on_sign_out(response):
    if request.endpoint in SIGN_OUT_ENDPOINTS and request.method == "POST":
        response.headers.setdefault("Clear-Site-Data", '"cache", "storage"')
    return response
