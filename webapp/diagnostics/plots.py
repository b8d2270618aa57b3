"""Plots drawn on the server as inline SVG: no JavaScript, no chart library, nothing fetched, so
the page works offline and prints. Every label is escaped; numbers are formatted here."""
from html import escape

from django.utils.safestring import mark_safe

WIDTH = 640
ROW = 22
LEFT = 170
RIGHT = 70
TOP = 40


def _x(value: float, lo: float, hi: float) -> float:
    return LEFT + (min(max(value, lo), hi) - lo) / (hi - lo) * (WIDTH - LEFT - RIGHT)


def forest(rows: list[tuple[str, dict]], *, title: str, lo: float = 0.0, hi: float = 1.0,
           reference: float | None = 0.5, reference_label: str = "") -> str:
    """One row per (label, figure): a dot at the value and a bar over its interval."""
    rows = [(label, fig) for label, fig in rows if fig and fig.get("value") is not None]
    height = TOP + ROW * max(len(rows), 1) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" viewBox="0 0 {WIDTH} {height}" '
             f'width="100%" aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<text x="4" y="16" class="plot-title">{escape(title)}</text>']
    axis_y = TOP + ROW * max(len(rows), 1)
    for tick in (lo, (lo + hi) / 2, hi):
        x = _x(tick, lo, hi)
        parts.append(f'<line x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{axis_y}" class="grid"/>'
                     f'<text x="{x:.1f}" y="{axis_y + 16}" text-anchor="middle" class="tick">{tick:g}</text>')
    if reference is not None and lo <= reference <= hi:
        x = _x(reference, lo, hi)
        parts.append(f'<line x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{axis_y}" class="reference"/>')
        if reference_label:
            parts.append(f'<text x="{x + 3:.1f}" y="{TOP - 8}" class="tick">{escape(reference_label)}</text>')
    if not rows:
        parts.append(f'<text x="{LEFT}" y="{TOP + 14}" class="tick">no data</text>')
    for i, (label, fig) in enumerate(rows):
        y = TOP + ROW * i + ROW / 2
        parts.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" class="label">{escape(str(label))}</text>')
        if fig.get("ci_low") is not None and fig.get("ci_high") is not None:
            parts.append(f'<line x1="{_x(fig["ci_low"], lo, hi):.1f}" y1="{y:.1f}" x2="{_x(fig["ci_high"], lo, hi):.1f}" '
                         f'y2="{y:.1f}" class="interval"/>')
        value = fig["value"]
        parts.append(f'<circle cx="{_x(value, lo, hi):.1f}" cy="{y:.1f}" r="4" class="dot">'
                     f'<title>{escape(str(label))}: {value:.3f} (n={fig.get("n", 0)})</title></circle>'
                     f'<text x="{WIDTH - RIGHT + 6}" y="{y + 4:.1f}" class="tick">{value:.3f}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def heatmap(names: list[str], cells: dict[tuple[str, str], float], *, title: str) -> str:
    """A symmetric matrix of values in [-1, 1] (Cohen's kappa), blue for agreement, red for less
    than chance; empty where two raters share too few comparisons."""
    n = len(names)
    size = max(10, min(24, 480 // max(n, 1)))
    left, top = 120, 40
    width, height = max(left + size * n + 20, 600), top + size * n + 110
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" viewBox="0 0 {width} {height}" '
             f'width="{min(width, 720)}" aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<text x="4" y="16" class="plot-title">{escape(title)}</text>']
    if not n:
        parts.append(f'<text x="4" y="{top + 10}" class="tick">no pair of raters shares enough comparisons</text>')
    for i, name in enumerate(names):
        y = top + size * i
        parts.append(f'<text x="{left - 4}" y="{y + size * 0.7:.1f}" text-anchor="end" class="label">{escape(name)}</text>')
        x = left + size * i + size / 2
        bottom = top + size * n + 4
        parts.append(f'<text transform="translate({x:.1f},{bottom}) rotate(60)" class="label">{escape(name)}</text>')
        for j, other in enumerate(names):
            value = cells.get((name, other), cells.get((other, name)))
            if value is None:
                continue
            parts.append(f'<rect x="{left + size * j}" y="{y}" width="{size - 1}" height="{size - 1}" '
                         f'fill="{_colour(value)}"><title>{escape(name)} ~ {escape(other)}: {value:.3f}</title></rect>')
    if n:
        parts.append(f'<text x="4" y="{height - 8}" class="tick">blue: agreement beyond chance (kappa 1), white: '
                     f'chance (0), red: below chance; hover a cell for its value</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def _colour(value: float) -> str:
    # -1 red, 0 white, +1 blue
    v = max(-1.0, min(1.0, value))
    if v >= 0:
        r = g = int(255 * (1 - v))
        return f"rgb({r},{g},255)"
    g = b = int(255 * (1 + v))
    return f"rgb(255,{g},{b})"
