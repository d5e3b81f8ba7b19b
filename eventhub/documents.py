"""Documents: QR code images (qrcode + Pillow) and HTML → PDF (WeasyPrint)."""

from __future__ import annotations

import io
from functools import lru_cache

import qrcode
from qrcode.constants import ERROR_CORRECT_M


@lru_cache(maxsize=4096)
def qr_png(text: str, box_size: int = 8, border: int = 2) -> bytes:
    """A black-on-white PNG QR code of ``text`` (1-bit, small and fast to embed)."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=border)
    qr.add_data(text)
    qr.make(fit=True)
    image = qr.make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def render_pdf(html: str, base_url: str | None = None) -> bytes:
    """Render HTML (with its CSS inline or from ``base_url``) to PDF bytes."""
    from weasyprint import HTML  # imported late: it loads Pango on first use

    return HTML(string=html, base_url=base_url).write_pdf()
