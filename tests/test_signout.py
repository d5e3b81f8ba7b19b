"""Signing out ends that sign-in on the server: a copied session cookie is worthless
afterwards, while the same person's other browsers stay signed in."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import event, select, update

from eventhub import create_app
from eventhub.accounts.models import LoginSession
from eventhub.accounts.services import load_user
from eventhub.db import utcnow
from eventhub.extensions import db
from tests.support.client import Client, login
from tests.support.config import app_config as _test_config
from tests.support.factories import PASSWORD, make_user
from tests.support.mail import delivered_mails, link_in

STAFF = "arrangoer@example.com"


def copy_of(app, client) -> Client:
    """A second browser holding the same cookies (taken from a shared PC)."""
    app.test_client_class = Client
    thief = app.test_client()
    for cookie in (client.get_cookie("session"), client.get_cookie("remember_token")):
        if cookie is not None:
            thief.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    return thief


def opens_manage(client) -> bool:
    response = client.get("/manage/")
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


def signed_in(client) -> bool:
    return "Log ud" in client.get("/").get_data(as_text=True)


def test_a_copied_cookie_is_worthless_after_sign_out(client, app):
    make_user(app, STAFF, password=PASSWORD)
    login(client, STAFF)
    thief = copy_of(app, client)
    assert opens_manage(thief)  # the copy works while the person is signed in

    client.post("/logout", data={})
    assert not opens_manage(client)
    assert not opens_manage(thief)
    assert not signed_in(thief)


def test_signing_out_in_one_browser_leaves_another_signed_in(client, app):
    make_user(app, STAFF, password=PASSWORD)
    app.test_client_class = Client
    laptop, phone = client, app.test_client()
    login(laptop, STAFF)
    login(phone, STAFF)
    laptop.post("/logout", data={})
    assert not opens_manage(laptop)
    assert opens_manage(phone)
    assert signed_in(phone)


def test_sign_out_everywhere_ends_every_browser_and_every_copy(client, app):
    make_user(app, STAFF, password=PASSWORD)
    app.test_client_class = Client
    laptop, phone = client, app.test_client()
    login(laptop, STAFF)
    login(phone, STAFF)
    thief = copy_of(app, phone)
    laptop.post("/account/logout-everywhere", data={})
    for browser in (laptop, phone, thief):
        assert not opens_manage(browser)


def test_a_participant_signed_in_by_magic_link_signs_out_for_real(client, app, mail_dir):
    app.test_client_class = Client
    phone = app.test_client()
    for browser in (client, phone):
        browser.post("/login/link", data={"email": "deltager@example.com"})
    first, second = delivered_mails(app, mail_dir)
    client.post(link_in(first), data={})
    phone.post(link_in(second), data={})
    thief = copy_of(app, client)
    assert thief.get("/account").status_code == 200

    client.post("/logout", data={})
    assert client.get("/account").status_code == 302
    assert thief.get("/account").status_code == 302
    assert phone.get("/account").status_code == 200  # the other phone is still signed in


def test_a_new_password_ends_the_other_sign_ins_but_not_this_one(client, app):
    make_user(app, STAFF, password=PASSWORD)
    app.test_client_class = Client
    phone = app.test_client()
    login(client, STAFF)
    login(phone, STAFF)
    copy = copy_of(app, client)
    saved = client.post("/account", data={"password": "en-helt-ny-kode"}, follow_redirects=True)
    assert "Din adgangskode er gemt" in saved.get_data(as_text=True)
    assert opens_manage(client)
    assert opens_manage(copy)  # the same sign-in, so the same cookie
    assert not opens_manage(phone)


def test_a_remember_cookie_does_not_outlive_sign_out(client, app):
    """Sign-in sets no remember cookie; one made with the sign-in's id is refused too."""
    from flask_login.utils import encode_cookie

    make_user(app, STAFF, password=PASSWORD)
    response = login(client, STAFF)
    assert not any(h.startswith("remember_token=")
                   for h in response.headers.getlist("Set-Cookie"))
    with client.session_transaction() as session:
        session_id = session["_user_id"]
    with app.test_request_context():
        remembered = encode_cookie(session_id)
    client.post("/logout", data={})
    app.test_client_class = Client
    thief = app.test_client()
    thief.set_cookie("remember_token", remembered, domain="localhost")
    assert not opens_manage(thief)


def test_a_sign_in_unused_for_the_session_lifetime_is_over(client, app):
    make_user(app, STAFF, password=PASSWORD)
    login(client, STAFF)
    assert opens_manage(client)
    lifetime = app.permanent_session_lifetime
    with app.app_context():
        db.session.execute(update(LoginSession).values(
            last_seen_at=utcnow() - lifetime - timedelta(minutes=1)))
        db.session.commit()
    assert not opens_manage(client)


def test_last_seen_is_written_every_few_minutes_not_on_every_request(client, app):
    make_user(app, STAFF, password=PASSWORD)
    login(client, STAFF)

    def last_seen():
        with app.app_context():
            return db.session.scalar(select(LoginSession.last_seen_at))

    first = last_seen()
    for _ in range(3):
        opens_manage(client)
    assert last_seen() == first
    earlier = utcnow() - timedelta(minutes=10)
    with app.app_context():
        db.session.execute(update(LoginSession).values(last_seen_at=earlier))
        db.session.commit()
    opens_manage(client)
    assert last_seen() > earlier + timedelta(minutes=9)


def test_only_a_hash_of_the_sign_in_token_is_stored_or_shown(client, app):
    make_user(app, STAFF, password=PASSWORD)
    login(client, STAFF)
    with client.session_transaction() as session:
        token = session["_user_id"].split(":", 1)[1]
    assert len(token) >= 32
    with app.app_context():
        rows = db.session.execute(select(LoginSession.__table__)).mappings().all()
    assert len(rows) == 1
    assert token not in repr(dict(rows[0]))
    for path in ("/account", "/my-data", "/my-data.json"):
        assert token not in client.get(path).get_data(as_text=True)


def test_finding_the_signed_in_person_costs_one_query(client, app):
    make_user(app, STAFF, password=PASSWORD)
    login(client, STAFF)
    with client.session_transaction() as session:
        session_id = session["_user_id"]
    with app.test_request_context():
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            user = load_user(session_id)
            assert user.email == STAFF and user.is_admin is False
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) == 1, statements


def test_sign_ins_of_a_deleted_account_go_with_it(client, app, mail_dir):
    """The retention purge deletes a participant's account; their sign-ins go too."""
    from eventhub.accounts.models import User

    client.post("/login/link", data={"email": "deltager@example.com"})
    [mail] = delivered_mails(app, mail_dir)
    client.post(link_in(mail), data={})
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "deltager@example.com"))
        db.session.delete(user)
        db.session.commit()
        assert db.session.scalar(select(LoginSession)) is None
    assert client.get("/account").status_code == 302


# Rate limits on sign-in still hold ---------------------------------------------------


def test_magic_link_requests_are_rate_limited_with_a_danish_429(client, app):
    app.config["RATELIMIT_MAGIC_LINK"] = "2 per minute"
    for _ in range(2):
        client.post("/login/link", data={"email": "a@example.com"})
    response = client.post("/login/link", data={"email": "a@example.com"})
    assert response.status_code == 429
    assert "For mange forsøg" in response.get_data(as_text=True)


def test_the_login_limit_is_shared_by_every_worker_through_redis(database_uri, tmp_path):
    """As in production: two app processes (gunicorn workers) count in one Redis."""
    config = _test_config(database_uri, tmp_path)
    config.update(RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0",
                  RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}",
                  RATELIMIT_LOGIN="3 per minute", WTF_CSRF_ENABLED=False)
    workers = [create_app(config), create_app(config)]
    form = {"email": "nogen@example.com", "password": "forkert-kodeord"}
    try:
        statuses = [workers[n % 2].test_client().post("/login", data=form).status_code
                    for n in range(4)]
    finally:
        for worker in workers:
            with worker.app_context():
                db.engine.dispose()
    assert statuses == [200, 200, 200, 429]


# Where am I signed in? ---------------------------------------------------------------

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")


def test_the_account_page_lists_the_browsers_and_signs_one_out(client, app):
    make_user(app, STAFF, password=PASSWORD)
    app.test_client_class = Client
    phone = app.test_client()
    client.post("/login", data={"email": STAFF, "password": PASSWORD},
                headers={"User-Agent": FIREFOX})
    phone.post("/login", data={"email": STAFF, "password": PASSWORD},
               headers={"User-Agent": IPHONE})
    page = client.get("/account").get_data(as_text=True)
    assert "Her er du logget ind" in page
    assert "Firefox på Windows" in page and "Safari på iPhone" in page
    assert page.count("Denne browser") == 1
    assert page.index("Firefox på Windows") < page.index("Denne browser") < page.index(
        "Safari på iPhone")
    with app.app_context():
        phone_id = db.session.scalar(select(LoginSession.id).where(
            LoginSession.user_agent == IPHONE))
    response = client.post(f"/account/sign-ins/{phone_id}/logout", data={},
                           follow_redirects=True)
    assert "Den browser er logget ud" in response.get_data(as_text=True)
    assert not opens_manage(phone)
    assert opens_manage(client)
    page = client.get("/account?lang=en").get_data(as_text=True)
    assert "Safari on iPhone" not in page and "Firefox on Windows" in page


def test_nobody_can_sign_out_someone_elses_browser(client, app):
    make_user(app, STAFF, password=PASSWORD)
    make_user(app, "anden@example.com", password=PASSWORD)
    app.test_client_class = Client
    other = app.test_client()
    login(other, "anden@example.com")
    login(client, STAFF)
    with app.app_context():
        others = db.session.scalar(select(LoginSession.id).order_by(LoginSession.id).limit(1))
    response = client.post(f"/account/sign-ins/{others}/logout", data={})
    assert response.status_code == 404
    assert opens_manage(other)


def test_the_daily_purge_removes_sign_ins_past_the_lifetime(client, app, runner):
    make_user(app, STAFF, password=PASSWORD)
    login(client, STAFF)
    app.test_client_class = Client
    login(app.test_client(), STAFF)
    with app.app_context():
        oldest = db.session.scalar(select(LoginSession.id).order_by(LoginSession.id))
        db.session.execute(update(LoginSession).where(LoginSession.id == oldest).values(
            last_seen_at=utcnow() - app.permanent_session_lifetime - timedelta(days=1)))
        db.session.commit()
    result = runner.invoke(args=["purge-expired"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        left = db.session.scalars(select(LoginSession.id)).all()
    assert len(left) == 1 and oldest not in left


def test_my_data_lists_the_sign_ins_without_their_secrets(client, app):
    make_user(app, STAFF, password=PASSWORD)
    client.post("/login", data={"email": STAFF, "password": PASSWORD},
                headers={"User-Agent": FIREFOX})
    data = client.get("/my-data.json").get_json(force=True)
    [sign_in] = data["account"][0]["signed_in"]
    assert sign_in["browser"] == FIREFOX
    assert set(sign_in) == {"browser", "signed_in_at", "last_seen_at"}


def test_the_upgrade_keeps_every_account_and_its_roles(tmp_path):
    """The revision that brings sign-ins drops users.session_nonce: on SQLite that copies
    the users table, which must not take the rows pointing at it along."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    app = create_app({"TESTING": True, "SECRET_KEY": "k",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite'}"})
    with app.app_context():
        upgrade(revision="e5d0a824875c")
        db.session.execute(text(
            "INSERT INTO users (email, name, is_admin, active, session_nonce, created_at) "
            "VALUES ('org@example.com', 'Org', 0, 1, 'gammel', '2026-01-01 00:00')"))
        db.session.execute(text(
            "INSERT INTO events (slug, title, description, venue, starts_at, ends_at, status, "
            "join_code, created_at, updated_at) VALUES ('gl', 'Gammel', '', '', "
            "'2026-01-01 09:00', '2026-01-01 16:00', 'published', 'ABCDEF', "
            "'2025-12-01 00:00', '2025-12-01 00:00')"))
        db.session.execute(text(
            "INSERT INTO event_roles (event_id, user_id, role, created_at) "
            "VALUES (1, 1, 'organizer', '2026-01-01 00:00')"))
        db.session.commit()
        upgrade()
        assert db.session.execute(text("SELECT count(*) FROM event_roles")).scalar() == 1
        assert db.session.execute(text("SELECT email FROM users")).scalar() == "org@example.com"
        downgrade(revision="e5d0a824875c")
        nonce = db.session.execute(text("SELECT session_nonce FROM users")).scalar()
        assert len(nonce) >= 16  # a fresh random nonce, never an empty one
        assert db.session.execute(text("SELECT count(*) FROM event_roles")).scalar() == 1
        db.engine.dispose()
