"""Benchmark: name badges for a big event, with and without QR codes.

Not a pytest test (pytest collects ``test_*.py`` only). Run it from the repository:

    /work/venv/bin/python tests/perf/bench_badges.py [--badges 1000] [--variants]

It builds an app on a throwaway SQLite database (real migrations), creates the
registrations, then renders ``badges_pdf`` without and with QR codes, each in a
fresh Python process so that the peak memory (``ru_maxrss``) is that render's own. In
each child one small warm-up render loads fonts and WeasyPrint first; before every
timed render the QR caches are emptied (``qr_png.cache_clear()``,
``print_qr_png.cache_clear()``) so every QR code is made during the timed render.
Each measurement is the median of ``--repeat`` renders, in CPU seconds of the
rendering process (wall-clock seconds are shown too, but they swing when other work
shares the machine). Targets: with-QR time ≤ 1.5 × without, peak memory < 500 MB.
The exit status is 1 when a target is missed.

``--variants`` also times the alternatives tried while choosing how badges embed
their QR codes (module size, PNG mode, mask search); see ``VARIANTS``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

MAX_RATIO = 1.5
MAX_PEAK_MB = 500
SLUG = "bench-badges"

FIRST = ["Anne", "Mette", "Kirsten", "Hanne", "Camilla", "Louise", "Ida", "Sofie", "Peter",
         "Lars", "Jens", "Michael", "Søren", "Mohammed", "Hans-Christian", "Niels", "Bo",
         "Karen Margrethe", "Ahmad", "Freja", "Mads", "Rasmus", "Line", "Jørgen"]
LAST = ["Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen",
        "Sørensen", "Rasmussen", "Jørgensen", "Østergaard-Christiansen", "Al-Khatib",
        "Mikkelsen", "Kristensen", "Bach", "Holm", "Nørgaard", "Vestergaard"]
COMPANIES = ["Welfare Tech A/S", "Sundhedsdatastyrelsen", "VIVE – Det Nationale Forsknings- "
             "og Analysecenter for Velfærd", "Syddansk Universitet", "KL", "Danske Regioner",
             "Medware ApS", "Zealand Care", "Aalborg Universitet", "Digital Sundhed IVS"]


# Setup ---------------------------------------------------------------------------------


def make_app(db_path: Path):
    from eventhub import create_app

    return create_app({
        "TESTING": True,
        "SECRET_KEY": "bench-secret-key",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
        "BASE_URL": "https://eventhub.example.dk",
        "MAIL_BACKEND": "folder",
        "MAIL_FOLDER": str(db_path.parent / "mail"),
        "MAIL_DELIVER_IN_PROCESS": False,
        "RATELIMIT_STORAGE_URI": "memory://",
    })


def build_database(db_path: Path, count: int) -> None:
    """Migrate a new database and fill it with one event and ``count`` registrations."""
    from datetime import UTC, datetime, timedelta

    from flask_migrate import upgrade
    from sqlalchemy import select

    from eventhub.events.models import Event, Organization
    from eventhub.events.services import find_or_create_organization
    from eventhub.extensions import db
    from eventhub.registration.models import PARTICIPANT, SPEAKER, STAFF, Registration

    app = make_app(db_path)
    with app.app_context():
        with contextlib.redirect_stderr(io.StringIO()):  # Alembic's INFO lines
            upgrade()
        rng = random.Random(2026)
        start = datetime(2026, 9, 24, 7, 0, tzinfo=UTC)
        event = Event(slug=SLUG, title="Del & Genbrug 2026 – velfærdsteknologi der virker",
                      venue="Odense Congress Center, Ørbækvej 350, 5220 Odense SØ",
                      starts_at=start, ends_at=start + timedelta(hours=8), status="published")
        db.session.add(event)
        orgs = list(db.session.scalars(select(Organization)))
        orgs += [find_or_create_organization(name, "company") for name in COMPANIES]
        roles = [PARTICIPANT] * 17 + [SPEAKER] * 2 + [STAFF]
        db.session.add_all(
            Registration(
                event=event, name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                email=f"person{i}@example.dk", organization=rng.choice(orgs),
                badge_role=rng.choice(roles), status="confirmed",
            )
            for i in range(count)
        )
        db.session.commit()
        db.engine.dispose()


# Variants of the badge QR image (chosen in the child with --variant) --------------------


def _qr_png_variant(text: str, box_size: int, mode: str, mask: int | None) -> bytes:
    """A QR PNG like ``documents.qr_png`` but with a chosen Pillow mode and, optionally,
    a fixed mask pattern (skips qrcode's search for the best of eight masks)."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=2,
                       mask_pattern=mask)
    qr.add_data(text)
    qr.make(fit=True)
    image = qr.make_image(fill_color="black", back_color="white").get_image()
    if image.mode != mode:
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _documents_qr(box_size: int):
    from eventhub.documents import qr_png

    def data_uri(text: str) -> str:
        png = qr_png(text, box_size=box_size)
        return "data:image/png;base64," + base64.b64encode(png).decode("ascii")

    return data_uri


def _custom_qr(box_size: int, mode: str, mask: int | None):
    def data_uri(text: str) -> str:
        png = _qr_png_variant(text, box_size, mode, mask)
        return "data:image/png;base64," + base64.b64encode(png).decode("ascii")

    return data_uri


def _fast_qr(box_size: int):
    from eventhub.registration.badges import print_qr_png

    def data_uri(text: str) -> str:
        png = print_qr_png(text, box_size=box_size)
        return "data:image/png;base64," + base64.b64encode(png).decode("ascii")

    return data_uri


# name: (description, factory of a replacement for badges.qr_data_uri or None = as built)
VARIANTS = {
    "built": ("as built: badges.qr_data_uri", None),
    "qrcode-box4-1bit": ("documents.qr_png box 4, 1-bit PNG", lambda: _documents_qr(4)),
    "qrcode-box2-1bit": ("documents.qr_png box 2, 1-bit PNG", lambda: _documents_qr(2)),
    "qrcode-box4-gray": ("qrcode box 4, grey PNG (mode L)", lambda: _custom_qr(4, "L", None)),
    "qrcode-box4-gray-mask0": ("qrcode box 4, mode L, fixed mask 0 (no mask search)",
                               lambda: _custom_qr(4, "L", 0)),
    "fast-box1-gray": ("badges.print_qr_png box 1, mode L", lambda: _fast_qr(1)),
    "fast-box2-gray": ("badges.print_qr_png box 2, mode L", lambda: _fast_qr(2)),
    "fast-box4-gray": ("badges.print_qr_png box 4, mode L", lambda: _fast_qr(4)),
    "fast-box8-gray": ("badges.print_qr_png box 8, mode L", lambda: _fast_qr(8)),
}


# Child: one measured render ------------------------------------------------------------


def measure(db_path: Path, with_qr: bool, variant: str, repeat: int) -> dict:
    from sqlalchemy import select

    from eventhub.documents import qr_png
    from eventhub.events.models import Event
    from eventhub.extensions import db
    from eventhub.registration import badges

    factory = VARIANTS[variant][1]
    if factory is not None:
        badges.qr_data_uri = factory()
    app = make_app(db_path)
    cpu, wall = [], []
    with app.test_request_context():
        event = db.session.scalar(select(Event).where(Event.slug == SLUG))
        registrations = badges.badge_registrations(event)
        badges.badges_pdf(event, registrations[:2], with_qr=with_qr)  # warm-up: fonts
        for _ in range(repeat):
            qr_png.cache_clear()  # every QR code is made during the timed render
            badges.print_qr_png.cache_clear()
            started, started_cpu = time.perf_counter(), time.process_time()
            pdf = badges.badges_pdf(event, registrations, with_qr=with_qr)
            wall.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"badges": len(registrations), "seconds": statistics.median(cpu),
            "wall": statistics.median(wall), "peak_mb": peak_kb / 1024,
            "pdf_kb": len(pdf) / 1024,
            "pages": page_count(pdf, db_path.parent)}


def page_count(pdf: bytes, folder: Path) -> int | None:
    """Pages according to poppler's pdfinfo (None if it is not installed)."""
    path = folder / f"badges-{time.monotonic_ns()}.pdf"
    path.write_bytes(pdf)
    try:
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True)
    except FileNotFoundError:
        return None
    finally:
        path.unlink()
    match = re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE)
    return int(match.group(1)) if match else None


def run_child(db_path: Path, with_qr: bool, variant: str, repeat: int) -> dict:
    command = [sys.executable, __file__, "--child", str(db_path), "--variant", variant,
               "--repeat", str(repeat)]
    if with_qr:
        command.append("--qr")
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)
    if done.returncode != 0:
        sys.exit(f"child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _secs(result: dict) -> str:
    return f"{result['seconds']:.2f} ({result['wall']:.2f})"


# Parent --------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--badges", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3,
                        help="timed renders per measurement; the median is shown")
    parser.add_argument("--variants", action="store_true",
                        help="also time the QR variants tried (slower)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--qr", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--variant", default="built", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(measure(args.child, args.qr, args.variant, args.repeat)))
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-badges-") as tmp:
        db_path = Path(tmp) / "bench.sqlite"
        build_database(db_path, args.badges)
        plain = run_child(db_path, False, "built", args.repeat)
        names = list(VARIANTS) if args.variants else ["built"]
        results = {name: run_child(db_path, True, name, args.repeat) for name in names}

    qr = results["built"]
    ratio = qr["seconds"] / plain["seconds"]
    peak = max(plain["peak_mb"], qr["peak_mb"])
    print(f"\nbadges_pdf, median of {args.repeat} renders; seconds are CPU time of the render"
          " (wall clock in brackets)")
    print(f"{'badges':>7} {'pages':>6} {'s no QR':>14} {'s QR':>14} {'ratio':>6} "
          f"{'peak MB':>8} {'PDF kB':>7}")
    print(f"{qr['badges']:>7} {qr['pages'] or '?':>6} {_secs(plain):>14} {_secs(qr):>14} "
          f"{ratio:>6.2f} {peak:>8.0f} {qr['pdf_kb']:>7.0f}")
    print(f"targets: ratio ≤ {MAX_RATIO}, peak < {MAX_PEAK_MB} MB "
          f"(peak without QR {plain['peak_mb']:.0f} MB, with QR {qr['peak_mb']:.0f} MB)")
    if args.variants:
        print(f"\n{'QR variant':<24} {'s QR':>14} {'ratio':>6} {'peak MB':>8} {'PDF kB':>7}")
        for name, result in results.items():
            print(f"{name:<24} {_secs(result):>14} {result['seconds'] / plain['seconds']:>6.2f} "
                  f"{result['peak_mb']:>8.0f} {result['pdf_kb']:>7.0f}  {VARIANTS[name][0]}")

    missed = []
    if ratio > MAX_RATIO:
        missed.append(f"ratio {ratio:.2f} > {MAX_RATIO}")
    if peak >= MAX_PEAK_MB:
        missed.append(f"peak {peak:.0f} MB ≥ {MAX_PEAK_MB} MB")
    if missed:
        print("MISSED: " + "; ".join(missed))
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
