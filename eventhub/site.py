"""Site-wide pieces: health check, error pages, template helpers."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    jsonify,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy import select, text
from sqlalchemy.exc import DataError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from eventhub import contributions
from eventhub.errors import DomainError
from eventhub.extensions import csrf, db
from eventhub.i18n import localday, localdt

bp = Blueprint("site", __name__)


@bp.get("/healthz")
@csrf.exempt
def healthz():
    """200 when the database answers, 503 when it does not."""
    try:
        # A connection of its own: a failed probe leaves the request's session untouched.
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return jsonify(status="unavailable", database=type(exc).__name__), 503
    return jsonify(status="ok", database="ok")


@bp.before_app_request
def refuse_nul_bytes():
    """A NUL character belongs in no text field (PostgreSQL refuses it): answer 400."""
    sources = [request.args] + ([request.form] if request.method == "POST" else [])
    for source in sources:
        for key, values in source.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                return error_page(400)
    return None


@bp.get("/img/<int:image_id>-<digest>-<size>.<ext>")
def image(image_id: int, digest: str, size: str, ext: str):
    """A stored picture in one size; its address changes with its content, so it is kept
    a year (by browsers and by nginx)."""
    from eventhub.images import StoredImage

    row = db.session.get(StoredImage, image_id)
    if row is None or not row.digest.startswith(digest) or size not in ("phone", "desktop") \
            or ext != row.extension:
        return error_page(404)
    response = make_response(row.phone if size == "phone" else row.desktop)
    response.mimetype = row.mimetype
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.set_etag(f"{row.digest[:32]}-{size}")
    return response


@bp.get("/tilgaengelighed")
def accessibility():
    """Tilgængelighedserklæring: the accessibility statement the web accessibility law asks for."""
    return render_template("site/accessibility.html")


# Error pages -------------------------------------------------------------------------

def _error_texts(code: int) -> tuple[str, str]:
    texts = {
        400: (_("Forespørgslen kunne ikke forstås"),
              _("Noget i forespørgslen var forkert. Gå tilbage, tjek det du skrev, og prøv igen.")),
        403: (_("Du har ikke adgang"),
              _("Siden kræver en rolle, du ikke har. Log ind med den rigtige konto, "
                "eller bed arrangøren om adgang.")),
        404: (_("Siden findes ikke"),
              _("Adressen kan være skrevet forkert, eller siden er flyttet. "
                "Gå til forsiden og find arrangementet derfra.")),
        405: (_("Det kan man ikke her"),
              _("Siden kan ikke bruges på den måde. Gå tilbage og brug knapperne på siden.")),
        413: (_("Filen er for stor"),
              _("Det, du sendte, er større end vi tager imod. Prøv med en mindre fil.")),
        429: (_("For mange forsøg"),
              _("Du har prøvet mange gange på kort tid. Vent et minut, og prøv så igen.")),
        500: (_("Der skete en fejl hos os"),
              _("Det er ikke din skyld, og intet af det, du allerede har gemt, er tabt. "
                "Prøv igen om lidt. Sker det igen, så kontakt arrangøren.")),
        503: (_("Tjenesten er midlertidigt utilgængelig"),
              _("Vi kan ikke nå vores database lige nu. Prøv igen om et øjeblik.")),
    }
    return texts.get(code, texts[500])


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > \
        request.accept_mimetypes["text/html"]


def error_page(code: int, title: str | None = None, message: str | None = None,
               csrf_expired: bool = False):
    default_title, default_message = _error_texts(code)
    title, message = title or default_title, message or default_message
    for prefix, render in contributions.of("error_pages"):  # e.g. the API's problem details
        if request.path.startswith(prefix):
            return render(code, title, message), code
    if wants_json():
        return jsonify(error=title, message=message), code
    try:
        page = render_template(
            "errors/error.html", code=code, title=title, message=message,
            csrf_expired=csrf_expired,
        )
    except Exception:  # the page itself needs the database; say it plainly instead
        db.session.rollback()
        page = _PLAIN_ERROR.format(code=code, title=escape(title), message=escape(message))
    return page, code


_PLAIN_ERROR = """<!doctype html><html lang="da"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
</head><body><main><h1>{title}</h1><p>{message}</p><p><a href="/">Forsiden</a></p>
<p>Fejlkode {code}</p></main></body></html>"""


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return error_page(
            400,
            _("Formularen er udløbet"),
            _("Af sikkerhedshensyn skal formularen sendes fra en frisk side. "
              "Genindlæs siden, og send formularen igen."),
            csrf_expired=True,
        )

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        # The dispatcher has rolled back a view's work already; this also covers errors
        # raised before the view (a blueprint's before_request), outside the dispatcher.
        db.session.rollback()
        return error_page(exc.status_code, message=exc.message)

    @app.errorhandler(DataError)
    def bad_value(exc: DataError):
        """A value the database refuses (out of range, a NUL byte): the sender's mistake."""
        db.session.rollback()
        app.logger.warning("value refused by the database on %s: %s", request.path, exc.orig)
        return error_page(400)

    @app.errorhandler(OperationalError)
    def database_down(exc: OperationalError):
        db.session.rollback()
        app.logger.error("database unavailable: %s", exc)
        response = app.make_response(error_page(503))
        response.headers["Retry-After"] = "5"
        return response

    def redis_down(exc: Exception):
        app.logger.error("Redis unavailable: %s", exc)
        page, code = error_page(503, message=_(
            "Vi kan ikke nå en af vores tjenester lige nu. Prøv igen om et øjeblik."))
        response = app.make_response((page, code))
        response.headers["Retry-After"] = "5"
        return response

    import redis.exceptions
    from limits.errors import StorageError

    for error in (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                  StorageError):
        app.register_error_handler(error, redis_down)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = exc.code or 500
        if code in (400, 403, 404, 405, 413, 429, 503):
            return error_page(code)
        if code < 500:
            return error_page(code, exc.name, exc.description)
        return error_page(500)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_page(500)


# Template helpers ----------------------------------------------------------------------

def lang_url(lang: str) -> str:
    """The current page in another language."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [lang]
    if request.endpoint and request.url_rule is not None and request.method == "GET":
        return url_for(request.endpoint, **(request.view_args or {}), **args)
    return url_for("events.index", lang=lang)


def works_on_events() -> bool:
    """Whether the signed-in user is an admin or holds a role on some event (per request)."""
    from flask import g
    from flask_login import current_user

    if "works_on_events" not in g:
        from eventhub.events.models import EventRole

        g.works_on_events = bool(current_user.is_authenticated and (
            current_user.is_admin or db.session.scalar(
                select(EventRole.id).where(EventRole.user_id == current_user.id).limit(1))))
    return g.works_on_events


def decimal(value, places: int = 1) -> str:
    """A number as the reader writes it (Danish 2,5; English 2.5), with ``places``
    decimals; empty for None."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0." + "0" * places) if places else \
        format_decimal(value, format="#,##0")


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["localdt"] = localdt
    app.jinja_env.filters["localday"] = localday
    app.jinja_env.filters["decimal"] = decimal
    app.jinja_env.globals["lang_url"] = lang_url
    app.jinja_env.globals["works_on_events"] = works_on_events
    from eventhub.images import img_tag

    app.jinja_env.globals["picture"] = img_tag

    @app.context_processor
    def inject() -> dict:
        return {"current_lang": str(get_locale() or "da")}
