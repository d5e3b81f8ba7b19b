"""Uploaded CSV files: a size limit, a type check, and decoding as Excel saves them.

Every request body is capped by ``MAX_CONTENT_LENGTH`` (413 with a Danish page); an
import file is capped lower, must be named .csv/.txt, and must look like text: a
spreadsheet (XLSX/XLS), a PDF or any other binary file is refused with a clear message
instead of being parsed into garbage.
"""

from __future__ import annotations

import codecs

from flask_babel import gettext as _

from eventhub.errors import ValidationError

CSV_SUFFIXES = (".csv", ".txt")
# Signatures of files people pick by mistake: XLSX/ODS (zip), old Excel, PDF, images.
BINARY_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF", b"\x89PNG", b"\xff\xd8\xff",
                b"GIF8")


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
