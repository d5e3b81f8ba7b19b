"""Reading what people see: the visible text of pages and exports, the internal codes of
the models (statuses, kinds, stages …), and a crawler that opens every kind of page a
signed-in person can reach by following links.

Used by tests/test_plain_words.py, which fails when a code or an ISO timestamp shows.
"""

from __future__ import annotations

import csv
import importlib
import io
import re
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from flask_babel.speaklater import LazyString

# The modules whose constants name internal codes.
CODE_MODULES = (
    "eventhub.events.models", "eventhub.registration.models", "eventhub.programme.models",
    "eventhub.polls.models", "eventhub.directory.models", "eventhub.followup.models",
    "eventhub.followup.mailing", "eventhub.community.models",
)
# Tables whose keys are meant for people (the mail placeholders such as {navn}) or are
# ordinary words (the language codes).
NOT_CODES = {"PLACEHOLDERS", "LANGUAGES"}  # language codes are "da"/"en": words too
CODE_RE = re.compile(r"^[a-z][a-z_]*$")

# A timestamp as the machine writes it, or a date in ISO order where people read.
ISO_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|[+-]00:00\b")
ISO_DATE = re.compile(r"(?<![\d/-])\d{4}-\d{2}(?:-\d{2})?(?![\d/-])")


def internal_codes() -> set[str]:
    """Every code the models define: keys of label tables (dicts whose values are lazy
    translations) and members of tuples of lowercase identifiers."""
    from eventhub import mail

    codes: set[str] = {mail.QUEUED, mail.SENT, mail.FAILED, mail.SKIPPED}
    for name in CODE_MODULES:
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if attr in NOT_CODES:
                continue
            if isinstance(value, dict) and value and all(
                    isinstance(k, str) and isinstance(v, LazyString) for k, v in value.items()):
                codes.update(value)
            elif isinstance(value, tuple) and value and all(
                    isinstance(v, str) and CODE_RE.match(v) for v in value):
                codes.update(value)
    return codes


class _Text(HTMLParser):
    """The text a person sees (or a screen reader reads): no tags, no attributes, nothing
    of <script> or <style>."""

    SKIP = {"script", "style", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.links: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skipping += 1
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)

    def handle_endtag(self, tag):
        if tag in self.SKIP and self._skipping:
            self._skipping -= 1

    def handle_data(self, data):
        if not self._skipping and data.strip():
            self.chunks.append(" ".join(data.split()))


def visible_text(html: str) -> tuple[list[str], list[str]]:
    """(text chunks, link targets) of a page."""
    parser = _Text()
    parser.feed(html)
    return parser.chunks, parser.links


@dataclass
class Finding:
    where: str
    what: str
    text: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what} in {self.text[:160]!r}"


# What is not prose: addresses, links, mail placeholders and random tokens (ticket and
# link codes in exports).
NOT_PROSE = re.compile(r"\S+@\S+|https?://\S+|/\S*|\{[^{}\s]+\}|[A-Za-z0-9_-]{20,}")


def raw_codes_in(chunks: list[str], codes: set[str], words: set[str],
                 user_words: set[str] = frozenset()) -> list[tuple[str, str]]:
    """(code, chunk) for a code shown as a whole word, case-sensitively, unless it is an
    ordinary word of the page's language (``words``); a chunk that is nothing but a code
    is a finding unless it is something a person typed (``user_words``)."""
    found = []
    for chunk in chunks:
        alone = chunk.strip(" ()·:,.")
        if alone in codes and alone not in user_words:
            found.append((alone, chunk))
            continue
        for token in re.findall(r"[^\W\d]+", NOT_PROSE.sub(" ", chunk)):
            if token in codes and (token not in words or "_" in token):
                found.append((token, chunk))
    return found


def iso_in(chunks: list[str], *, dates_too: bool = True) -> list[tuple[str, str]]:
    found = []
    for chunk in chunks:
        for pattern in (ISO_TIMESTAMP, ISO_DATE) if dates_too else (ISO_TIMESTAMP,):
            match = pattern.search(chunk)
            if match:
                found.append((match.group(0), chunk))
    return found


# Exports ------------------------------------------------------------------------------


def csv_cells(body: bytes) -> list[str]:
    text = body.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text), delimiter=";") for cell in row if cell]


def xlsx_cells(body: bytes) -> list[str]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(body), read_only=True)
    cells = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            cells += [str(v) for v in row if v is not None and not hasattr(v, "isoformat")]
    return cells


def pdf_lines(body: bytes) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.pdf"
        path.write_bytes(body)
        out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                             check=True, text=True).stdout
    return [" ".join(line.split()) for line in out.splitlines() if line.strip()]


# The crawler ------------------------------------------------------------------------


# Links not followed: signing out or in again, a fresh sign-in link, the language switch
# (each crawl runs in one language), another site, files for machines (JSON, calendars),
# and the API's reference for programmers (it names the API's values on purpose).
SKIP_LINK = re.compile(
    r"^(mailto:|tel:|https?://(?!localhost)|webcal:|#)|/logout|/login|[?&]lang=|"
    r"\.(ics|json)(\?|$)|/static/|/u/|/metrics|/healthz|/readyz|/api/v1/"
    # Open data is for machines: stable codes and ISO times are its documented schema.
    r"|/community/open-data/.+")
ID_RE = re.compile(r"(?<=/)(\d+|[A-Za-z0-9_-]{20,})(?=/|$|\.|\?)")


def pattern_of(path: str) -> str:
    """The page kind of a path: numbers and tokens replaced, query keys kept."""
    split = urlsplit(path)
    keys = sorted({part.split("=")[0] for part in split.query.split("&") if part})
    return ID_RE.sub("{}", split.path) + ("?" + "&".join(keys) if keys else "")


@dataclass
class Crawl:
    pages: dict[str, str] = field(default_factory=dict)  # path → HTML
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # path → (type, body)
    failures: list[str] = field(default_factory=list)  # path: status


def crawl(client, starts: list[str], per_pattern: int = 2, limit: int = 400) -> Crawl:
    """Open the start pages and every same-site link from them, at most ``per_pattern``
    pages of one kind; 5xx answers are recorded as failures."""
    result = Crawl()
    queue = list(starts)
    seen: set[str] = set()
    kinds: dict[str, int] = {}
    while queue and len(seen) < limit:
        path = queue.pop(0)
        kind = pattern_of(path)
        if path in seen or kinds.get(kind, 0) >= per_pattern:
            continue
        seen.add(path)
        kinds[kind] = kinds.get(kind, 0) + 1
        response = client.get(path)
        if response.status_code >= 500:
            result.failures.append(f"{path}: {response.status_code}")
            continue
        if response.status_code != 200:
            continue
        mimetype = response.mimetype or ""
        if mimetype == "text/html":
            html = response.get_data(as_text=True)
            result.pages[path] = html
            _chunks, links = visible_text(html)
            for link in _follow(path, links):
                if link not in seen:
                    queue.append(link)
        else:
            result.files[path] = (mimetype, response.get_data())
    return result


def _follow(base: str, links: list[str]) -> Iterator[str]:
    for link in links:
        if SKIP_LINK.search(link):
            continue
        absolute = urljoin("http://localhost" + base, link)
        split = urlsplit(absolute)
        if split.netloc != "localhost":
            continue
        yield split.path + ("?" + split.query if split.query else "")
