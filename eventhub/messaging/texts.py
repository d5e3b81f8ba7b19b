"""The texts of an event's mails: a default in Danish and English for each, which an
organizer may override per event. Every text is rendered in Jinja's sandboxed
environment with plain strings as its only values, so an organizer's text cannot
reach the app's objects; the HTML part is made from the escaped text, so it cannot put
markup into anything either."""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jinja2 import TemplateError, TemplateSyntaxError, meta
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select

from eventhub import audit
from eventhub.errors import ValidationError
from eventhub.events.models import ORGANIZER, Event
from eventhub.events.services import require_role
from eventhub.extensions import db
from eventhub.mail import batch_cache
from eventhub.messaging.defaults import DEFAULTS
from eventhub.messaging.models import MailRule, MailText

COMMON = {
    "navn": _l("deltagerens navn"),
    "organisation": _l("deltagerens organisation"),
    "arrangement": _l("arrangementets titel"),
    "dato": _l("dato og tid for arrangementet"),
    "sted": _l("adressen"),
    "vejviser": _l("sådan finder man frem"),
    "kontakt": _l("kontaktpersonens navn"),
    "personligt_link": _l("deltagerens personlige link"),
    "program": _l("link til programmet"),
}
EXTRA = {
    "receipt": {"billet": _l("link til billetten")},
    "waitlist": {"plads": _l("nummer på ventelisten")},
    "promotion": {"billet": _l("link til billetten")},
    "reminder": {"billet": _l("link til billetten"), "min_dag": _l("deltagerens program")},
    "morning": {"billet": _l("link til billetten"), "min_dag": _l("deltagerens program")},
    "change": {"aendringer": _l("hvad der er ændret")},
    "thanks": {"evaluering": _l("link til evalueringen (tom, hvis der ingen er)"),
               "bevis": _l("link til deltagerbeviset (tomt, hvis ikke checket ind)")},
    "certificate": {"sessioner": _l("de programpunkter, deltageren var med i")},
    "message": {"emne": _l("beskedens emne"), "besked": _l("arrangørens besked")},
    "followup": {"emne": _l("mailens emne"), "besked": _l("opfølgningsmailens tekst")},
}
KEY_LABELS = {
    "receipt": _l("Kvittering for tilmelding"),
    "waitlist": _l("På venteliste"),
    "promotion": _l("Fået en plads fra ventelisten"),
    "reminder": _l("Påmindelse før arrangementet"),
    "morning": _l("Mail om morgenen på dagen"),
    "change": _l("Besked om ændringer"),
    "thanks": _l("Tak efter arrangementet"),
    "certificate": _l("Deltagerbevis (teksten på beviset)"),
    "message": _l("Besked til deltagere (rammen om beskeden)"),
    "followup": _l("Opfølgningsmail (rammen om mailen)"),
}
KEYS = tuple(KEY_LABELS)
MAX_SUBJECT, MAX_BODY = 200, 10000
_URL = re.compile(r"(https?://[^\s<>\"]+)")


def placeholders(key: str) -> dict[str, object]:
    """The placeholders a text of ``key`` may use, with what each becomes."""
    return {**COMMON, **EXTRA.get(key, {})}


_ENV = SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


@lru_cache(maxsize=1024)
def _compiled(source: str):
    """Compiled once per distinct text: the next thousand mails reuse it."""
    return _ENV.from_string(source)


def check(key: str, subject: str, body: str) -> tuple[str, str]:
    """The cleaned subject and text, or a ValidationError naming the problem."""
    if key not in KEY_LABELS:
        raise ValidationError(_("Vælg en af mulighederne på listen."), "key")
    subject, body = " ".join((subject or "").split()), (body or "").strip()
    if not subject:
        raise ValidationError(_("Skriv et emne."), "subject")
    if not body:
        raise ValidationError(_("Skriv selve teksten."), "body")
    if len(subject) > MAX_SUBJECT:
        raise ValidationError(_("Højst %(max)d tegn.", max=MAX_SUBJECT), "subject")
    if len(body) > MAX_BODY:
        raise ValidationError(_("Højst %(max)d tegn.", max=MAX_BODY), "body")
    known = placeholders(key)
    for field, text in (("subject", subject), ("body", body)):
        try:
            used = meta.find_undeclared_variables(_ENV.parse(text))
        except TemplateSyntaxError as exc:
            raise ValidationError(_("Teksten kan ikke læses i linje %(line)d: tjek at hver "
                                    "{{ har en }}.", line=exc.lineno or 1), field) from None
        unknown = sorted(used - set(known))
        if unknown:
            raise ValidationError(
                _("Ukendt felt: %(names)s. Brug kun %(known)s.",
                  names=", ".join("{{ " + u + " }}" for u in unknown),
                  known=", ".join("{{ " + k + " }}" for k in known)), field)
        try:  # a trial with every field filled in: what the sandbox refuses is refused here
            _compiled(text).render({name: "x" for name in known})
        except (SecurityError, TemplateError, TypeError, ValueError, ArithmeticError):
            raise ValidationError(_("Teksten bruger noget, der ikke er tilladt. Skriv felterne "
                                    "som {{ navn }}, uden punktum eller parenteser."),
                                  field) from None
    return subject, body


def own_text(event_id: int, key: str, locale: str) -> MailText | None:
    return db.session.scalar(select(MailText).where(
        MailText.event_id == event_id, MailText.key == key, MailText.locale == locale))


def text_of(event: Event | None, key: str, locale: str) -> tuple[str, str]:
    """(subject, body) for ``key``: the event's own text, else the default (looked up
    once per batch of mails)."""
    cache = batch_cache()
    found = cache.get(("text", getattr(event, "id", None), key, locale))
    if found is None:
        own = own_text(event.id, key, locale) if event is not None else None
        found = (own.subject, own.body) if own is not None else \
            (DEFAULTS[key].get(locale) or DEFAULTS[key]["da"])
        cache[("text", getattr(event, "id", None), key, locale)] = found
    return found


def as_html(text: str) -> str:
    """The text as HTML: escaped, links clickable, paragraphs kept."""
    out = []
    for para in text.strip().split("\n\n"):
        safe = _URL.sub(r'<a href="\1">\1</a>', escape(para)).replace("\n", "<br>\n")
        out.append(f"<p>{safe}</p>")
    return ('<!doctype html>\n<html><body style="font-family:sans-serif;line-height:1.4">\n'
            + "\n".join(out) + "\n</body></html>\n")


def render(subject: str, body: str, values: dict[str, str], footer: str = ""
           ) -> tuple[str, str, str]:
    """(subject, text, html) with ``values`` put in; only strings reach the sandbox. The
    footer (one person's unsubscribe link) is added after, so the compiled text is
    shared by everyone."""
    plain = {k: "" if v is None else str(v) for k, v in values.items()}
    done_subject = " ".join(_compiled(subject).render(plain).split())
    text = _compiled(body).render(plain).strip() + "\n"
    if footer:
        text += "\n" + footer.strip() + "\n"
    return done_subject, text, as_html(text)


def render_key(event: Event | None, key: str, locale: str, values: dict[str, str],
               footer: str = "") -> tuple[str, str, str]:
    """Render the event's text of ``key`` (or the default) with a fixed footer."""
    subject, body = text_of(event, key, locale)
    return render(subject, body, values, footer)


def save(actor, event: Event, key: str, locale: str, subject: str, body: str) -> MailText:
    """Keep an organizer's own text (checked first: nothing half-saved)."""
    require_role(actor, event, ORGANIZER)
    if locale not in ("da", "en"):
        raise ValidationError(_("Vælg et sprog på listen."), "locale")
    subject, body = check(key, subject, body)
    row = own_text(event.id, key, locale)
    if row is None:
        row = MailText(event_id=event.id, key=key, locale=locale)
        db.session.add(row)
    row.subject, row.body = subject, body
    db.session.flush()
    audit.record(actor, event, "messaging.text", f"{key} {locale}")
    return row


def reset(actor, event: Event, key: str, locale: str) -> None:
    """Back to the default text."""
    require_role(actor, event, ORGANIZER)
    row = own_text(event.id, key, locale)
    if row is not None:
        db.session.delete(row)
        db.session.flush()
        audit.record(actor, event, "messaging.text", f"{key} {locale}: reset")


def preview_values(key: str) -> dict[str, str]:
    """Example values, for a preview before there is a participant to show it to."""
    with force_locale("da"):
        return {name: f"[{label}]" for name, label in placeholders(key).items()}


def clone_texts(context) -> None:
    """A new edition keeps the organizers' own texts and the rules' settings."""
    for row in db.session.scalars(select(MailText).where(
            MailText.event_id == context.source.id)):
        db.session.add(MailText(event_id=context.target.id, key=row.key, locale=row.locale,
                                subject=row.subject, body=row.body))
    for rule in db.session.scalars(select(MailRule).where(
            MailRule.event_id == context.source.id)):
        db.session.add(MailRule(event_id=context.target.id, kind=rule.kind,
                                enabled=rule.enabled, days_before=rule.days_before))
