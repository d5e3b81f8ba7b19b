"""Printable documents for a registration: the ticket (one page with a big QR code)
and sheets of name badges for the organizers to print and cut.

Both are HTML templates (``templates/pdf/``) rendered with ``render_template`` in the
event's own language (``_()`` and ``|localdt`` follow it, not the language of whoever
prints) and turned into PDF by
WeasyPrint. Every QR code is an inline ``data:`` PNG: the ticket's encodes the stable
public ticket URL ``BASE_URL/t/<ticket code>`` (check-in scans it); a badge's encodes
the person's scan link ``BASE_URL/s/<scan token>`` (exhibitors scan it), never the
ticket. Nothing is fetched while rendering.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress

import qrcode
from flask import Flask, current_app, render_template
from flask_babel import force_locale
from PIL import Image, ImageOps
from qrcode import base, util
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from eventhub import contributions
from eventhub.documents import render_pdf
from eventhub.events.models import Event
from eventhub.extensions import db
from eventhub.registration.models import (
    BADGE_LABELS,
    BADGE_ROLES,
    CONFIRMED,
    PARTICIPANT,
    SPEAKER,
    STATUS_LABELS,
    Registration,
    new_scan_code,
    new_scan_token,
    shown_scan_code,
)

# A4 sheet: 2 columns × 4 rows of 90 × 55 mm badges (credit-card holders).
BADGE_COLUMNS, BADGE_ROWS = 2, 4
BADGES_PER_PAGE = BADGE_COLUMNS * BADGE_ROWS
# QR image pixels per module. The PDF shows the image scaled up without smoothing
# (`image-rendering: pixelated` → /Interpolate false), so a small image prints crisp.
# Each badge image costs WeasyPrint time in proportion to its pixels: 2 was measured
# faster than 4 (tests/perf/bench_badges.py --variants) and still looks sharp where
# a viewer smooths anyway; the ticket has one QR code, so it gets more pixels.
BADGE_QR_BOX = 2
TICKET_QR_BOX = 8


def ticket_link(ticket_code: str) -> str:
    """The absolute URL a ticket's QR code encodes (check-in scans it)."""
    return current_app.config["BASE_URL"].rstrip("/") + "/t/" + ticket_code


def scan_link(reg: Registration) -> str:
    """What a badge's QR code encodes: the person's scan token (/s/<token>), read by
    exhibitors' scanners. Never the ticket: whoever photographs a badge cannot open the
    ticket or check its holder in, and the check-in does not accept it."""
    if not reg.scan_token:
        reg.scan_token = new_scan_token()
    return current_app.config["BASE_URL"].rstrip("/") + "/s/" + reg.scan_token


def qr_data_uri(text: str, box_size: int = BADGE_QR_BOX) -> str:
    """A QR code of ``text`` as an inline PNG for an ``<img src>``."""
    png = print_qr_png(text, box_size=box_size)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def name_size(name: str) -> str:
    """A CSS class that shrinks long names (and long single words, such as double
    surnames) so the whole name fits next to the QR code, in three lines at most."""
    longest = max((len(word) for word in re.split(r"[\s-]+", name)), default=0)
    for size, (max_length, max_word) in enumerate(((16, 11), (28, 14), (42, 18)), 1):
        if len(name) <= max_length and longest <= max_word:
            return f"n{size}"
    return "n4"


def ticket_pdf(reg: Registration) -> bytes:
    """One A6 page: event, time and place, who, status, and the QR code to scan; in the
    event's language, whoever asks for it."""
    link = ticket_link(reg.ticket_code)
    with force_locale(reg.event.language or "da"):
        return render_pdf(_ticket_html(reg, link))


def _ticket_html(reg: Registration, link: str) -> str:
    return render_template(
        "pdf/ticket.html",
        reg=reg,
        event=reg.event,
        organization=reg.organization.name if reg.organization else "",
        status_label=STATUS_LABELS.get(reg.status, reg.status),
        valid=reg.status == CONFIRMED,
        qr_src=qr_data_uri(link, TICKET_QR_BOX),
    )


@dataclass(frozen=True)
class SpeakerBadge:
    """A speaker of the programme, for the badges: registered (their scan QR code on
    a TALER badge) or from outside (a TALER badge without a QR code)."""

    name: str
    job_title: str
    organization: str
    registration_id: int | None = None


SPEAKER_SOURCES = "registration.badge_speakers"


def add_speaker_source(app: Flask, fn: Callable[[Event], list[SpeakerBadge]]) -> None:
    """``fn(event)``: the event's speakers (the programme, above us, adds them)."""
    contributions.add(app, SPEAKER_SOURCES, fn)


def speakers_of(event: Event) -> list[SpeakerBadge]:
    return [s for fn in contributions.of(SPEAKER_SOURCES) for s in fn(event)]


def _badge(reg: Registration, with_qr: bool, speaker: SpeakerBadge | None = None) -> dict:
    role = SPEAKER if speaker else (reg.badge_role if reg.badge_role in BADGE_ROLES
                                    else PARTICIPANT)
    return {
        "name": reg.name,
        "size": name_size(reg.name),
        "job_title": (speaker.job_title if speaker and speaker.job_title else reg.job_title),
        "organization": reg.organization.name if reg.organization else "",
        "role": role,
        "qr_src": qr_data_uri(scan_link(reg)) if with_qr else None,
        "code": shown_scan_code(_scan_code(reg)) if with_qr else "",
    }


def _scan_code(reg: Registration) -> str:
    if not reg.scan_code:
        reg.scan_code = new_scan_code()
    return reg.scan_code


def _outside_badge(speaker: SpeakerBadge) -> dict:
    return {"name": speaker.name, "size": name_size(speaker.name),
            "job_title": speaker.job_title, "organization": speaker.organization,
            "role": SPEAKER, "qr_src": None, "code": ""}


def badges_pdf(event: Event, registrations: Iterable[Registration], *,
               with_qr: bool = True, speakers: Sequence[SpeakerBadge] = ()) -> bytes:
    """A4 sheets of name badges, eight to a page, in the order given (speakers from
    outside among them by name); in the event's language, whoever prints them."""
    by_registration = {s.registration_id: s for s in speakers if s.registration_id}
    badges = [_badge(reg, with_qr, by_registration.get(reg.id)) for reg in registrations]
    outside = [_outside_badge(s) for s in speakers if s.registration_id is None]
    if outside:
        badges = sorted(badges + outside, key=lambda b: b["name"].casefold())
    sheets = [badges[i:i + BADGES_PER_PAGE] for i in range(0, len(badges), BADGES_PER_PAGE)]
    with force_locale(event.language or "da"):
        html = render_template(
            "pdf/badges.html",
            event=event,
            sheets=sheets,
            with_qr=with_qr,
            role_labels={role: str(label) for role, label in BADGE_LABELS.items()},
        )
        return render_pdf(html)


def badge_registrations(event: Event, statuses: Sequence[str] = (CONFIRMED,)
                        ) -> list[Registration]:
    """The registrations to print badges for, by name, organizations loaded at once."""
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id, Registration.status.in_(statuses))
            .options(selectinload(Registration.organization))
            .order_by(func.lower(Registration.name), Registration.id)
        )
    )


# QR codes for print ------------------------------------------------------------------
#
# documents.qr_png (qrcode + Pillow) takes ~5 ms a code, mostly qrcode's pure-Python
# search for the best of the eight mask patterns: for 1000 badges that is more time
# than rendering the badges themselves. The encoder below makes the same standard QR
# codes (byte mode, error correction M, all eight masks scored with the four ISO 18004
# penalty rules; tests/test_badges.py compares it with qrcode) in ~0.15 ms: the module
# grid is one big integer (bit r*n + c), so masking and scoring are a few dozen
# whole-grid integer operations. qrcode still supplies the tables and draws the fixed
# patterns, once per version.

_EC_LEVEL = ERROR_CORRECT_M
_PIXELS = bytes.maketrans(b"01", b"\xff\x00")  # light → white, dark → black
_BITS = bytes.maketrans(b"01", b"\x00\x01")
_FINDER_LIKE = ("10111010000", "00001011101")  # 1:1:3:1:1 with four light modules


@dataclass(frozen=True)
class _Layout:
    """Everything about a QR version that does not depend on the data."""

    size: int
    data_bits: int  # data + error correction codewords × 8
    blocks: tuple[tuple[int, int], ...]  # (data codewords, ec codewords) per block
    weights: tuple[int, ...]  # 1 << (r*n + c) of the data modules, in placement order
    fixed: tuple[int, ...]  # dark function-pattern and format modules, per mask
    masks: tuple[int, ...]  # data modules each mask pattern flips
    # whole-grid bit masks for the penalty rules
    all: int
    h_pairs: int
    h_runs: int
    h_finder: int
    v_pairs: int
    v_runs: int
    v_finder: int


@lru_cache(maxsize=16)
def _layout(version: int) -> _Layout:
    n = version * 4 + 17
    qr = qrcode.QRCode(version=version, error_correction=_EC_LEVEL)
    qr.modules_count = n
    qr.modules = [[None] * n for _ in range(n)]
    for row, col in ((0, 0), (n - 7, 0), (0, n - 7)):
        qr.setup_position_probe_pattern(row, col)
    qr.setup_position_adjust_pattern()
    qr.setup_timing_pattern()
    qr.setup_type_info(True, 0)  # reserves the format areas
    if version >= 7:
        qr.setup_type_number(True)
    blank = [row[:] for row in qr.modules]

    order = []  # the zigzag of qrcode's map_data: two columns at a time, bottom right up
    upward = True
    for right in range(n - 1, 0, -2):
        if right <= 6:  # skip the vertical timing pattern
            right -= 1
        rows = range(n - 1, -1, -1) if upward else range(n)
        order += [(r, c) for r in rows for c in (right, right - 1) if blank[r][c] is None]
        upward = not upward

    fixed = []
    for mask in range(8):
        qr.modules = [row[:] for row in blank]
        qr.setup_type_info(False, mask)
        if version >= 7:
            qr.setup_type_number(False)
        fixed.append(sum(1 << (r * n + c) for r in range(n) for c in range(n)
                         if qr.modules[r][c]))
    masks = []
    for mask in range(8):
        flips = util.mask_func(mask)
        masks.append(sum(1 << (r * n + c) for r, c in order if flips(r, c)))

    def cols_upto(last: int) -> int:  # every row's columns 0..last
        row = (1 << (last + 1)) - 1
        return sum(row << (r * n) for r in range(n))

    def rows_upto(last: int) -> int:  # every column of rows 0..last
        return (1 << ((last + 1) * n)) - 1

    rs = base.rs_blocks(version, _EC_LEVEL)
    return _Layout(
        size=n,
        data_bits=sum(b.total_count for b in rs) * 8,
        blocks=tuple((b.data_count, b.total_count - b.data_count) for b in rs),
        weights=tuple(1 << (r * n + c) for r, c in order),
        fixed=tuple(fixed), masks=tuple(masks),
        all=(1 << (n * n)) - 1,
        h_pairs=cols_upto(n - 2), h_runs=cols_upto(n - 5), h_finder=cols_upto(n - 11),
        v_pairs=rows_upto(n - 2), v_runs=rows_upto(n - 5), v_finder=rows_upto(n - 11),
    )


@lru_cache(maxsize=256)
def _version_for(length: int) -> int:
    for version in range(1, 41):
        count_bits = 8 if version < 10 else 16
        capacity = sum(b.data_count for b in base.rs_blocks(version, _EC_LEVEL))
        if 4 + count_bits + 8 * length <= capacity * 8:
            return version
    raise ValueError("too much data for a QR code")


@lru_cache(maxsize=64)
def _rs_table(ec_count: int) -> tuple[int, ...]:
    """For each byte f: f × the generator polynomial's low terms, as one integer."""
    generator = [1]  # ∏ (x − α^i), highest power first
    for i in range(ec_count):
        generator = [a ^ (base.gexp(base.glog(b) + i) if b else 0)
                     for a, b in zip([*generator, 0], [0, *generator], strict=True)]
    low = generator[1:]
    table = [0]
    for f in range(1, 256):
        lf = base.glog(f)
        table.append(int.from_bytes(
            bytes(base.gexp(lf + base.glog(g)) if g else 0 for g in low), "big"))
    return tuple(table)


def _error_correction(data: bytes, ec_count: int) -> bytes:
    table, shift = _rs_table(ec_count), 8 * (ec_count - 1)
    keep = (1 << (8 * ec_count)) - 1
    remainder = 0
    for byte in data:
        remainder = ((remainder << 8) & keep) ^ table[byte ^ (remainder >> shift)]
    return remainder.to_bytes(ec_count, "big")


def _codewords(payload: bytes, version: int, layout: _Layout) -> bytes:
    count_bits = 8 if version < 10 else 16
    capacity = sum(d for d, _ in layout.blocks)
    bits = ((0b0100 << count_bits | len(payload)) << (8 * len(payload))
            | int.from_bytes(payload, "big"))
    length = 4 + count_bits + 8 * len(payload)
    tail = min(4, capacity * 8 - length)  # terminator
    tail += -(length + tail) % 8  # up to a whole byte
    data = (bits << tail).to_bytes((length + tail) // 8, "big")
    data += (b"\xec\x11" * capacity)[: capacity - len(data)]
    blocks, ecs, start = [], [], 0
    for count, ec_count in layout.blocks:
        blocks.append(data[start:start + count])
        ecs.append(_error_correction(data[start:start + count], ec_count))
        start += count
    out = bytearray()
    for group in (blocks, ecs):
        for i in range(max(len(b) for b in group)):
            out += bytes(b[i] for b in group if i < len(b))
    return bytes(out)


def _penalty(grid: int, layout: _Layout) -> int:
    n, light = layout.size, ~grid & layout.all
    score = 0
    for step, pairs, runs, finder in (
        (1, layout.h_pairs, layout.h_runs, layout.h_finder),
        (n, layout.v_pairs, layout.v_runs, layout.v_finder),
    ):
        same = ~(grid ^ (grid >> step)) & pairs  # module equals the next one
        five = same & (same >> step) & (same >> 2 * step) & (same >> 3 * step) & runs
        # a run of k ≥ 5 scores k − 2: (k − 4) five-windows plus 2 for its start
        score += five.bit_count() + 2 * (five & ~(five << step)).bit_count()
        if step == 1:  # 2×2 blocks of one colour, 3 each
            score += 3 * (same & (same >> n) & ~(grid ^ (grid >> n)) & layout.v_pairs
                          ).bit_count()
        for pattern in _FINDER_LIKE:
            hit = finder
            for k, bit in enumerate(pattern):
                hit &= (grid if bit == "1" else light) >> (k * step)
            score += 40 * hit.bit_count()
    dark_percent = grid.bit_count() * 100 // (n * n)
    return score + 10 * (abs(dark_percent - 50) // 5)


def qr_matrix(text: str) -> tuple[int, int]:
    """A standard QR code (byte mode, level M, best mask) as ``(size, grid)``: module
    (row r, column c) is dark when bit ``r * size + c`` of ``grid`` is set."""
    payload = text.encode("utf-8")
    version = _version_for(len(payload))
    layout = _layout(version)
    codewords = _codewords(payload, version, layout)
    bits = format(int.from_bytes(codewords, "big"), f"0{len(codewords) * 8}b")
    data = sum(compress(layout.weights, bits.encode("ascii").translate(_BITS)))
    grids = [layout.fixed[m] | (data ^ layout.masks[m]) for m in range(8)]
    best = min(range(8), key=lambda m: _penalty(grids[m], layout))
    return layout.size, grids[best]


@lru_cache(maxsize=4096)
def print_qr_png(text: str, box_size: int = BADGE_QR_BOX, border: int = 2,
                 compress_level: int = 6) -> bytes:
    """A QR code of ``text`` as an 8-bit grey PNG (WeasyPrint embeds grey PNGs as they
    are; 1-bit ones it converts to RGB first). ``compress_level`` 1 is quicker (mail)."""
    n, grid = qr_matrix(text)
    pixels = format(grid, f"0{n * n}b")[::-1].encode("ascii").translate(_PIXELS)
    image = ImageOps.expand(Image.frombytes("L", (n, n), pixels), border=border, fill=255)
    if box_size != 1:
        image = image.resize((image.width * box_size,) * 2, Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()
