"""Dates at the edges of the calendar and CSV fields past every size limit, one by one:
each gets a clear Danish (or English) message, the typed values stay, nothing is saved
half-way. tests/test_fuzz.py throws the same kinds of input at every form and import."""

from __future__ import annotations

import html
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from eventhub.errors import ValidationError
from eventhub.events.models import Event
from eventhub.extensions import db
from eventhub.programme.models import Session
from eventhub.registration.models import Registration
from eventhub.timeutil import from_local, to_local
from tests.support.client import login
from tests.support.factories import get_event, make_event, make_user

RANGE = "Datoen skal ligge mellem år 2000 og 2100."


@pytest.fixture
def organizer(app, client):
    user = make_user(app, "arr@example.com", password="korrekt-hest-batteri")
    make_event(app, "dag", organizer_id=user)
    login(client, "arr@example.com")
    return client


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# The conversion to UTC ------------------------------------------------------------------

def test_from_local_refuses_years_outside_the_range_instead_of_overflowing(app):
    with app.test_request_context():
        for typed in (datetime(1, 1, 1, 0, 0), datetime(1999, 12, 31, 23, 59),
                      datetime(2101, 1, 1), datetime(9999, 12, 31, 23, 59)):
            with pytest.raises(ValidationError) as refused:
                from_local(typed)
            assert refused.value.message == RANGE


def test_utc_conversion_at_both_ends_of_the_range_and_around_daylight_saving(app):
    first = from_local(datetime(2000, 1, 1, 0, 0))
    last = from_local(datetime(2100, 12, 31, 23, 59))
    assert first == datetime(1999, 12, 31, 23, 0, tzinfo=UTC)
    assert last == datetime(2100, 12, 31, 22, 59, tzinfo=UTC)
    assert to_local(first).replace(tzinfo=None) == datetime(2000, 1, 1, 0, 0)
    assert to_local(last).replace(tzinfo=None) == datetime(2100, 12, 31, 23, 59)
    # 02:30 on 29 March 2026 does not exist in Copenhagen: read with the winter offset.
    assert from_local(datetime(2026, 3, 29, 2, 30)) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # 02:30 on 25 October 2026 happens twice: the first time (summer time) is meant.
    assert from_local(datetime(2026, 10, 25, 2, 30)) == datetime(2026, 10, 25, 0, 30,
                                                                 tzinfo=UTC)


# Forms ------------------------------------------------------------------------------------

EVENT_FORM = {"title": "Dag", "slug": "dag", "status": "published",
              "starts_at": "2027-03-10T09:00", "ends_at": "2027-03-10T16:00"}


@pytest.mark.parametrize("typed", ["0001-01-01T00:00", "9999-12-31T23:59",
                                   "1999-12-31T23:59", "2101-01-01T00:00"])
def test_an_event_date_outside_the_years_is_a_danish_message_with_the_value_kept(
        app, organizer, typed):
    before = get_event(app, "dag")
    page = organizer.post("/manage/e/dag/edit", data={**EVENT_FORM, "starts_at": typed})
    assert page.status_code == 422
    assert RANGE in text_of(page)
    assert f'value="{typed}"' in text_of(page)
    assert get_event(app, "dag").starts_at == before.starts_at


def test_an_out_of_range_date_is_explained_in_english_too(app, organizer):
    organizer.get("/?lang=en")
    page = organizer.post("/manage/e/dag/edit", data={**EVENT_FORM,
                                                      "ends_at": "0001-01-01T00:00"})
    assert page.status_code == 422
    assert "The date must lie between the years 2000 and 2100." in text_of(page)


def test_the_first_and_last_minutes_of_the_range_are_stored_and_shown(app, organizer):
    response = organizer.post("/manage/e/dag/edit", data={
        **EVENT_FORM, "starts_at": "2000-01-01T00:00", "ends_at": "2100-12-31T23:59",
        "retention_until": "2100-12-31"})
    assert response.status_code == 302
    event = get_event(app, "dag")
    assert event.starts_at == datetime(1999, 12, 31, 23, 0, tzinfo=UTC)
    assert event.ends_at == datetime(2100, 12, 31, 22, 59, tzinfo=UTC)
    page = text_of(organizer.get("/e/dag"))
    assert "1. januar 2000" in page and "31. december 2100" in page
    assert organizer.get("/manage/e/dag/edit").status_code == 200


def test_a_day_field_outside_the_years_is_a_danish_message(app, organizer):
    page = organizer.post("/manage/e/dag/edit", data={**EVENT_FORM,
                                                      "retention_until": "0001-01-01"})
    assert page.status_code == 422
    assert RANGE in text_of(page) and 'value="0001-01-01"' in text_of(page)


def test_a_session_in_year_1_is_a_danish_message(app, organizer):
    page = organizer.post("/manage/e/dag/programme/sessions/new", data={
        "title": "Oplæg", "kind": "talk", "starts_at": "0001-01-01T00:00",
        "ends_at": "0001-01-01T01:00", "room_id": "", "track_id": ""})
    assert page.status_code in (200, 422)
    assert RANGE in text_of(page)
    assert count(app, Session) == 0


# Imports ----------------------------------------------------------------------------------

def test_programme_import_names_the_rows_with_dates_outside_the_years(app, organizer):
    csv = ("titel;start;slut\n"
           "Åbning;0001-01-01 00:00;0001-01-01 01:00\n"
           "Afslutning;2027-03-10 15:00;9999-12-31 23:59\n"
           "Frokost;2027-03-10 12:00;2027-03-10 13:00\n")
    page = organizer.post("/manage/e/dag/programme/import", data={"csv_text": csv})
    assert page.status_code == 200
    text = text_of(page)
    assert f'ugyldigt tidspunkt "0001-01-01 00:00": {RANGE}' in text
    assert f'ugyldigt tidspunkt "9999-12-31 23:59": {RANGE}' in text
    assert "1 række er klar til import. 2 rækker har fejl" in text


def test_registration_import_refuses_a_field_over_128_kib_by_row_and_column(app, organizer):
    csv = ("navn;e-mail;stilling\n"
           "Anna Andersen;anna@example.com;Sygeplejerske\n"
           f"Bo Bertelsen;bo@example.com;{'x' * 200_000}\n"
           "Carl Carlsen;carl@example.com;Terapeut\n")
    message = ('Feltet "stilling" i række 3 er for langt (højst 10.000 tegn). Ret filen, '
               "og prøv igen.")
    page = organizer.post("/manage/e/dag/registrations/import", data={"csv_text": csv})
    assert page.status_code == 200 and message in text_of(page)
    uploaded = organizer.post("/manage/e/dag/registrations/import", data={
        "file": (io.BytesIO(csv.encode()), "deltagere.csv")})
    assert uploaded.status_code == 200 and message in text_of(uploaded)
    confirmed = organizer.post("/manage/e/dag/registrations/import",
                               data={"csv_text": csv, "confirm": "1"})
    assert confirmed.status_code == 200 and message in text_of(confirmed)
    assert count(app, Registration) == 0  # not even the good rows: the file is refused


def test_a_long_quoted_field_with_line_breaks_is_named_by_its_header(app, organizer):
    long = "Linje\n" * 2_000  # 12,000 characters: readable, but longer than any column
    csv = f'navn,e-mail,stilling\nAnna,anna@example.com,"{long}"\n'
    page = organizer.post("/manage/e/dag/registrations/import", data={"csv_text": csv})
    assert 'Feltet "stilling" i række 2 er for langt (højst 10.000 tegn)' in text_of(page)


def test_programme_import_refuses_an_oversized_description(app, organizer):
    csv = ("titel;start;slut;beskrivelse\n"
           f"Oplæg;2027-03-10 10:00;2027-03-10 11:00;\"{'ø' * 150_000}\"\n")
    page = organizer.post("/manage/e/dag/programme/import", data={"csv_text": csv,
                                                                   "confirm": "1"})
    assert page.status_code == 200
    assert 'Feltet "beskrivelse" i række 2 er for langt (højst 10.000 tegn)' in text_of(page)
    assert count(app, Session) == 0


def test_csv_with_old_mac_line_breaks_is_read(app, organizer):
    csv = "navn;e-mail\rAnna Andersen;anna@example.com\rBo Bertelsen;bo@example.com\r"
    page = organizer.post("/manage/e/dag/registrations/import", data={"csv_text": csv})
    assert page.status_code == 200
    assert "2 rækker er klar til import" in text_of(page)


def test_event_stays_as_it_was_after_refused_imports(app, organizer):
    organizer.post("/manage/e/dag/programme/import", data={
        "csv_text": "titel;start;slut\nÅbning;0001-01-01 00:00;0001-01-01 01:00\n",
        "confirm": "1"})
    assert count(app, Session) == 0
    with app.app_context():
        assert db.session.scalar(select(Event.slug)) == "dag"
