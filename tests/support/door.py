"""The check-in door app as the tests drive it: a device's calls with the session's
CSRF token in a header, and check-ins as a device sends them."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from sqlalchemy import select

from eventhub.extensions import db
from eventhub.registration.door import ticket_hash


def now_ms() -> int:
    return int(time.time() * 1000)


def door_url(slug: str, what: str) -> str:
    return f"/manage/e/{slug}/checkin/{what}"


def post_json(client, url: str, payload) -> object:
    """A fetch from the door app: JSON, with the CSRF token in ``X-CSRFToken``."""
    return client.post(url, json=payload, headers={
        "X-CSRFToken": client.csrf_token(), "Accept": "application/json"})


def scan(code: str, *, at: int | None = None, nonce: str | None = None,
         offline: bool = True) -> dict:
    """One check-in as a device queues it."""
    return {"nonce": nonce or secrets.token_hex(16), "ticket": ticket_hash(code),
            "at": now_ms() if at is None else at, "offline": offline}


@dataclass
class Device:
    """A door device started by whoever ``client`` is signed in as."""

    client: object
    slug: str
    token: str = ""
    letters: str = ""
    cursor: str | None = None
    sent: list[dict] = field(default_factory=list)

    def start(self) -> Device:
        answer = post_json(self.client, door_url(self.slug, "device"), {})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        self.token, self.letters = answer.json["device"], answer.json["letters"]
        listed = self.client.get(door_url(self.slug, "list.json"))
        assert listed.status_code == 200, listed.get_data(as_text=True)
        self.cursor = listed.json["cursor"]
        return self

    def sync(self, *check_ins: dict, queued: int = 0, sent_at: int | None = None, **extra):
        payload = {"device": self.token, "since": self.cursor, "queued": queued,
                   "sent_at": now_ms() if sent_at is None else sent_at,
                   "check_ins": list(check_ins), **extra}
        answer = post_json(self.client, door_url(self.slug, "sync"), payload)
        if answer.status_code == 200:
            self.cursor = answer.json["cursor"]
        return answer


def ticket_codes(app, event_id: int) -> dict[str, str]:
    """Email → ticket code for the event's registrations."""
    from eventhub.registration.models import Registration

    with app.app_context():
        return dict(db.session.execute(select(Registration.email, Registration.ticket_code)
                                       .where(Registration.event_id == event_id)).all())


def check_ins_of(app, event_id: int) -> list:
    """(registration email, checked in at, device letters, offline, nonce, user id) per
    check-in, in the order of the registrations."""
    from eventhub.registration.models import CheckIn, CheckInDevice, Registration, device_letters

    with app.app_context():
        rows = db.session.execute(
            select(Registration.email, CheckIn.checked_in_at, CheckInDevice.number,
                   CheckIn.offline, CheckIn.nonce, CheckIn.user_id)
            .join(Registration, CheckIn.registration_id == Registration.id)
            .outerjoin(CheckInDevice, CheckIn.device_id == CheckInDevice.id)
            .where(CheckIn.event_id == event_id).order_by(Registration.id)).all()
        return [(email, at, device_letters(n) if n else "", offline, nonce, user)
                for email, at, n, offline, nonce, user in rows]


# An event at the door (tests of the door app's server side) -----------------------------

SLUG = "dag"


def make_door_event(app) -> int:
    """Event "dag": four confirmed registrations (the first from Odense Kommune), one
    cancelled and one on the waiting list, emails p0…p5@example.dk."""
    from eventhub.events.models import Organization
    from eventhub.registration.models import Registration
    from tests.support.factories import PASSWORD, make_event, make_user

    organizer = make_user(app, "org@example.com", password=PASSWORD)
    event_id = make_event(app, SLUG, title="Del og Genbrug", organizer_id=organizer)
    with app.app_context():
        odense = Organization(name="Odense Kommune", name_key="odense kommune x")
        db.session.add(odense)
        db.session.flush()
        for n, status in enumerate(["confirmed"] * 4 + ["cancelled", "waitlisted"]):
            db.session.add(Registration(event_id=event_id, email=f"p{n}@example.dk",
                                        name=f"Person {n}", status=status,
                                        organization_id=odense.id if n == 0 else None))
        db.session.commit()
    return event_id


def staff_client(app, event_id: int, email: str = "check@example.com", role: str = "checkin"):
    """A client signed in as someone with ``role`` on the event."""
    from eventhub.events.models import EventRole
    from tests.support.client import Client, login
    from tests.support.factories import PASSWORD, make_user

    user = make_user(app, email, password=PASSWORD)
    with app.app_context():
        db.session.add(EventRole(event_id=event_id, user_id=user, role=role))
        db.session.commit()
    client = Client(app, app.response_class, use_cookies=True)
    login(client, email)
    return client


def count(app, model) -> int:
    """Rows of ``model``."""
    from sqlalchemy import func

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# In the browser (tests/e2e) -----------------------------------------------------------------

MAGIC_LINK_RE = r"https?://\S+/login/link/\S+"


def sign_in_with_password(page, email: str, password: str) -> None:
    """Staff sign in with their password on the sign-in page."""
    page.goto("/login")
    form = page.get_by_role("region", name="Arrangører: log ind med adgangskode")
    form.get_by_label("E-mail").fill(email)
    form.get_by_label("Adgangskode").fill(password)
    form.get_by_role("button", name="Log ind").click()
    page.wait_for_url(lambda url: "/login" not in url)


def sign_in_by_magic_link(page, live_server, email: str) -> None:
    """Staff ask for a sign-in link, read the mail, open it and press "Log ind"."""
    import re

    from tests.support.e2e import mail_files, wait_for_mail

    page.goto("/login")
    magic = page.get_by_role("region", name="Få et login-link på mail")
    magic.get_by_label("E-mail").fill(email)
    before = mail_files(live_server.mail_dir)
    magic.get_by_role("button", name="Send mig et link").click()
    msg = wait_for_mail(live_server.mail_dir, email, after=before)
    link = re.search(MAGIC_LINK_RE, msg.get_body(preferencelist=("plain",)).get_content())
    assert link, "no sign-in link in the mail"
    page.goto(link.group(0))
    page.get_by_role("main").get_by_role("button", name="Log ind").click()
    page.wait_for_url(lambda url: "/login" not in url)


def open_door(page, slug: str) -> str:
    """Open the check-in page and wait until the list is on the device and the service
    worker serves the page; the device's letters."""
    import re

    from playwright.sync_api import expect

    page.goto(f"/manage/e/{slug}/checkin")
    bar = page.locator("[data-door-bar]")
    expect(bar).to_contain_text(re.compile(r"Listen på enheden: \d+ tilmeldte"))
    # (page.evaluate, not wait_for_function: the page's CSP forbids the latter's eval)
    page.evaluate("""() => new Promise((resolve) => {
      if (navigator.serviceWorker.controller) resolve();
      navigator.serviceWorker.addEventListener("controllerchange", () => resolve());
    })""")
    return re.search(r"Enhed (\w+)", bar.inner_text()).group(1)
