"""Reading PDFs back as a person would: their text (pdftotext) and the QR codes on
their pages (pdftoppm, then zbarimg)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The document's text, on one line with single spaces."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return " ".join(text.split())


def pages(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                          check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))


def pdf_qr_codes(pdf: bytes, tmp_path: Path, dpi: int = 150) -> list[str]:
    """Every QR code on every page, decoded (zbarimg's exit status 4: none on a page)."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    found = []
    for page in range(1, pages(pdf, tmp_path) + 1):
        prefix = tmp_path / f"page{page}"
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-f", str(page), "-l", str(page),
                        "-singlefile", str(path), str(prefix)], check=True)
        done = subprocess.run(["zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable",
                               str(prefix.with_suffix(".png"))], capture_output=True,
                              text=True)
        assert done.returncode in (0, 4), done.stderr
        found += done.stdout.split()
    return found


# The badge sheet (templates/pdf/badges.html): A4, margins 38.5 mm top and 15 mm left,
# 2 columns × 4 rows of 90 × 55 mm badges.
POINTS_PER_MM = 72 / 25.4


def badge_texts(pdf: bytes, tmp_path: Path) -> list[str]:
    """The text of each badge on its own, sheet by sheet, left to right, top to bottom."""
    path = tmp_path / "badges.pdf"
    path.write_bytes(pdf)
    found = []
    for page in range(1, pages(pdf, tmp_path) + 1):
        for row in range(4):
            for column in range(2):
                box = [round(v * POINTS_PER_MM) for v in
                       (15 + 90 * column, 38.5 + 55 * row, 90, 55)]
                text = subprocess.run(
                    ["pdftotext", "-f", str(page), "-l", str(page), "-x", str(box[0]),
                     "-y", str(box[1]), "-W", str(box[2]), "-H", str(box[3]), str(path), "-"],
                    capture_output=True, text=True, check=True).stdout
                text = " ".join(text.split())
                if text:
                    found.append(text)
    return found
