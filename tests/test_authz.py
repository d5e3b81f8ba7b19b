"""Authorization matrix, generated from the URL map: every route and method is requested
as each of seven people, and the answer must be the one declared in ``ACCESS`` below.

A route without an entry fails the test, so whoever adds a route declares who may use
it. To add one: pick a policy (or write the seven outcomes), and if the URL has
arguments the world below lacks, add them to ``world()`` (or give ``args``).

Outcomes: ``ok`` (allowed: any answer that is not one of the others, e.g. 200, a
redirect elsewhere, or 400/409/422 for the empty form we post), ``login`` (a redirect
to the sign-in page), ``403``, ``404``. POST requests carry a valid CSRF token and no
fields; each POST runs on a freshly built world, so one person's action never changes
what the next one sees.

Each route, method and person is a test case of its own, named like
``GET /manage/e/<slug>/registrations as participant``; ``-k`` picks some, e.g.
``-k "registrations and participant"``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer

from eventhub import create_app
from eventhub.accounts import sessions
from eventhub.extensions import db, limiter
from tests.support.config import app_config
from tests.support.db import empty_database

ROLES = ("anonymous", "participant", "checkin", "community", "other_organizer",
         "organizer", "admin")


def outcomes(spec: str) -> tuple[str, ...]:
    parts = tuple(spec.split())
    assert len(parts) == len(ROLES), spec
    return parts


#                      anon  part  check comm  other org   admin
PUBLIC = outcomes("    ok    ok    ok    ok    ok    ok    ok")
SIGNED_IN = outcomes(" login ok    ok    ok    ok    ok    ok")
STAFF = outcomes("     login 403   ok    ok    403   ok    ok")  # any role on the event
CHECKIN = outcomes("   login 403   ok    403   403   ok    ok")
COMMUNITY = outcomes(" login 403   403   ok    403   ok    ok")
ORGANIZER = outcomes(" login 403   403   403   403   ok    ok")
ADMIN = outcomes("     login 403   403   403   403   403   ok")
# The organizing organization's community managers (not an event's organizer) and admins.
COMMUNITY_ORG = outcomes("login 403 403 ok 403 403 ok")
CAN_CREATE = outcomes("login 403   403   403   ok    ok    ok")  # new events
# The check-in buttons on a ticket: the service refuses anyone without the role.
CHECKIN_ACTION = outcomes("403 403 ok 403 403 ok ok")
# Only registered participants (their own registration at the event).
REGISTERED = outcomes("login ok 403 403 403 403 403")
# The directory: registered participants and the event's organizers and community
# managers; anyone else is refused (not sent to sign in: signing in would not help).
DIRECTORY = outcomes("403 ok 403 ok 403 ok ok")
# Starring or signing up needs one's own registration at the event: others sign in first.
OWN_REGISTRATION = outcomes("login ok login login login login login")
# Badge scanning: exhibitors and presenters of a solution only (none of the seven).
SCANNER = outcomes("login 403 403 403 403 403 403")
# The REST API authenticates by bearer token only: a session cookie never reaches it (401).
TOKEN_ONLY = outcomes("login login login login login login login")
# Single sign-on routes exist only when an identity provider is configured.
NOT_CONFIGURED = outcomes("404 404 404 404 404 404 404")
# A certificate for someone not checked in (or a code nobody was given) is not found.
NO_CERTIFICATE = outcomes("404 404 404 404 404 404 404")
# /metrics answers on loopback only (the test client is 127.0.0.1) or with a token.
LOOPBACK = PUBLIC


@dataclass
class Route:
    policy: tuple[str, ...] | dict[str, tuple[str, ...]]
    args: dict[str, str] = field(default_factory=dict)  # URL argument → key in world()

    def for_method(self, method: str) -> tuple[str, ...]:
        return self.policy[method] if isinstance(self.policy, dict) else self.policy


def R(policy, **args) -> Route:  # noqa: N802 - reads as a table
    return Route(policy, args)


# One row per route (its rule in the URL map). Keep it sorted by path.
ACCESS: dict[str, Route] = {
    "/": R(PUBLIC),
    "/account": R(SIGNED_IN),
    "/account/logout-everywhere": R(SIGNED_IN),
    # One's own sign-in only: the participant's; anyone else's is not found.
    "/account/sign-ins/<int:sign_in_id>/logout": R(
        outcomes("login ok 404 404 404 404 404"), sign_in_id="participant_sign_in_id"),
    "/admin/mail": R(ADMIN),
    "/c/<code>": R(NO_CERTIFICATE, code="bad_token"),
    "/admin/mail/<int:mail_id>/retry": R(ADMIN),
    "/api/v1/docs": R(PUBLIC),
    "/api/v1/events": R(TOKEN_ONLY),
    "/api/v1/events/<slug>": R(TOKEN_ONLY),
    "/api/v1/events/<slug>/checkins": R(TOKEN_ONLY),
    "/api/v1/events/<slug>/experiences": R(TOKEN_ONLY),
    "/api/v1/events/<slug>/leads": R(TOKEN_ONLY),
    "/api/v1/events/<slug>/leads/<int:lead_id>": R(TOKEN_ONLY),
    "/api/v1/events/<slug>/leads/<int:lead_id>/stage": R(TOKEN_ONLY),
    "/api/v1/events/<slug>/polls": R(TOKEN_ONLY),
    "/api/v1/events/<slug>/polls/<int:poll_id>": R(TOKEN_ONLY),
    "/api/v1/events/<slug>/polls/<int:poll_id>/results": R(TOKEN_ONLY),
    "/api/v1/events/<slug>/registrations": R(TOKEN_ONLY),
    "/api/v1/events/<slug>/registrations/<int:registration_id>": R(TOKEN_ONLY),
    "/api/v1/events/<slug>/registrations/<int:registration_id>/cancel": R(TOKEN_ONLY),
    "/api/v1/events/<slug>/rooms": R(TOKEN_ONLY),
    "/api/v1/events/<slug>/sessions": R(TOKEN_ONLY),
    "/api/v1/events/<slug>/sessions/<int:session_id>": R(TOKEN_ONLY),
    "/api/v1/events/<slug>/solutions": R(TOKEN_ONLY),
    "/api/v1/events/<slug>/solutions/<int:solution_id>": R(TOKEN_ONLY),
    "/api/v1/events/<slug>/speakers": R(TOKEN_ONLY),
    "/api/v1/openapi.json": R(PUBLIC),
    "/community/": R(SIGNED_IN),
    "/community/<int:org_id>/": R(COMMUNITY_ORG, org_id="host_id"),
    "/community/<int:org_id>/leads/<int:lead_id>": R(
        COMMUNITY_ORG, org_id="host_id", lead_id="community_lead_id"),
    "/community/<int:org_id>/leads/<int:lead_id>/mail": R(
        COMMUNITY_ORG, org_id="host_id", lead_id="community_lead_id"),
    "/community/<int:org_id>/leads/<int:lead_id>/move": R(
        COMMUNITY_ORG, org_id="host_id", lead_id="community_lead_id"),
    "/community/<int:org_id>/solutions/<int:solution_id>": R(
        COMMUNITY_ORG, org_id="host_id", solution_id="public_solution_id"),
    "/community/<int:org_id>/team": R(COMMUNITY_ORG, org_id="host_id"),
    "/community/checkin/<token>": R(PUBLIC, token="checkin_token"),
    "/community/checkin/<token>/experience": R(PUBLIC, token="checkin_token"),
    "/community/events/<slug>/settings": R(ORGANIZER),
    "/community/open-data/": R(PUBLIC),
    "/community/open-data/<name>.<fmt>": R(PUBLIC, name="dataset", fmt="csv_format"),
    "/community/solutions/<int:solution_id>": R(PUBLIC, solution_id="public_solution_id"),
    "/e/<slug>": R(PUBLIC),
    "/e/<slug>/agenda/<token>.ics": R(PUBLIC, token="feed_token"),
    "/e/<slug>/directory": R(DIRECTORY),
    "/e/<slug>/directory/contact/<token>": R(PUBLIC, token="contact_token"),  # mailed link
    "/e/<slug>/directory/contacts": R(DIRECTORY),
    "/e/<slug>/directory/me": R(DIRECTORY),
    "/e/<slug>/directory/me/delete": R(DIRECTORY),
    "/e/<slug>/directory/organizations/<int:organization_id>": R(DIRECTORY),
    "/e/<slug>/directory/people/<int:registration_id>": R(DIRECTORY),
    "/e/<slug>/directory/people/<int:registration_id>/contact": R(DIRECTORY),
    "/e/<slug>/directory/solutions/<int:solution_id>": R(DIRECTORY),
    "/e/<slug>/directory/solutions/<int:solution_id>/experience": R(DIRECTORY),
    "/e/<slug>/directory/solutions/<int:solution_id>/interest": R(DIRECTORY),
    "/e/<slug>/directory/solutions/new": R(DIRECTORY),
    "/e/<slug>/meetings": R(PUBLIC),
    "/e/<slug>/meetings/<int:meeting_id>": R(OWN_REGISTRATION),
    "/e/<slug>/meetings/<int:meeting_id>/<action>": R(OWN_REGISTRATION,
                                                      action="meeting_action"),
    "/e/<slug>/meetings/link/<token>": R(PUBLIC, token="meeting_token"),  # mailed link
    "/e/<slug>/meetings/link/<token>/<action>": R(PUBLIC, token="meeting_token",
                                                  action="meeting_action"),
    "/e/<slug>/meetings/new/<int:registration_id>": R(OWN_REGISTRATION),
    "/e/<slug>/meetings/unavailable": R(OWN_REGISTRATION),
    "/e/<slug>/my-day": R(PUBLIC),
    "/e/<slug>/my-day/feed/reset": R(PUBLIC),
    "/e/<slug>/privacy": R(PUBLIC),
    "/e/<slug>/programme": R(PUBLIC),
    "/e/<slug>/programme.ics": R(PUBLIC),
    "/e/<slug>/programme/<int:session_id>": R(PUBLIC),
    "/e/<slug>/programme/<int:session_id>.ics": R(PUBLIC),
    "/e/<slug>/programme/<int:session_id>/<action>": R(OWN_REGISTRATION,
                                                       action="star_action"),
    "/e/<slug>/register": R(PUBLIC),
    "/e/<slug>/register/resend": R(PUBLIC),
    "/e/<slug>/scan": R(SCANNER),
    "/e/<slug>/scan/<int:scan_id>": R(SCANNER),
    "/e/<slug>/scan/withdraw/<token>": R(PUBLIC, token="withdraw_token"),  # mailed link
    "/e/<slug>/speakers": R(PUBLIC),
    "/e/<slug>/speakers/<int:speaker_id>": R(PUBLIC),
    "/healthz": R(PUBLIC),
    "/img/<int:image_id>-<digest>-<size>.<ext>": R(PUBLIC),
    "/j": R(PUBLIC),
    "/j/<code>": R(PUBLIC, code="join_code"),
    "/j/<code>/polls/<int:poll_id>.json": R(PUBLIC, code="join_code"),
    "/j/<code>/polls/<int:poll_id>/ask": R(PUBLIC, code="join_code"),
    "/j/<code>/polls/<int:poll_id>/questions/<int:question_id>/upvote": R(
        PUBLIC, code="join_code", question_id="qa_question_id"),
    "/j/<code>/polls/<int:poll_id>/stream": R(PUBLIC, code="join_code"),
    "/j/<code>/polls/<int:poll_id>/vote": R(PUBLIC, code="join_code"),
    "/j/<code>/stream": R(PUBLIC, code="join_code"),
    "/j/<code>/qr.png": R(PUBLIC, code="join_code"),
    "/login": R(PUBLIC),
    "/login/link": R(PUBLIC),
    "/login/link/<token>": R(PUBLIC, token="bad_token"),
    "/login/org": R(NOT_CONFIGURED),
    "/login/org/callback": R(NOT_CONFIGURED),
    "/logout": R(PUBLIC),
    "/manage/": R(SIGNED_IN),
    "/manage/e/<slug>": R(STAFF),
    "/manage/e/<slug>/api": R(ORGANIZER),
    "/manage/e/<slug>/api/<int:token_id>/revoke": R(ORGANIZER),
    "/manage/e/<slug>/badges.pdf": R(ORGANIZER),
    "/manage/e/<slug>/checkin": R(CHECKIN),
    "/manage/e/<slug>/checkin/count": R(CHECKIN),
    # The door app: JSON answers (a signed-out device gets a 401, counted as "login").
    "/manage/e/<slug>/checkin/device": R(CHECKIN),
    "/manage/e/<slug>/checkin/device/signout": R(CHECKIN),
    "/manage/e/<slug>/checkin/list.json": R(CHECKIN),
    "/manage/e/<slug>/checkin/manifest.webmanifest": R(CHECKIN),
    "/manage/e/<slug>/checkin/sw.js": R(PUBLIC),  # the service worker holds no data
    "/manage/e/<slug>/checkin/sync": R(CHECKIN),
    "/manage/e/<slug>/checkin/token.json": R(CHECKIN),
    "/manage/e/<slug>/checkin/undo": R(CHECKIN),
    "/manage/e/<slug>/clone": R(ORGANIZER),
    "/manage/e/<slug>/edit": R(ORGANIZER),
    "/manage/e/<slug>/followup/": R(COMMUNITY),
    "/manage/e/<slug>/followup/introduce": R(COMMUNITY),
    "/manage/e/<slug>/followup/leads": R(COMMUNITY),
    "/manage/e/<slug>/followup/leads.csv": R(COMMUNITY, fmt="csv_format"),
    "/manage/e/<slug>/followup/leads.xlsx": R(COMMUNITY, fmt="xlsx_format"),
    "/manage/e/<slug>/followup/leads/<int:lead_id>": R(COMMUNITY),
    "/manage/e/<slug>/followup/leads/<int:lead_id>/assign": R(COMMUNITY),
    "/manage/e/<slug>/followup/leads/<int:lead_id>/move": R(COMMUNITY),
    "/manage/e/<slug>/followup/leads/<int:lead_id>/note": R(COMMUNITY),
    "/manage/e/<slug>/followup/leads/import": R(COMMUNITY),
    "/manage/e/<slug>/followup/leads/new": R(COMMUNITY),
    "/manage/e/<slug>/followup/mail": R(COMMUNITY),
    "/manage/e/<slug>/followup/report": R(COMMUNITY),
    "/manage/e/<slug>/followup/report.pdf": R(COMMUNITY),
    "/manage/e/<slug>/followup/survey": R(COMMUNITY),
    "/manage/e/<slug>/log": R(ORGANIZER),
    "/manage/e/<slug>/meetings/": R(COMMUNITY),
    "/manage/e/<slug>/meetings/exhibitors": R(ORGANIZER),
    "/manage/e/<slug>/meetings/exhibitors/<int:exhibitor_id>/remove": R(ORGANIZER),
    "/manage/e/<slug>/meetings/schedule.pdf": R(COMMUNITY),
    "/manage/e/<slug>/meetings/setup": R(ORGANIZER),
    "/manage/e/<slug>/mail": R(ORGANIZER),
    "/manage/e/<slug>/mail/messages": R(ORGANIZER),
    "/manage/e/<slug>/mail/preview/<kind>": R(ORGANIZER, kind="rule_kind"),
    "/manage/e/<slug>/mail/rules/<kind>": R(ORGANIZER, kind="rule_kind"),
    "/manage/e/<slug>/mail/texts/<key>/<locale>": R(ORGANIZER, key="text_key",
                                                     locale="text_locale"),
    "/manage/e/<slug>/pictures": R(ORGANIZER),
    "/manage/e/<slug>/polls/": R(ORGANIZER),
    "/manage/e/<slug>/polls/<int:poll_id>": R(ORGANIZER),
    "/manage/e/<slug>/polls/<int:poll_id>/<action>": R(ORGANIZER, action="poll_action"),
    "/manage/e/<slug>/polls/<int:poll_id>/delete": R(ORGANIZER),
    "/manage/e/<slug>/polls/<int:poll_id>/export.<fmt>": R(ORGANIZER, fmt="export_format"),
    "/manage/e/<slug>/polls/<int:poll_id>/moderate": R(ORGANIZER),
    "/manage/e/<slug>/polls/<int:poll_id>/moderate/<int:item_id>/<action>": R(
        ORGANIZER, item_id="qa_question_id", action="moderate_action"),
    "/manage/e/<slug>/polls/<int:poll_id>/present": R(ORGANIZER),
    "/manage/e/<slug>/polls/<int:poll_id>/results": R(ORGANIZER),
    "/manage/e/<slug>/polls/<int:poll_id>/stream": R(ORGANIZER),
    "/manage/e/<slug>/polls/export.csv": R(ORGANIZER),
    "/manage/e/<slug>/polls/export.pdf": R(ORGANIZER),
    "/manage/e/<slug>/polls/new": R(ORGANIZER),
    "/manage/e/<slug>/polls/remote": R(ORGANIZER),
    "/manage/e/<slug>/polls/remote/<command>": R(ORGANIZER, command="remote_command"),
    "/manage/e/<slug>/polls/screen": R(ORGANIZER),
    "/manage/e/<slug>/polls/screen/body": R(ORGANIZER),
    "/manage/e/<slug>/polls/screen/stream": R(ORGANIZER),
    "/manage/e/<slug>/programme/": R(ORGANIZER),
    "/manage/e/<slug>/programme/import": R(ORGANIZER),
    "/manage/e/<slug>/programme/programme.pdf": R(STAFF),
    "/manage/e/<slug>/programme/rooms": R(ORGANIZER),
    "/manage/e/<slug>/programme/rooms/<int:place_id>": R(ORGANIZER, place_id="room_id",
                                                        kind="kind_room"),
    "/manage/e/<slug>/programme/rooms/<int:place_id>/delete": R(
        ORGANIZER, place_id="room_id", kind="kind_room"),
    "/manage/e/<slug>/programme/sessions/<int:session_id>": R(ORGANIZER),
    "/manage/e/<slug>/programme/sessions/<int:session_id>/<action>": R(
        ORGANIZER, action="session_action"),
    "/manage/e/<slug>/programme/sessions/<int:session_id>/<any(cancel, reinstate):action>": R(
        ORGANIZER, action="cancel_action"),
    "/manage/e/<slug>/programme/sessions/new": R(ORGANIZER),
    "/manage/e/<slug>/programme/speakers/": R(ORGANIZER),
    "/manage/e/<slug>/programme/speakers/<int:speaker_id>": R(ORGANIZER),
    "/manage/e/<slug>/programme/speakers/<int:speaker_id>/delete": R(ORGANIZER),
    "/manage/e/<slug>/programme/speakers/new": R(ORGANIZER),
    "/manage/e/<slug>/programme/tracks": R(ORGANIZER),
    "/manage/e/<slug>/programme/tracks/<int:place_id>": R(ORGANIZER, place_id="track_id",
                                                         kind="kind_track"),
    "/manage/e/<slug>/programme/tracks/<int:place_id>/delete": R(
        ORGANIZER, place_id="track_id", kind="kind_track"),
    "/manage/e/<slug>/publish": R(ORGANIZER),
    "/manage/e/<slug>/questions": R(ORGANIZER),
    "/manage/e/<slug>/questions/<int:question_id>": R(ORGANIZER),
    "/manage/e/<slug>/questions/<int:question_id>/<action>": R(
        ORGANIZER, action="question_action"),
    "/manage/e/<slug>/registrations": R(COMMUNITY),  # community managers: read only
    "/manage/e/<slug>/registrations.csv": R(ORGANIZER),
    "/manage/e/<slug>/registrations.xlsx": R(ORGANIZER),
    "/manage/e/<slug>/registrations/bulk": R(ORGANIZER),
    "/manage/e/<slug>/registrations/<int:reg_id>": R(ORGANIZER),
    "/manage/e/<slug>/registrations/<int:reg_id>/<action>": R(
        ORGANIZER, action="registration_action"),
    "/manage/e/<slug>/registrations/import": R(ORGANIZER),
    "/manage/e/<slug>/registrations/new": R(ORGANIZER),
    "/manage/e/<slug>/solutions/": R(ORGANIZER),
    "/manage/e/<slug>/solutions/<int:solution_id>": R(ORGANIZER),
    "/manage/e/<slug>/solutions/<int:solution_id>/<action>": R(
        ORGANIZER, action="solution_action"),
    "/manage/e/<slug>/solutions/new": R(ORGANIZER),
    "/manage/e/<slug>/solutions/sessions/<int:session_id>": R(ORGANIZER),
    "/manage/e/<slug>/staff": R(ORGANIZER),
    "/manage/e/<slug>/staff/<int:role_id>/remove": R(ORGANIZER),
    "/manage/e/<slug>/webhooks": R(ORGANIZER),
    "/manage/e/<slug>/webhooks/<int:endpoint_id>": R(ORGANIZER),
    "/manage/e/<slug>/webhooks/<int:endpoint_id>/delete": R(ORGANIZER),
    "/manage/e/<slug>/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/again": R(
        ORGANIZER),
    "/manage/e/<slug>/webhooks/<int:endpoint_id>/test": R(ORGANIZER),
    "/manage/e/<slug>/status/<move>": R(ORGANIZER, move="status_move"),
    "/manage/e/<slug>/unpublish": R(ORGANIZER),
    "/manage/events/new": R(CAN_CREATE),
    "/metrics": R(LOOPBACK),
    "/my-data": R(SIGNED_IN),
    "/my-data.json": R(SIGNED_IN),
    "/my-data/consents/<key>/withdraw": R(SIGNED_IN),
    "/my-data/correct": R(SIGNED_IN),
    "/my-events": R(SIGNED_IN),
    # Only the person's own registrations: everyone else gets a 404.
    "/my-data/registrations/<int:reg_id>/delete": R(
        outcomes("login ok 404 404 404 404 404"), reg_id="participant_reg_id"),
    "/organizations/search": R(PUBLIC),
    "/r/<token>": R(PUBLIC),
    "/r/<token>/cancel": R(PUBLIC),
    "/r/<token>/edit": R(PUBLIC),
    "/r/<token>/event.ics": R(PUBLIC),
    "/r/<token>/my-data": R(PUBLIC),
    "/r/<token>/my-data.json": R(PUBLIC),
    "/r/<token>/my-data/consents/<key>/withdraw": R(PUBLIC),
    "/r/<token>/my-data/correct": R(PUBLIC),
    "/r/<token>/my-data/delete": R(PUBLIC),
    "/r/<token>/certificate.pdf": R(NO_CERTIFICATE),
    "/r/<token>/ticket.pdf": R(PUBLIC),
    # A badge's scan code: a note for everyone, the scanner for exhibitors.
    "/s/<token>": R(PUBLIC, token="scan_token"),
    "/readyz": R(PUBLIC),
    "/solutions/<int:solution_id>": R(PUBLIC),
    "/static/<path:filename>": R(PUBLIC),
    "/t/<code>": R(PUBLIC),
    "/t/<code>/checkin": R(CHECKIN_ACTION),
    "/t/<code>/qr.png": R(PUBLIC),
    "/t/<code>/undo": R(CHECKIN_ACTION),
    "/tilgaengelighed": R(PUBLIC),
    "/u/<token>": R(PUBLIC, token="unsubscribe_token"),
}


# The world every request runs in ---------------------------------------------------------


def build_world() -> dict:
    """One published event with one of everything, its staff, and one participant."""
    from sqlalchemy import select

    from eventhub.accounts.models import LoginSession, User
    from eventhub.events.models import (
        CHECKIN,
        COMMUNITY_MANAGER,
        ORGANIZER,
        PUBLISHED,
        Event,
        EventRole,
    )
    from eventhub.mail import FAILED, OutboxMail
    from eventhub.polls.models import QA, Poll, QAQuestion
    from eventhub.programme.models import AgendaFeed, Session
    from eventhub.registration.models import Question, Registration

    start = datetime.now(UTC) + timedelta(days=30)
    users = {}
    for role in ROLES[1:]:
        users[role] = User(email=f"{role}@example.com", name=role.title(),
                           is_admin=role == "admin")
        db.session.add(users[role])
    dag = Event(slug="dag", title="Dagen", starts_at=start, ends_at=start + timedelta(hours=6),
                status=PUBLISHED)
    andet = Event(slug="andet", title="Andet", starts_at=start,
                  ends_at=start + timedelta(hours=6), status=PUBLISHED)
    db.session.add_all([dag, andet])
    db.session.flush()
    extra = User(email="extra@example.com")
    db.session.add(extra)
    db.session.flush()
    roles = [EventRole(event_id=dag.id, user_id=users["checkin"].id, role=CHECKIN),
             EventRole(event_id=dag.id, user_id=users["community"].id, role=COMMUNITY_MANAGER),
             EventRole(event_id=dag.id, user_id=users["organizer"].id, role=ORGANIZER),
             EventRole(event_id=andet.id, user_id=users["other_organizer"].id, role=ORGANIZER),
             EventRole(event_id=dag.id, user_id=extra.id, role=CHECKIN)]
    db.session.add_all(roles)
    mine = Registration(event_id=dag.id, email="participant@example.com", name="Deltager",
                        user_id=users["participant"].id, directory_consent_at=start)
    victim = Registration(event_id=dag.id, email="victim@example.com", name="Anden",
                          directory_consent_at=start)
    session = Session(event_id=dag.id, title="Oplæg", starts_at=start,
                      ends_at=start + timedelta(hours=1))
    question = Question(event_id=dag.id, label="Kost")
    poll = Poll(event_id=dag.id, question="Spørgsmål?", kind=QA, status="open")
    mail = OutboxMail(to_addr="x@example.com", subject="s", body_text="b", status=FAILED)
    db.session.add_all([mine, victim, session, question, poll, mail])
    db.session.flush()
    qa = QAQuestion(poll_id=poll.id, voter_key="a:x", text="Hvorfor?")
    feed = AgendaFeed(registration_id=mine.id)
    db.session.add_all([qa, feed])
    db.session.flush()
    world = {
        "slug": "dag", "session_id": session.id, "poll_id": poll.id, "question_id": question.id,
        "qa_question_id": qa.id, "reg_id": victim.id, "participant_reg_id": mine.id,
        "registration_id": victim.id, "role_id": roles[-1].id, "mail_id": mail.id,
        "token": mine.manage_token, "feed_token": feed.token, "bad_token": "x" * 40,
        "code": victim.ticket_code, "join_code": dag.join_code, "key": "directory",
        "filename": "css/app.css", "organization_id": 1,
        "star_action": "star", "poll_action": "open", "moderate_action": "approve",
        "remote_command": "next", "export_format": "csv",
        "session_action": "duplicate", "cancel_action": "cancel", "question_action": "up",
        "registration_action": "resend", "solution_action": "publish",
        "solution_id": 0, "contact_token": "nope",
        "rule_kind": "reminder", "text_key": "reminder", "text_locale": "da",
        "users": {role: (u.id, sessions.start(u)) for role, u in users.items()},
        "participant_sign_in_id": db.session.scalar(select(LoginSession.id).where(
            LoginSession.user_id == users["participant"].id)),
        "event_id": dag.id,
    }
    world.update(_programme_world(dag))
    world.update(_directory_world(dag, mine, victim))
    world.update(_followup_world(dag, victim, world.get("solution_id")))
    world.update(_api_world(dag, users["organizer"]))
    world.update(_community_world(dag, users["community"]))
    world.update(_meetings_world(dag, mine, victim, world.get("solution_id"), extra))
    return world


def _meetings_world(event, mine, victim, solution_id, exhibitor) -> dict:
    """Meetings set up, one asked by the participant, an exhibitor who scanned the other."""
    from eventhub.meetings.models import (
        Exhibitor,
        Meeting,
        MeetingPeriod,
        MeetingPlace,
        MeetingSetup,
        Scan,
    )

    start = event.starts_at + timedelta(hours=3)
    db.session.add_all([
        MeetingSetup(event_id=event.id, enabled=True, slot_minutes=20),
        MeetingPeriod(event_id=event.id, starts_at=start, ends_at=start + timedelta(hours=1)),
        MeetingPlace(event_id=event.id, name="Bord 1")])
    meeting = Meeting(event_id=event.id, requester_id=mine.id, invitee_id=victim.id,
                      awaiting_id=victim.id, starts_at=start,
                      ends_at=start + timedelta(minutes=20))
    row = Exhibitor(event_id=event.id, user_id=exhibitor.id, solution_id=solution_id) \
        if solution_id else None
    db.session.add_all([meeting] + ([row] if row else []))
    db.session.flush()
    scan = Scan(event_id=event.id, registration_id=victim.id, solution_id=solution_id,
                scanned_by_id=exhibitor.id, tags=[])
    db.session.add(scan)
    db.session.flush()
    return {"meeting_id": meeting.id, "meeting_token": meeting.invitee_token,
            "meeting_action": "cancel", "exhibitor_id": row.id if row else 0,
            "scan_id": scan.id, "withdraw_token": scan.withdraw_token,
            "scan_token": victim.scan_token}


def _api_world(event, organizer) -> dict:
    """An API token and a webhook receiver with one delivery, made by the organizer."""
    from eventhub.api.models import ApiToken, WebhookDelivery, WebhookEndpoint

    token = ApiToken(name="CRM", prefix="eh_x", token_hash="0" * 64, scopes=[],
                     event_id=event.id, created_by_id=organizer.id)
    endpoint = WebhookEndpoint(event_id=event.id, owner_id=organizer.id,
                               url="https://crm.example.com/hook", secret="whsec_QUJD",
                               event_types=["checkin.created"])
    db.session.add_all([token, endpoint])
    db.session.flush()
    delivery = WebhookDelivery(endpoint_id=endpoint.id, event_type="checkin.created",
                               message_id="msg_1", payload={}, status="delivered")
    db.session.add(delivery)
    db.session.flush()
    return {"token_id": token.id, "endpoint_id": endpoint.id, "delivery_id": delivery.id}


def _programme_world(event) -> dict:
    """A room, a track, a speaker with a photo (a stored picture)."""
    import io

    from PIL import Image

    from eventhub import images
    from eventhub.programme.models import EventSpeaker, Room, Track

    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (11, 92, 84)).save(buffer, format="JPEG")
    buffer.seek(0)
    buffer.filename = "foto.jpg"
    photo = images.store(images.prepare(buffer, "photo"))
    room, track = Room(event_id=event.id, name="Sal"), Track(event_id=event.id, name="Spor")
    person = EventSpeaker(event_id=event.id, name="Taler Udefra", photo_image_id=photo.id)
    db.session.add_all([room, track, person])
    db.session.flush()
    return {"room_id": room.id, "track_id": track.id, "speaker_id": person.id,
            "image_id": photo.id, "digest": photo.digest[:16], "size": "phone",
            "ext": photo.extension, "status_move": "close", "kind_room": "room",
            "kind_track": "track"}


def _directory_world(event, mine, victim) -> dict:
    """A solution and a contact request, when the directory is there."""
    try:
        from eventhub.directory.models import ContactRequest, Solution
    except ImportError:
        return {}
    solution = Solution(name="Skærmbesøg", public=True)
    db.session.add(solution)
    db.session.flush()
    contact = ContactRequest(event_id=event.id, sender_id=victim.id, recipient_id=mine.id,
                             message="Hej")
    db.session.add(contact)
    db.session.flush()
    return {"solution_id": solution.id, "contact_token": contact.token}


def _followup_world(event, victim, solution_id) -> dict:
    """A follow-up lead and an unsubscribe token, when the follow-up is there."""
    try:
        from eventhub.followup.models import Lead
        from eventhub.followup.unsubscribe import token_for
    except ImportError:
        return {}
    lead = Lead(event_id=event.id, registration_id=victim.id, solution_id=solution_id or None)
    db.session.add(lead)
    db.session.flush()
    return {"lead_id": lead.id, "unsubscribe_token": token_for(victim),
            "csv_format": "csv", "xlsx_format": "xlsx"}


def _community_world(event, manager) -> dict:
    """The event's organizing organization, its community manager, a lead of a person who
    may be contacted, a public solution and a check-in link."""
    from eventhub.community.checkins import token_for
    from eventhub.community.models import Checkin, CommunityMember
    from eventhub.directory.models import Solution
    from eventhub.events.models import Organization
    from eventhub.followup.models import Lead
    from eventhub.registration.models import Registration

    host = Organization(name="Klyngen", name_key="klyngen", kind="other")
    solution = Solution(name="Offentlig løsning", public=True)
    db.session.add_all([host, solution])
    db.session.flush()
    event.host_organization_id = host.id
    person = Registration(event_id=event.id, email="kontakt@example.com", name="Kontakt",
                          organization_id=1, followup_consent_at=event.starts_at)
    db.session.add_all([CommunityMember(organization_id=host.id, user_id=manager.id), person])
    db.session.flush()
    lead = Lead(event_id=event.id, scope=host.id, organization_id=1,
                registration_id=person.id, solution_id=solution.id)
    checkin = Checkin(event_id=event.id, registration_id=person.id, month=3,
                      solution_ids=[solution.id], sent_at=datetime.now(UTC))
    db.session.add_all([lead, checkin])
    db.session.flush()
    return {"host_id": host.id, "community_lead_id": lead.id,
            "public_solution_id": solution.id, "checkin_token": token_for(checkin),
            "dataset": "solutions"}


# Requests ---------------------------------------------------------------------------------


def _csrf(app, sess) -> str:
    raw = hashlib.sha1(os.urandom(64)).hexdigest()
    sess["csrf_token"] = raw
    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(raw)


def request_as(app, world: dict, role: str, method: str, url: str):
    from flask.testing import FlaskClient

    client = FlaskClient(app, app.response_class, use_cookies=True)
    token = None
    with client.session_transaction() as sess:
        if role != "anonymous":
            user_id, nonce = world["users"][role]
            sess["_user_id"], sess["_fresh"] = f"{user_id}:{nonce}", True
        if role == "participant":
            sess["registrations"] = {str(world["event_id"]): world["participant_reg_id"]}
        token = _csrf(app, sess)
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, data={"csrf_token": token},
                               headers={"Referer": "http://localhost/"})
    response.close()  # streams end here
    return response


def classify(response) -> str:
    location = response.headers.get("Location", "")
    if response.status_code in (301, 302, 303) and location.split("?")[0].endswith(
            "/login") and "next=" in location:  # (a plain /login is where sign-out lands)
        return "login"
    if response.status_code in (401, 403, 404):
        return str(response.status_code).replace("401", "login")
    return "ok"


def _url(app, rule, entry: Route, world: dict) -> str:
    values = {}
    for arg in rule.arguments:
        key = entry.args.get(arg, arg)
        assert key in world, (f"{rule.rule}: no value for <{arg}>; add '{key}' to "
                              "build_world() or give the row args")
        values[arg] = world[key]
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


# The URL map, read once at collection (no database needed) to make one case per route,
# method and person.
URL_MAP_APP = create_app(app_config("sqlite://", Path(tempfile.gettempdir()) / "authz-map"))
CASES = [
    pytest.param(rule.rule, method, role, want, id=f"{method} {rule.rule} as {role}")
    for rule, method in routes(URL_MAP_APP) if rule.rule in ACCESS  # (else: the test below)
    for role, want in zip(ROLES, ACCESS[rule.rule].for_method(method), strict=True)
]


def test_every_route_has_an_entry():
    rules = {rule.rule for rule, _m in routes(URL_MAP_APP)}
    missing = sorted(rules - set(ACCESS))
    assert not missing, ("routes without an entry in tests/test_authz.py ACCESS (declare "
                         "who may use them): " + ", ".join(missing))
    stale = sorted(set(ACCESS) - rules)
    assert not stale, "ACCESS rows for routes that no longer exist: " + ", ".join(stale)


class Matrix:
    """The app and world the cases share: GETs reuse one world; a POST (which may change
    it) runs on a fresh one, and the next GET then builds another."""

    def __init__(self, app) -> None:
        self.app, self.world, self.changed = app, None, False
        self.rules = {(rule.rule, method): rule for rule, method in routes(app)}

    def world_for(self, method: str) -> dict:
        if self.world is None or self.changed or method != "GET":
            with self.app.app_context():
                db.session.rollback()
                empty_database()
                self.world = build_world()
                db.session.commit()
        self.changed = method != "GET"
        return self.world


@pytest.fixture(scope="module")
def matrix(database_uri, tmp_path_factory):
    app = create_app(app_config(database_uri, tmp_path_factory.mktemp("authz")))
    limiter.enabled = False
    try:
        yield Matrix(app)
    finally:
        limiter.enabled = True
        with app.app_context():
            db.session.rollback()
            empty_database()
            db.engine.dispose()


@pytest.mark.parametrize("path,method,role,want", CASES)
def test_route_gives_the_declared_answer(matrix, path, method, role, want):
    """The route and method, requested as this person, gives the answer in ACCESS."""
    rule = matrix.rules[path, method]
    world = matrix.world_for(method)
    response = request_as(matrix.app, world, role, method,
                          _url(matrix.app, rule, ACCESS[path], world))
    got = classify(response)
    assert got == want, (f"{method} {path} as {role}: expected {want}, got {got} "
                         f"({response.status_code})")


@pytest.mark.parametrize("spec", [PUBLIC, SIGNED_IN, STAFF, CHECKIN, ORGANIZER, ADMIN])
def test_policies_name_every_person(spec):
    assert len(spec) == len(ROLES)
