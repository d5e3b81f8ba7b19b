"""Uploaded CSV files: a size limit, a type check, decoding as Excel saves them, and
reading the rows.

Every request body is capped by ``MAX_CONTENT_LENGTH`` (413 with a Danish page); an
import file is capped lower, must be named .csv/.txt, and must look like text: a
spreadsheet (XLSX/XLS), a PDF or any other binary file is refused with a clear message
instead of being parsed into garbage.

Every CSV import reads its rows through ``csv_rows``: no field may be longer than
``FIELD_MAX_CHARS``, the longest text any import stores (a session's description). A
longer one is a ``FieldTooLong`` naming its row and column, whatever its size: the csv
module's own limit (128 KiB a field, process-wide) is never reached by an accepted file
and never raised.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

from flask_babel import format_decimal
from flask_babel import gettext as _

from eventhub.errors import ValidationError

CSV_SUFFIXES = (".csv", ".txt")
# Signatures of files people pick by mistake: XLSX/ODS (zip), old Excel, PDF, images.
BINARY_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF", b"\x89PNG", b"\xff\xd8\xff",
                b"GIF8")
FIELD_MAX_CHARS = 10_000  # a session's description, the longest text an import stores


def decode_text(raw: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252 (old Excel)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def read_csv_upload(storage, max_bytes: int, field: str = "file") -> str:
    """The text of an uploaded CSV file, or a ValidationError saying what is wrong."""
    name = (getattr(storage, "filename", "") or "").lower()
    if not name.endswith(CSV_SUFFIXES):
        raise ValidationError(_("Vælg en CSV-fil (.csv). Gem regnearket som CSV, og prøv "
                                "igen."), field)
    raw = storage.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ValidationError(_("Filen er for stor (højst %(mb)d MB).",
                                mb=max(max_bytes // (1024 * 1024), 1)), field)
    if raw.startswith(BINARY_MAGIC):
        raise ValidationError(_("Filen er ikke en CSV-fil. Gem regnearket som CSV, og prøv "
                                "igen."), field)
    text = decode_text(raw)
    if "\x00" in text:
        raise ValidationError(_("Filen er ikke en CSV-fil. Gem regnearket som CSV, og prøv "
                                "igen."), field)
    return text


class CsvError(ValidationError):
    """The CSV text cannot be read as a whole: the import refuses the file."""


class FieldTooLong(CsvError):
    """A CSV field longer than FIELD_MAX_CHARS."""

    def __init__(self, row: int, column: str | None) -> None:
        most = format_decimal(FIELD_MAX_CHARS)
        if column:
            message = _("Feltet \"%(column)s\" i række %(row)d er for langt (højst %(most)s "
                        "tegn). Ret filen, og prøv igen.", column=column, row=row, most=most)
        else:
            message = _("Et felt i række %(row)d er for langt (højst %(most)s tegn). Ret "
                        "filen, og prøv igen.", row=row, most=most)
        super().__init__(message)
        self.row, self.column = row, column


def csv_dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    """The dialect of the CSV text: the delimiter (; , or tab) its first line uses."""
    first = text.split("\n", 1)[0][:4096]  # the header; a huge first field is no header
    try:
        return csv.Sniffer().sniff(first, delimiters=";,\t")
    except csv.Error:
        return csv.excel


def csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) for every record of the text, the header being row 1.

    Raises FieldTooLong for the first field longer than FIELD_MAX_CHARS, naming its row
    and (from the header, or by counting delimiters) its column; CsvError for a row the
    csv module cannot read.
    """
    # Line breaks as Windows (CR LF) and old Excel for Mac (CR) write them become LF: the
    # csv module refuses a lone CR outside quotes.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    dialect = csv_dialect(text)
    reader = csv.reader(io.StringIO(text), dialect)
    header: list[str] = []
    row_no, start_line = 0, 0
    while True:
        row_no += 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field limit" not in str(exc):
                raise CsvError(_("Række %(row)d kan ikke læses som CSV. Gem regnearket som "
                                 "CSV, og prøv igen.", row=row_no)) from None
            # A field past the parser's own limit, far beyond ours: find its column.
            column = _long_column(text, _line_offset(text, start_line), dialect)
            raise FieldTooLong(row_no, _column_name(header, column)) from None
        start_line = reader.line_num
        if row_no == 1:
            header = [cell.strip() for cell in row]
        for i, cell in enumerate(row):
            if len(cell) > FIELD_MAX_CHARS:
                raise FieldTooLong(row_no, _column_name(header, i))
        yield row_no, row


def _column_name(header: list[str], index: int | None) -> str | None:
    if index is None or index >= len(header) or len(header[index]) > 60:
        return None
    return header[index] or None


def _line_offset(text: str, line: int) -> int:
    """Where the physical line (0-based, as StringIO splits them: at \\n) starts."""
    offset = 0
    for _i in range(line):
        offset = text.index("\n", offset) + 1
    return offset


def _long_column(text: str, start: int, dialect) -> int | None:
    """The index of the first field longer than FIELD_MAX_CHARS in the record that starts
    at ``start``, by counting delimiters outside quotes; None if the scan is unsure."""
    delimiter, quote = dialect.delimiter, dialect.quotechar or '"'
    column, length, quoted, i = 0, 0, False, start
    while i < len(text):
        char = text[i]
        if quoted and char == quote and text[i + 1:i + 2] == quote:
            i += 1  # a doubled quote inside quotes is one character of the field
        elif char == quote and (quoted or length == 0):
            quoted = not quoted
            i += 1
            continue
        elif not quoted and char == delimiter:
            column, length = column + 1, 0
            i += 1
            continue
        elif not quoted and char in "\r\n":
            return None
        length += 1
        if length > FIELD_MAX_CHARS:
            return column
        i += 1
    return None
