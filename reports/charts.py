"""Server-rendered SVG bar charts: no JavaScript, no CDN; the same numbers as the CSVs."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import escape


def _fmt(value: Decimal | int, money: bool) -> str:
    return f"${value:,.0f}" if money else f"{value:,}"


def bar_chart(rows: Sequence[tuple[str, Decimal | int]], *, title: str, money: bool = True) -> str:
    """Horizontal bars, one per row, labelled with their value; accessible with a title."""
    if not rows:
        return f'<p class="empty">No data for {escape(title.lower())}.</p>'
    width, label_w, bar_h, gap = 640, 150, 22, 8
    top = max((Decimal(v) for _, v in rows), default=Decimal(0)) or Decimal(1)
    height = len(rows) * (bar_h + gap) + gap
    label = escape(title)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{label}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{label}</title>'
    ]
    for i, (name, value) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        base = y + bar_h * 0.7
        w = max(Decimal(2), (width - label_w - 110) * Decimal(value) / top)
        parts.append(
            f'<text x="{label_w - 8}" y="{base:.1f}" text-anchor="end" class="chart__label">'
            f"{escape(name)}</text>"
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" rx="3" '
            'class="chart__bar"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{base:.1f}" class="chart__value">'
            f"{escape(_fmt(value, money))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
