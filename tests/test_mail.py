"""The outbox: queued in the database, delivered with retry and backoff."""

from datetime import timedelta
from email import policy
from email.parser import BytesParser

import pytest
from sqlalchemy import select

from eventhub.db import utcnow
from eventhub.extensions import db
from eventhub.mail import FAILED, QUEUED, SENT, OutboxMail, deliver_due, queue_mail, retry_delay
from tests.support.client import login
from tests.support.factories import PASSWORD, make_user


class BrokenSmtp:
    """A backend whose server is down."""

    def __init__(self):
        self.calls = 0

    def send(self, msg, mail_id):
        self.calls += 1
        raise ConnectionRefusedError("SMTP server unreachable")


def queue(app, to="modtager@example.com"):
    with app.test_request_context():
        mail = queue_mail(to, "magic_link", url="http://localhost/x", minutes=30,
                          attachments=[("event.ics", "text/calendar", b"BEGIN:VCALENDAR")])
        db.session.commit()
        return mail.id


def test_folder_backend_writes_a_real_message(app, mail_dir):
    queue(app)
    with app.app_context():
        assert deliver_due() == (1, 0)
        mail = db.session.scalar(select(OutboxMail))
        assert mail.status == SENT and mail.sent_at is not None
    [path] = mail_dir.glob("*.eml")
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert message["To"] == "modtager@example.com"
    assert message["Subject"] == "Dit login-link til EventHub"
    assert "http://localhost/x" in message.get_body(preferencelist=("plain",)).get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "event.ics"
    with app.app_context():
        assert deliver_due() == (0, 0)  # nothing is sent twice


def test_outage_keeps_mail_and_retries_with_backoff(app, mail_dir):
    broken = BrokenSmtp()
    app.extensions["eventhub_mail_backend"] = broken
    mail_id = queue(app)
    with app.app_context():
        assert deliver_due() == (0, 1)
        mail = db.session.get(OutboxMail, mail_id)
        assert mail.status == QUEUED and mail.attempts == 1
        assert "SMTP server unreachable" in mail.last_error
        wait = mail.next_attempt_at - utcnow()
        assert timedelta(seconds=50) < wait <= timedelta(seconds=60)
        assert deliver_due() == (0, 0)  # not due yet
        assert broken.calls == 1

        # The server comes back and the time has come: delivered.
        del app.extensions["eventhub_mail_backend"]
        mail.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert deliver_due() == (1, 0)
        assert db.session.get(OutboxMail, mail_id).status == SENT
    assert len(list(mail_dir.glob("*.eml"))) == 1


def test_backoff_doubles_and_is_capped():
    assert [retry_delay(n, 60).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert retry_delay(30, 60) == timedelta(hours=6)


def test_gives_up_after_max_attempts_and_admin_can_retry(app, client, mail_dir):
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    app.extensions["eventhub_mail_backend"] = BrokenSmtp()
    mail_id = queue(app, "opgivet@example.com")
    with app.app_context():
        deliver_due()
        db.session.get(OutboxMail, mail_id).next_attempt_at = utcnow()
        db.session.commit()
        deliver_due()
        assert db.session.get(OutboxMail, mail_id).status == FAILED

    make_user(app, "admin@example.com", admin=True)
    login(client, "admin@example.com")
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "opgivet@example.com" in page
    assert "SMTP server unreachable" in page

    del app.extensions["eventhub_mail_backend"]
    client.post(f"/admin/mail/{mail_id}/retry", data={})
    with app.app_context():
        assert db.session.get(OutboxMail, mail_id).status == QUEUED
        assert deliver_due() == (1, 0)
    assert "opgivet@example.com" not in client.get("/admin/mail").get_data(as_text=True)


@pytest.mark.parametrize("who", ["anonymous", "participant"])
def test_outbox_page_is_for_admins_only(client, app, who):
    if who == "participant":
        make_user(app, "p@example.com", password=PASSWORD)
        login(client, "p@example.com")
        assert client.get("/admin/mail").status_code == 403
    else:
        assert client.get("/admin/mail").status_code == 302


def test_built_mails_are_rendered_by_the_worker(app, client, mail_dir):
    """Registration receipts are queued as a reference and built when delivered."""
    from eventhub.registration.models import Registration
    from tests.support.factories import make_event, registration_form
    from tests.support.mail import delivered_mails

    make_event(app, "dag", title="Del og Genbrug")
    client.post("/e/dag/register", data=registration_form(email="a@example.com"))
    client.post("/e/dag/register", data=registration_form(email="b@example.com"))
    with app.app_context():
        queued = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
        assert [m.builder for m in queued] == ["registration-receipt"] * 2
        assert all(m.subject == "" for m in queued)  # nothing rendered in the request
        db.session.delete(db.session.scalar(select(Registration).where(
            Registration.email == "b@example.com")))
        db.session.commit()
    [mail] = delivered_mails(app, mail_dir)
    assert mail["To"] == "a@example.com" and mail["Subject"] == "Du er tilmeldt Del og Genbrug"
    with app.app_context():
        statuses = list(db.session.scalars(select(OutboxMail.status).order_by(OutboxMail.id)))
    assert statuses == ["sent", "skipped"]  # the deleted registration's mail is dropped
