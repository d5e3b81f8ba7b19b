"""The ``eventhub`` command: Flask's CLI plus EventHub's own commands."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from eventhub.extensions import db


def register_commands(app: Flask) -> None:
    for command in (create_admin, send_mail, run_scheduled, demo, upgrade_db, serve, backup,
                    restore, purge_expired):
        app.cli.add_command(command)


@click.command("purge-expired")
@with_appcontext
def purge_expired() -> None:
    """Anonymize personal data of events past their retention date (safe to repeat)."""
    from eventhub.privacy.services import purge_expired as purge

    report = purge()
    db.session.commit()
    click.echo(f"Events: {', '.join(report.events) or 'none'}; registrations "
               f"anonymized: {report.registrations}; other rows: {report.other_rows}; "
               f"accounts removed: {report.users}.")


@click.command("create-admin")
@click.option("--email", required=True, help="The admin's email address.")
@click.option("--password", required=True, help="At least 10 characters.")
@click.option("--name", default="", help="Display name.")
@with_appcontext
def create_admin(email: str, password: str, name: str) -> None:
    """Create a platform admin (or make an existing user one)."""
    from eventhub.accounts.services import create_admin as make_admin
    from eventhub.errors import ValidationError

    try:
        user = make_admin(email, password, name)
    except ValidationError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"Admin {user.email} is ready.")


@click.command("send-mail")
@click.option("--loop", is_flag=True, help="Keep delivering every --interval seconds.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between rounds.")
@click.option("--shard", default="", metavar="K/N",
              help="Only mails whose id is K modulo N (run N workers side by side).")
@with_appcontext
def send_mail(loop: bool, interval: float, shard: str) -> None:
    """Deliver queued mail from the outbox (retrying failures with backoff)."""
    from eventhub.mail import deliver_due

    part = None
    if shard:
        k, _sep, n = shard.partition("/")
        if not (k.isdigit() and n.isdigit() and int(k) < int(n)):
            raise click.BadParameter("K/N with 0 ≤ K < N, e.g. 0/2", param_hint="--shard")
        part = (int(k), int(n))
    limit = 1000
    while True:
        sent, failed = deliver_due(limit=limit, batch=100, shard=part)
        db.session.remove()
        if sent or failed or not loop:
            click.echo(f"Sent {sent}, failed {failed}.")
        if not loop:
            return
        if sent + failed < limit:  # a full round: more is waiting, go on at once
            time.sleep(interval)


@click.command("run-scheduled")
@click.option("--loop", is_flag=True, help="Keep running the jobs every --interval seconds.")
@click.option("--interval", default=30.0, show_default=True, help="Seconds between rounds.")
@click.option("--at", "at", default=None, metavar="YYYY-MM-DDTHH:MM",
              help="Run what is due at this UTC time instead of now (catching up, trials).")
@with_appcontext
def run_scheduled(loop: bool, interval: float, at: str | None) -> None:
    """Run the scheduled jobs that are due (reminders and other timed mails)."""
    from datetime import UTC, datetime

    from eventhub.scheduler import run_due

    when = None
    if at:
        try:
            when = datetime.fromisoformat(at).replace(tzinfo=UTC)
        except ValueError:
            raise click.BadParameter("write the time as YYYY-MM-DDTHH:MM", param_hint="--at") \
                from None
    while True:
        done = run_due(when)
        if any(done.values()) or not loop:
            click.echo(", ".join(f"{name}: {n}" for name, n in done.items()) or "No jobs.")
        if not loop:
            return
        time.sleep(interval)


@click.command("upgrade-db")
@with_appcontext
def upgrade_db() -> None:
    """Create or migrate the database to the newest revision (same as `db upgrade`)."""
    from flask_migrate import upgrade

    upgrade()
    click.echo("Database is up to date.")


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Load the demo data and stop.")
@with_appcontext
def demo(host: str, port: int, no_serve: bool) -> None:
    """Migrate the database, load the Del & Genbrug demo event and serve it."""
    from flask_migrate import upgrade

    from eventhub.demo import load_demo
    from eventhub.mail import start_worker_thread

    app = current_app._get_current_object()
    if not no_serve and not os.environ.get("BASE_URL"):
        # Links in mails, QR codes and the room screen's "go to" name this server.
        app.config["BASE_URL"] = f"http://{host}:{port}"
    upgrade()
    login = load_demo()
    db.session.commit()
    click.echo("")
    click.echo("EventHub demo is ready: event /e/del-genbrug-2026")
    click.echo(f"  Admin login: {login.email}  password: {login.password}")
    click.echo(f"  Mail goes to: {app.config['MAIL_FOLDER']}")
    if no_serve:
        return
    click.echo(f"  Open http://{host}:{port}/")
    start_worker_thread(app)
    from werkzeug.serving import run_simple

    run_simple(host, port, app, threaded=True, use_reloader=False)


@click.command("serve", context_settings={"ignore_unknown_options": True})
@click.option("--bind", envvar="BIND", default="127.0.0.1:8001", show_default=True,
              help="Address of this instance (env BIND).")
@click.option("--workers", envvar="WEB_CONCURRENCY", default=2, show_default=True, type=int,
              help="gevent workers (env WEB_CONCURRENCY).")
@click.argument("gunicorn_args", nargs=-1, type=click.UNPROCESSED)
def serve(bind: str, workers: int, gunicorn_args: tuple[str, ...]) -> None:
    """Serve in production: gunicorn with deploy/gunicorn.conf.py (gevent workers).

    Extra arguments go to gunicorn. Run one per instance behind nginx (deploy/nginx.conf).
    """
    from eventhub.paths import GUNICORN_CONF

    if not GUNICORN_CONF.exists():
        raise click.ClickException(f"{GUNICORN_CONF} is missing: reinstall EventHub.")
    args = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF),
            "--bind", bind, "--workers", str(workers), *gunicorn_args, "eventhub.wsgi:app"]
    click.echo("exec " + " ".join(args[1:]))
    os.execv(sys.executable, args)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def backup(path: str) -> None:
    """Write every row of every table to PATH (a zip of JSON lines; SQLite or PostgreSQL)."""
    from eventhub.backup import dump

    counts = dump(Path(path))
    click.echo(f"Backed up {sum(counts.values())} rows from {len(counts)} tables to {path}.")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--replace", is_flag=True,
              help="Delete the rows the database already holds (otherwise it must be empty).")
@with_appcontext
def restore(path: str, replace: bool) -> None:
    """Load a backup made by `eventhub backup` into this database (migrated first)."""
    from eventhub.backup import BackupError
    from eventhub.backup import restore as load

    try:
        counts = load(Path(path), replace=replace)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Restored {sum(counts.values())} rows into {len(counts)} tables.")


def _create_app():
    from eventhub import create_app
    from eventhub.observability import MetricsFolderError

    try:
        return create_app()
    except MetricsFolderError as exc:  # a setting to fix, not a traceback to read
        raise click.ClickException(str(exc)) from None


def main() -> None:
    """Entry point of the ``eventhub`` console script."""
    cli = FlaskGroup(create_app=_create_app, add_default_commands=True,
                     help="EventHub: events for sharing and reusing welfare technology.")
    cli.main(prog_name="eventhub")


if __name__ == "__main__":
    main()
