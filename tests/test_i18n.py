"""Danish by default, English on request, remembered; Danish error pages."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from eventhub.events.models import DRAFT
from tests.support.factories import make_event

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "eventhub" / "translations" / "en" / "LC_MESSAGES"


def html_lang(page: str) -> str:
    return re.search(r'<html lang="(\w+)"', page).group(1)


def test_danish_by_default(client, app):
    make_event(app, "demo")
    page = client.get("/").get_data(as_text=True)
    assert html_lang(page) == "da"
    assert "Arrangementer" in page
    assert 'hreflang="en"' in page  # the language link


def test_lang_parameter_switches_and_is_remembered(client, app):
    make_event(app, "demo")
    page = client.get("/e/demo?lang=en").get_data(as_text=True)
    assert html_lang(page) == "en"
    assert "Sign in" in page and "Log ind" not in page
    later = client.get("/login").get_data(as_text=True)
    assert html_lang(later) == "en"
    back = client.get("/login?lang=da").get_data(as_text=True)
    assert html_lang(back) == "da"
    assert html_lang(client.get("/").get_data(as_text=True)) == "da"


def test_language_link_keeps_the_page(client, app):
    make_event(app, "demo")
    page = client.get("/e/demo").get_data(as_text=True)
    assert 'href="/e/demo?lang=en"' in page


def test_unknown_language_is_ignored(client):
    assert html_lang(client.get("/?lang=xx").get_data(as_text=True)) == "da"


@pytest.mark.parametrize("code,method,path,text", [
    (404, "get", "/e/findes-ikke", "Siden findes ikke"),
    (404, "get", "/ingen/side", "Gå til forsiden"),
    (405, "put", "/login", "Det kan man ikke her"),
    (403, "get", "/admin/mail", None),  # anonymous → login redirect, see below
])
def test_danish_error_pages(client, code, method, path, text):
    response = getattr(client, method)(path)
    if text is None:
        assert response.status_code == 302 and "/login" in response.headers["Location"]
        return
    assert response.status_code == code
    page = response.get_data(as_text=True)
    assert text in page
    assert html_lang(page) == "da"


def test_403_page_tells_what_to_do(client, app):
    from tests.support.client import login
    from tests.support.factories import make_user

    make_user(app, "p@example.com", password="langt-password-1")
    login(client, "p@example.com", "langt-password-1")
    response = client.get("/admin/mail")
    assert response.status_code == 403
    assert "bed arrangøren om adgang" in response.get_data(as_text=True)


def test_500_page_is_danish_and_reassuring(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("kaput")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Der skete en fejl hos os" in page
    assert "kaput" not in page and "Traceback" not in page


def test_draft_is_a_404_in_english_too(client, app):
    make_event(app, "hemmelig", status=DRAFT)
    response = client.get("/e/hemmelig?lang=en")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_english_catalog_translates_every_message(tmp_path):
    """Every translatable text in code and templates has an English translation,
    and the compiled .mo matches the .po."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F",
         str(ROOT / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), str(ROOT)],
        check=True, capture_output=True, cwd=ROOT,
    )
    with open(pot, "rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with open(CATALOG / "messages.po", "rb") as f:
        po = read_po(f)
    def done(m) -> bool:
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        return bool(m.id) and all(strings) and not m.fuzzy

    translated = {m.id for m in po if done(m)}
    missing = sorted(str(m) for m in wanted - translated)
    assert not missing, f"untranslated: {missing[:10]}"
    with open(CATALOG / "messages.mo", "rb") as f:
        mo = read_mo(f)
    def key(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    compiled = {key(m.id): key(m.string) for m in mo if m.id}
    assert compiled == {key(m.id): key(m.string) for m in po if done(m)}


def test_accessibility_statement_is_linked_from_every_page(client, app):
    make_event(app, "demo")
    for path in ("/", "/e/demo", "/login", "/no-such-page"):
        assert 'href="/tilgaengelighed"' in client.get(path).get_data(as_text=True), path
    page = client.get("/tilgaengelighed").get_data(as_text=True)
    assert "Tilgængelighedserklæring" in page and "WCAG 2.1" in page
