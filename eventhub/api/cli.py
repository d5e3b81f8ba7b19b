"""``eventhub create-api-token`` and ``eventhub deliver-webhooks``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from eventhub.extensions import db


@click.command("create-api-token")
@click.option("--event", "slug", required=True, help="The event's slug.")
@click.option("--scope", type=click.Choice(["read", "write"]), default="read",
              show_default=True, help="Read, or read and write, on every resource family.")
@click.option("--name", default="API", show_default=True, help="A name to know it by.")
@click.option("--user", "email", default="",
              help="The organizer it acts for (default: the event's first organizer).")
@click.option("--whole-organization", is_flag=True,
              help="Valid for every event the organizer organizes, not only this one.")
@with_appcontext
def create_api_token(slug: str, scope: str, name: str, email: str,
                     whole_organization: bool) -> None:
    """Create an API token and print it (it is shown only this once)."""
    from eventhub.accounts.models import User
    from eventhub.api import tokens
    from eventhub.errors import DomainError
    from eventhub.events.models import ORGANIZER, Event, EventRole

    event = db.session.scalar(select(Event).where(Event.slug == slug))
    if event is None:
        raise click.ClickException(f"No event with the slug {slug!r}.")
    if email:
        user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    else:
        user = db.session.scalar(select(User).join(EventRole, EventRole.user_id == User.id)
                                 .where(EventRole.event_id == event.id,
                                        EventRole.role == ORGANIZER).order_by(EventRole.id))
    if user is None:
        raise click.ClickException("No such organizer: pass --user with an organizer's email.")
    try:
        made = tokens.create_token(user, None if whole_organization else event, name,
                                   tokens.scopes_for(scope), for_event=event)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(made.secret)
    click.echo(f"Scopes: {' '.join(made.token.scopes)}. Store it now: it is not shown again.",
               err=True)


@click.command("deliver-webhooks")
@click.option("--loop", is_flag=True, help="Keep delivering (sleeping --interval when idle).")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between rounds.")
@with_appcontext
def deliver_webhooks(loop: bool, interval: float) -> None:
    """Send queued webhook deliveries (retrying failures with backoff for 3 days)."""
    from eventhub.api.delivery import run

    def report(done) -> None:
        if done.delivered or done.failed or not loop:
            click.echo(f"Delivered {done.delivered}, failed attempts {done.failed}.")

    run(loop, interval, on_round=report)
