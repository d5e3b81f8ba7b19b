"""Results as SVG, rendered on the server (no chart library in the browser)."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

WIDTH = 640
BAR_HEIGHT = 34
GAP = 14
LABEL_W = 280


def chart_for(snap: dict[str, Any], title: str) -> Markup | None:
    """The chart that fits a snapshot: bars for choices and scales, a cloud for words,
    none for text, Q&A or hidden results."""
    if "ranking" in snap:
        return ranking_chart(snap, title)
    if "options" in snap:
        return bar_chart(snap, title)
    if "words" in snap:
        return word_cloud(snap, title)
    return None


def ranking_chart(snap: dict[str, Any], title: str) -> Markup:
    """A ranking's points as bars, best first."""
    rows = [{"id": r["id"], "label": r["label"], "count": r["points"], "percent": 0}
            for r in snap.get("ranking", [])]
    return bar_chart({"options": rows}, title, value=lambda o: f'{o["count"]} p')


def bar_chart(snap: dict[str, Any], title: str, value=None) -> Markup:
    """Horizontal bars with counts and percentages; aria-hidden (the table speaks)."""
    value = value or (lambda o: f'{o["count"]} ({o["percent"]} %)')
    options = snap.get("options", [])
    right = set(snap.get("correct") or [])  # a quiz's right answer, once revealed
    height = max(len(options), 1) * (BAR_HEIGHT + GAP) + GAP
    top = max([o["count"] for o in options] + [1])
    rows = []
    for i, option in enumerate(options):
        y = GAP + i * (BAR_HEIGHT + GAP)
        width = round((WIDTH - LABEL_W - 130) * option["count"] / top)
        rows.append(
            f'<g class="bar" data-option="{option["id"]}">'
            f'<text x="{LABEL_W - 10}" y="{y + BAR_HEIGHT * 0.68:.0f}" text-anchor="end" '
            f'class="bar-label">{"✓ " if option["id"] in right else ""}'
            f'{escape(_clip(option["label"], 26))}</text>'
            f'<rect x="{LABEL_W}" y="{y}" width="{width}" height="{BAR_HEIGHT}" rx="4" '
            f'class="bar-fill"/>'
            f'<text x="{LABEL_W + width + 8}" y="{y + BAR_HEIGHT * 0.68:.0f}" '
            f'class="bar-value">{escape(value(option))}</text></g>')
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-hidden="true" '
        f'data-bar-space="{WIDTH - LABEL_W - 130}" '
        f'focusable="false" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        + "".join(rows) + "</svg>")


def word_cloud(snap: dict[str, Any], title: str) -> Markup:
    """Words in rows, sized by how often they were given (a deterministic layout)."""
    words = snap.get("words", [])
    if not words:
        return Markup("")
    top = words[0]["count"]
    x, y, row_height, parts = 10.0, 0.0, 0.0, []
    for item in words:
        size = 22 + 40 * (item["count"] / top)
        width = 0.68 * size * len(item["word"]) + 0.5 * size + 12
        if x + width > WIDTH - 10:
            x, y, row_height = 10.0, y + row_height, 0.0
        row_height = max(row_height, size * 1.3)
        parts.append(f'<text x="{x:.0f}" y="{y + size:.0f}" font-size="{size:.0f}" '
                     f'class="word">{escape(item["word"])}</text>')
        x += width
    height = y + row_height + 10
    return Markup(
        f'<svg class="chart cloud" viewBox="0 0 {WIDTH} {height:.0f}" role="img" '
        f'aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg">'
        f'<title>{escape(title)}</title>' + "".join(parts) + "</svg>")


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
