"""Charts drawn on the server as inline SVG (no JavaScript library, nothing fetched).

Owns the two shapes the dashboard needs: vertical bars over days and
horizontal bars over labelled rows (optionally two values side by side, for
👍/👎).  Every label goes through ``escape``; the SVG carries a title and a
description for screen readers, and the page shows the same figures in a table.
"""
from __future__ import annotations

from typing import Sequence, Tuple

from markupsafe import Markup, escape

FONT = 12


def _svg(width: int, height: int, title: str, body: str) -> Markup:
    # The body is drawn from numbers and from labels escaped where they are written; the title is escaped here.
    return Markup(  # nosec B704
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{body}</svg>'
    )


def columns(values: Sequence[Tuple[str, int]], *, title: str, every: int = 5) -> Markup:
    """One bar per item (a day), its label shown every ``every`` items."""
    width, height, left, bottom, top = 720, 220, 30, 30, 12
    peak = max([v for _, v in values] + [1])
    step = (width - left - 10) / max(len(values), 1)
    parts = [f'<line class="axis" x1="{left}" y1="{height - bottom}" x2="{width - 5}" y2="{height - bottom}"/>',
             f'<text class="tick" x="{left - 6}" y="{top + 4}" text-anchor="end">{peak}</text>',
             f'<text class="tick" x="{left - 6}" y="{height - bottom}" text-anchor="end">0</text>']
    for i, (label, value) in enumerate(values):
        bar = (height - bottom - top) * value / peak
        x = left + i * step + step * 0.15
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{height - bottom - bar:.1f}" width="{step * 0.7:.1f}" '
                     f'height="{bar:.1f}"><title>{escape(label)} : {value}</title></rect>')
        if i % every == 0 or i == len(values) - 1:
            parts.append(f'<text class="tick" x="{x + step * 0.35:.1f}" y="{height - bottom + 16}" '
                         f'text-anchor="middle">{escape(label)}</text>')
    return _svg(width, height, title, "".join(parts))


def bars(rows: Sequence[Tuple[str, Sequence[int]]], *, title: str, series: Sequence[str] = ("value",),
         width: int = 480) -> Markup:
    """One row per label, one bar per series value (CSS classes ``bar-<series>``)."""
    label_width, row_height = 250, 14 * len(series) + 12
    height = max(row_height * len(rows), row_height) + 8
    peak = max([v for _, values in rows for v in values] + [1])
    room = width - label_width - 50
    parts = []
    for i, (label, values) in enumerate(rows):
        y = 4 + i * row_height
        short = label if len(label) <= 30 else label[:29] + "…"
        parts.append(f'<text class="label" x="{label_width - 8}" y="{y + row_height / 2 + 2:.1f}" '
                     f'text-anchor="end">{escape(short)}<title>{escape(label)}</title></text>')
        for j, (name, value) in enumerate(zip(series, values)):
            bar = room * value / peak
            top = y + 4 + j * 14
            parts.append(f'<rect class="bar bar-{escape(name)}" x="{label_width}" y="{top}" width="{bar:.1f}" height="12"/>'
                         f'<text class="tick" x="{label_width + bar + 4:.1f}" y="{top + 10}">{value}</text>')
    return _svg(width, height, title, "".join(parts))
