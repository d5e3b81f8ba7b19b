"""Imported files: size limits and type checks on the registration and programme CSV
imports, and the request-size cap on every form."""

import codecs
import io

import pytest

from tests.support.client import login
from tests.support.factories import PASSWORD, make_event, make_user

IMPORTS = ["/manage/e/dag/registrations/import", "/manage/e/dag/programme/import"]
GOOD = {
    IMPORTS[0]: "navn;e-mail;organisation\nÅse Øster;aase@example.com;Vejle Kommune\n",
    IMPORTS[1]: "titel;start;slut\nVelkommen;2027-03-10 09:00;2027-03-10 09:30\n",
}


@pytest.fixture
def organizer(app, client):
    user_id = make_user(app, "org@example.com", password=PASSWORD)
    make_event(app, "dag", organizer_id=user_id)
    login(client, "org@example.com")
    return client


def upload(client, url, data: bytes, name: str = "liste.csv"):
    return client.post(url, data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


ENCODINGS = {
    "utf-8": lambda t: t.encode("utf-8"),
    "utf-8-bom": lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
    "cp1252": lambda t: t.encode("cp1252"),
    "utf-16": lambda t: t.encode("utf-16"),  # Excel's "Unicode text"
}
NOT_CSV = {
    "xlsx": (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 200, "liste.xlsx"),
    "xlsx-renamed": (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 200, "liste.csv"),
    "xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 200, "liste.csv"),
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "liste.csv"),
    "nul-bytes": (b"navn;email\n\x00\x01\x02binary", "liste.csv"),
    "wrong-suffix": (b"navn;email\nA;a@example.com\n", "liste.exe"),
}


@pytest.mark.parametrize("url", IMPORTS)
def test_csv_files_in_the_encodings_excel_writes_are_read(organizer, url):
    for name, encode in ENCODINGS.items():
        page = upload(organizer, url, encode(GOOD[url])).get_data(as_text=True)
        assert "1 række er klar til import" in page, name


@pytest.mark.parametrize("url", IMPORTS)
def test_other_files_are_refused_with_a_reason(organizer, url):
    for case, (data, name) in NOT_CSV.items():
        response = upload(organizer, url, data, name)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, case
        assert "CSV-fil" in page and "klar til import" not in page, case


@pytest.mark.parametrize("url,limit_mb", [(IMPORTS[0], 2), (IMPORTS[1], 1)])
def test_import_files_have_a_size_limit(organizer, url, limit_mb):
    big = GOOD[url].encode() + b"x" * (limit_mb * 1024 * 1024)
    page = upload(organizer, url, big).get_data(as_text=True)
    assert f"Filen er for stor (højst {limit_mb} MB)." in page
    assert "klar til import" not in page


def test_every_request_body_is_capped(organizer, app):
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    response = upload(organizer, IMPORTS[0], b"x" * (65 * 1024))
    assert response.status_code == 413
    assert "Filen er for stor" in response.get_data(as_text=True)


def test_pasted_text_is_capped_too(organizer):
    response = organizer.post(IMPORTS[1], data={"csv_text": "x" * 1_000_001})
    assert "Højst 1000000 tegn." in response.get_data(as_text=True)
