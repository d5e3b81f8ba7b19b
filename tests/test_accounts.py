"""Sign-in with password and with magic links."""

from datetime import timedelta

from sqlalchemy import select

from eventhub.accounts.models import MagicLink, User
from eventhub.db import utcnow
from eventhub.extensions import db
from tests.support.client import login
from tests.support.factories import PASSWORD, make_user
from tests.support.mail import delivered_mails, link_in


def signed_in(client) -> bool:
    return "Log ud" in client.get("/").get_data(as_text=True)


def test_password_login_and_logout(client, app):
    make_user(app, "org@example.com", password=PASSWORD)
    response = login(client, "org@example.com")
    assert response.status_code == 302
    assert signed_in(client)
    client.post("/logout", data={})
    assert not signed_in(client)


def test_password_is_stored_hashed(app):
    make_user(app, "org@example.com", password=PASSWORD)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "org@example.com"))
        assert user.password_hash and PASSWORD not in user.password_hash


def test_passwords_are_hashed_with_scrypt(client, app, monkeypatch):
    """The app's own hashing (the other tests use a fast one: tests/support/speedups.py)."""
    from werkzeug.security import generate_password_hash

    from eventhub.accounts import services

    monkeypatch.setattr(services, "generate_password_hash", generate_password_hash)
    make_user(app, "org@example.com", password=PASSWORD)
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash))
    assert stored.startswith("scrypt:")
    assert login(client, "org@example.com").status_code == 302
    assert signed_in(client)


def test_wrong_password_gives_one_vague_danish_message_and_keeps_email(client, app):
    make_user(app, "org@example.com", password=PASSWORD)
    for email in ("org@example.com", "nobody@example.com"):
        response = client.post("/login", data={"email": email, "password": "forkert-forkert"})
        page = response.get_data(as_text=True)
        assert "Forkert e-mail eller adgangskode." in page
        assert f'value="{email}"' in page
    assert not signed_in(client)


def test_login_is_rate_limited_with_a_danish_429(client, app):
    app.config["RATELIMIT_LOGIN"] = "3 per minute"
    for _ in range(3):
        client.post("/login", data={"email": "x@example.com", "password": "nope-nope-nope"})
    response = client.post("/login", data={"email": "x@example.com", "password": "nope"})
    assert response.status_code == 429
    assert "For mange forsøg" in response.get_data(as_text=True)


def test_next_parameter_only_allows_local_paths(client, app):
    make_user(app, "org@example.com", password=PASSWORD)
    response = client.post("/login", data={
        "email": "org@example.com", "password": PASSWORD, "next": "https://evil.example/",
    })
    assert response.headers["Location"] == "/manage/"


def request_link(client, email: str):
    return client.post("/login/link", data={"email": email})


def test_magic_link_signs_in_a_new_participant_once(client, app, mail_dir):
    response = request_link(client, "Ny.Deltager@Example.com ")
    assert "Tjek din mail" in response.get_data(as_text=True)
    [mail] = delivered_mails(app, mail_dir)
    assert mail["To"] == "ny.deltager@example.com"
    path = link_in(mail)

    # Opening the link (as a mail scanner would) does not spend it or sign in.
    page = client.get(path)
    assert page.status_code == 200
    assert not signed_in(client)

    response = client.post(path, data={})
    assert response.status_code == 302
    assert signed_in(client)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "ny.deltager@example.com"))

    client.post("/logout", data={})
    again = client.post(path, data={})
    assert again.status_code == 410
    assert "allerede brugt" in again.get_data(as_text=True)
    assert not signed_in(client)


def test_expired_magic_link_says_so_and_offers_a_new_one(client, app, mail_dir):
    request_link(client, "sen@example.com")
    [mail] = delivered_mails(app, mail_dir)
    path = link_in(mail)
    with app.app_context():
        link = db.session.scalar(select(MagicLink))
        link.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    response = client.get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 410
    assert "Linket er udløbet" in page
    assert 'value="sen@example.com"' in page  # the new-link form is filled in
    assert "Send mig et nyt link" in page
    assert client.post(path, data={}).status_code == 410
    assert not signed_in(client)


def test_magic_link_signature_expires_after_30_minutes(client, app, mail_dir):
    app.config["MAGIC_LINK_MAX_AGE"] = -1  # every signature is already too old
    request_link(client, "sen@example.com")
    [mail] = delivered_mails(app, mail_dir)
    response = client.get(link_in(mail))
    assert response.status_code == 410
    assert "Linket er udløbet" in response.get_data(as_text=True)


def test_tampered_magic_link_is_invalid(client, app, mail_dir):
    request_link(client, "a@example.com")
    [mail] = delivered_mails(app, mail_dir)
    path = link_in(mail)
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    response = client.post(tampered, data={})
    assert response.status_code == 400
    assert "ugyldigt" in response.get_data(as_text=True)
    assert not signed_in(client)


def test_magic_link_rejects_a_malformed_address_and_keeps_it(client):
    response = client.post("/login/link", data={"email": "ikke-en-adresse"})
    page = response.get_data(as_text=True)
    assert "Skriv en gyldig e-mailadresse" in page
    assert 'value="ikke-en-adresse"' in page


def test_sign_in_starts_a_fresh_session(client, app):
    make_user(app, "org@example.com", password=PASSWORD)
    client.get("/?lang=en")
    with client.session_transaction() as session:
        session["planted"] = "by-attacker"
    login(client, "org@example.com")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "en"  # the language choice survives


def test_sign_out_everywhere_ends_other_sessions(client, app):
    make_user(app, "org@example.com", password=PASSWORD)
    laptop, phone = client, app.test_client()
    login(laptop, "org@example.com")
    login(phone, "org@example.com")
    assert signed_in(phone)
    laptop.post("/account/logout-everywhere", data={})
    assert not signed_in(phone)
    assert not signed_in(laptop)


def test_password_rules(client, app):
    make_user(app, "org@example.com", password=PASSWORD)
    login(client, "org@example.com")
    short = client.post("/account", data={"password": "kort"})
    assert "mindst 10 tegn" in short.get_data(as_text=True)
    digits = client.post("/account", data={"password": "1234567890"})
    assert "kun bestå af tal" in digits.get_data(as_text=True)
    ok = client.post("/account", data={"password": "en-ny-lang-kode"}, follow_redirects=True)
    assert "Din adgangskode er gemt" in ok.get_data(as_text=True)
    assert signed_in(client)
