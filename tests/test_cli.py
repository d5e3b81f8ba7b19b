"""The eventhub command, through Flask's CLI runner."""

from sqlalchemy import func, select

from eventhub.accounts.models import User
from eventhub.demo import DEMO_SLUG
from eventhub.events.models import Event, EventRole
from eventhub.extensions import db
from eventhub.registration.models import Registration
from tests.support.client import login


def test_create_admin(runner, app, client):
    result = runner.invoke(args=["create-admin", "--email", "Chef@Example.com",
                                 "--password", "sikkert-kodeord"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "chef@example.com"))
        assert user.is_admin and user.password_hash != "sikkert-kodeord"
    assert login(client, "chef@example.com", "sikkert-kodeord").status_code == 302
    assert client.get("/admin/mail").status_code == 200


def test_create_admin_rejects_a_weak_password(runner, app):
    result = runner.invoke(args=["create-admin", "--email", "a@example.com", "--password", "kort"])
    assert result.exit_code != 0
    assert "mindst 10 tegn" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_send_mail_delivers_the_queue(runner, app, client, mail_dir):
    client.post("/login/link", data={"email": "a@example.com"})
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0
    assert "Sent 1, failed 0." in result.output
    assert len(list(mail_dir.glob("*.eml"))) == 1


def counts(app):
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Event, EventRole, Registration, User)
        )


def test_demo_loads_once_and_prints_the_admin_login(runner, app, client):
    first = runner.invoke(args=["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "admin@example.com" in first.output
    before = counts(app)
    assert before[0] == 1 and before[2] >= 24
    second = runner.invoke(args=["demo", "--no-serve"])
    assert second.exit_code == 0
    assert counts(app) == before  # nothing duplicated

    password = second.output.split("password: ")[1].split()[0]
    assert login(client, "admin@example.com", password).status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Del &amp; Genbrug 2026" in page
    assert client.get(f"/e/{DEMO_SLUG}").status_code == 200
