"""Charts as inline SVG, drawn on the server: no script, no external service.

Each function returns SVG markup (labels escaped) that scales to its container
(``viewBox``, ``width=100%``) and carries a ``<title>`` and ``role="img"`` for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

__all__ = ["bar_chart", "line_chart"]

_W, _H = 480, 230
_LEFT, _RIGHT, _TOP, _BOTTOM = 52, 10, 34, 40
_COLOUR = "#1d5fa7"


def _head(title: str) -> list[str]:
    return [
        f'<svg class="grafiek" viewBox="0 0 {_W} {_H}" width="100%" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="4" y="18" class="g-titel">{escape(title)}</text>',
    ]


def _empty(title: str) -> Markup:
    parts = _head(title)
    parts.append(
        f'<text x="{_W / 2}" y="{_H / 2}" text-anchor="middle" class="g-leeg">'
        "geen gegevens</text></svg>"
    )
    return Markup("".join(parts))


def _frame(title: str, top: float, unit: str) -> list[str]:
    inner_h = _H - _TOP - _BOTTOM
    parts = _head(title)
    digits = 0 if top >= 8 or (top == int(top) and top % 4 == 0) else 1
    for i in range(5):
        value = top * i / 4
        y = _TOP + inner_h - inner_h * i / 4
        parts.append(
            f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="g-lijn"/>'
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" class="g-as" text-anchor="end">'
            f"{value:.{digits}f}{escape(unit)}</text>"
        )
    return parts


def _top(values: Sequence[float], maximum: float | None) -> float:
    if maximum is not None:
        return maximum
    peak = max(values, default=0.0)
    if peak <= 0:
        return 1.0
    if peak <= 8:
        return 4.0 if peak <= 4 else 8.0  # whole numbers at every grid line
    step = 10 ** max(0, len(str(int(peak))) - 1)
    return float(((int(peak) // step) + 1) * step)


def bar_chart(
    points: Sequence[tuple[str, float | int | None]],
    *,
    title: str,
    maximum: float | None = None,
    unit: str = "",
) -> Markup:
    """Vertical bars, one per label."""
    values = [float(v or 0) for _, v in points]
    if not points:
        return _empty(title)
    top = _top(values, maximum)
    parts = _frame(title, top, unit)
    inner_w, inner_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    slot = inner_w / len(points)
    width = min(48.0, slot * 0.7)
    for i, ((label, _), value) in enumerate(zip(points, values, strict=True)):
        height = inner_h * min(value, top) / top
        x = _LEFT + slot * i + (slot - width) / 2
        y = _TOP + inner_h - height
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
            f'fill="{_COLOUR}"><title>{escape(label)}: {value:g}{escape(unit)}</title></rect>'
            f'<text x="{x + width / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
            f'class="g-waarde">{value:g}</text>'
            f'<text x="{x + width / 2:.1f}" y="{_H - _BOTTOM + 16}" text-anchor="middle" '
            f'class="g-label">{escape(label[:14])}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    points: Sequence[tuple[str, float | int | None]],
    *,
    title: str,
    maximum: float | None = None,
    unit: str = "",
) -> Markup:
    """A line through the known values (a month without a value leaves a gap)."""
    known = [float(v) for _, v in points if v is not None]
    if not known:
        return _empty(title)
    top = _top(known, maximum)
    parts = _frame(title, top, unit)
    inner_w, inner_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    slot = inner_w / len(points)
    path: list[str] = []
    for i, (label, value) in enumerate(points):
        x = _LEFT + slot * i + slot / 2
        parts.append(
            f'<text x="{x:.1f}" y="{_H - _BOTTOM + 16}" text-anchor="middle" class="g-label">'
            f"{escape(label[:14])}</text>"
        )
        if value is None:
            path.append("")
            continue
        y = _TOP + inner_h - inner_h * min(float(value), top) / top
        path.append(f"{x:.1f},{y:.1f}")
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{_COLOUR}"><title>{escape(label)}: '
            f"{float(value):g}{escape(unit)}</title></circle>"
        )
    segments: list[list[str]] = [[]]
    for point in path:
        if point:
            segments[-1].append(point)
        elif segments[-1]:
            segments.append([])
    for segment in segments:
        if len(segment) > 1:
            parts.append(
                f'<polyline points="{" ".join(segment)}" fill="none" stroke="{_COLOUR}" '
                'stroke-width="2.5"/>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
