"""The door app's endpoints: the list a device keeps, starting and signing out a device,
sync, undo, a fresh CSRF token, the web app manifest and the service worker.

The JSON endpoints answer JSON in every case, also to a signed-out device (401) and to
a broken rule, so the app can say what is wrong; nothing here commits itself.
"""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, jsonify, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from eventhub.errors import DomainError
from eventhub.events import services as events
from eventhub.extensions import db, limiter
from eventhub.paths import STATIC_DIR
from eventhub.registration import door, door_sync
from eventhub.transactions import attempt

bp = Blueprint("checkin_door", __name__, url_prefix="/manage/e/<slug>/checkin")
# The service worker needs no sign-in: it holds no data, and a browser fetching it
# while signed out must get the script, not the sign-in page.
worker_bp = Blueprint("checkin_worker", __name__)

SYNC_LIMIT = "240 per minute"  # a device syncs every few seconds and after each scan
WORKER_FILE = "js/checkin-sw.js"
# What the service worker keeps for the page to open offline (besides the page itself).
ASSETS = ("css/app.css", "css/programme.css", "css/checkin.css", "favicon.svg",
          "icons/checkin-192.png", "icons/checkin-512.png", "js/checkin.js",
          "js/checkin-camera.js", "js/checkin-list.js", "js/checkin-store.js",
          "js/checkin-sync.js", "js/checkin-view.js", "js/signout.js")


def _per_user() -> str:
    return f"user:{current_user.get_id()}"


def _answer(error: DomainError, **extra):
    return jsonify(error=error.message, message=error.message, **extra), error.status_code


@bp.before_request
def _signed_in():
    if not current_user.is_authenticated:
        message = _("Du er logget ud. Log ind igen for at fortsætte; check-ins, der venter, "
                    "bliver på enheden.")
        return jsonify(error=message, message=message, signed_out=True), 401
    return None


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    db.session.rollback()
    return _answer(error)


def _event(slug: str):
    return events.get_event(slug, current_user)


def _payload() -> dict:
    payload = request.get_json(silent=True)
    return payload if isinstance(payload, dict) else {}


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/list.json")
@limiter.limit(SYNC_LIMIT, key_func=_per_user)
def door_list(slug: str):
    return _no_store(jsonify(door.full_list(_event(slug), current_user)))


@bp.post("/device")
@limiter.limit(SYNC_LIMIT, key_func=_per_user)
def start_device(slug: str):
    device = door.start_device(_event(slug), current_user)
    return _no_store(jsonify(device=device.token, letters=device.letters,
                             label=_("Enhed %(x)s", x=device.letters)))


@bp.post("/device/signout")
def sign_out_device(slug: str):
    door.sign_out_device(_event(slug), current_user, str(_payload().get("device", "")))
    return jsonify(signed_out=True)


@bp.post("/sync")
@limiter.limit(SYNC_LIMIT, key_func=_per_user)
def sync(slug: str):
    event = _event(slug)
    with attempt(door_sync.BatchRefused) as failed:
        done = door_sync.sync(event, current_user, request.get_json(silent=True))
    if failed:
        return _answer(failed.error, refused=failed.error.refused)
    return _no_store(jsonify(**done, door=door_state_html(event)))


@bp.post("/undo")
def undo(slug: str):
    payload = _payload()
    done = door_sync.undo(_event(slug), current_user, str(payload.get("device", "")),
                          str(payload.get("nonce", "")))
    return jsonify(done)


@bp.get("/token.json")
def token(slug: str):
    door.require_door(current_user, _event(slug))
    return _no_store(jsonify(csrf=generate_csrf()))


def door_state_html(event) -> str:
    return render_template("registration/_door_state.html", door=door.door_state(event))


@bp.get("/manifest.webmanifest")
def manifest(slug: str):
    event = _event(slug)
    door.require_door(current_user, event)
    scope = url_for("manage_registration.checkin", slug=slug)
    body = {
        "name": _("Check-in · %(title)s", title=event.title)[:100],
        "short_name": _("Check-in"), "lang": str(get_locale()),
        "start_url": scope, "scope": scope, "display": "standalone",
        "background_color": "#ffffff", "theme_color": "#0b5c54",
        "icons": [
            {"src": url_for("static", filename="icons/checkin-192.png"), "sizes": "192x192",
             "type": "image/png"},
            {"src": url_for("static", filename="icons/checkin-512.png"), "sizes": "512x512",
             "type": "image/png", "purpose": "any maskable"},
        ],
    }
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")


def worker_script(scope: str) -> str:
    """The service worker: its own file, after the list of what it keeps and a version
    that changes whenever any of those files does (so devices pick up new code)."""
    assets = [url_for("static", filename=name) for name in ASSETS]
    files = [STATIC_DIR / WORKER_FILE, *(STATIC_DIR / name for name in ASSETS)]
    version = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:12]
    head = (f"const VERSION = {json.dumps(version)};\n"
            f"const ASSETS = {json.dumps(assets)};\n"
            f"const PAGE = {json.dumps(scope)};\n")
    return head + (STATIC_DIR / WORKER_FILE).read_text()


@worker_bp.get("/manage/e/<slug>/checkin/sw.js")
def worker(slug: str):
    scope = url_for("manage_registration.checkin", slug=slug)
    return Response(worker_script(scope), mimetype="text/javascript", headers={
        "Service-Worker-Allowed": scope, "Cache-Control": "no-cache"})
