"""The 24-hour chart as inline SVG, drawn on the server: no script, no network, no library."""

from __future__ import annotations

from markupsafe import Markup, escape

from common.ops.queries import HourBar

WIDTH, HEIGHT = 720, 220
_LEFT, _RIGHT, _TOP, _BOTTOM = 40, 8, 12, 28
SERIES = (
    ("received", "Received", "#3b6fd8"),
    ("completed", "Completed", "#2f9e5b"),
    ("dead_lettered", "Dead-lettered", "#d64545"),
)


def _nice_ceiling(value: int) -> int:
    """The axis top: 1, 2 or 5 times a power of ten, at least `value`."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def hourly_chart(bars: list[HourBar]) -> Markup:
    top = _nice_ceiling(max((getattr(bar, name) for bar in bars for name, _, _ in SERIES), default=0))
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    slot = plot_w / max(len(bars), 1)
    bar_w = slot / (len(SERIES) + 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        'aria-label="Events received, completed and dead-lettered per hour over the last 24 hours">',
        f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{WIDTH - _RIGHT}" y2="{_TOP + plot_h}" class="axis"/>',
        f'<text x="{_LEFT - 4}" y="{_TOP + 4}" text-anchor="end" class="tick">{top}</text>',
        f'<text x="{_LEFT - 4}" y="{_TOP + plot_h}" text-anchor="end" class="tick">0</text>',
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{WIDTH - _RIGHT}" y2="{_TOP}" class="grid"/>',
    ]
    for index, bar in enumerate(bars):
        x0 = _LEFT + index * slot + bar_w / 2
        label = bar.hour.strftime("%H:00")
        for offset, (name, title, colour) in enumerate(SERIES):
            value = getattr(bar, name)
            height = plot_h * value / top
            parts.append(
                f'<rect x="{x0 + offset * bar_w:.1f}" y="{_TOP + plot_h - height:.1f}" width="{bar_w:.1f}" '
                f'height="{height:.1f}" fill="{colour}" data-series="{name}" data-value="{value}">'
                f"<title>{escape(label)} UTC: {value} {title.lower()}</title></rect>"
            )
        if index % 3 == 0:
            parts.append(
                f'<text x="{x0 + slot / 2 - bar_w / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle" '
                f'class="tick">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
