"""Small server-side charts as inline SVG strings: no JavaScript, no CDN, nothing to download.

Pages put the string straight into their HTML (it is built here with every text escaped). Three kinds
share one frame, axes and escaping: a line chart (training curves), a forest plot (estimates with
their intervals, one row each: per rater, per guideline version) and a heatmap (a symmetric matrix,
Cohen's kappa between raters):

    line_chart([Series("loss", [(1, 0.69), (2, 0.61)])], title="Training loss", x_label="step")
    forest([("alice", {"value": 0.62, "ci_low": 0.55, "ci_high": 0.69, "n": 180})], title="Share left")
    heatmap(["alice", "bob"], {("alice", "bob"): 0.41}, title="Cohen's kappa")

Each chart is an <svg role="img"> with a <title> and a <desc> that lists the data, so a screen reader
(and a test) can read what is drawn.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

# Colour-blind-safe palette (Okabe–Ito), in the order series take them.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


@dataclass
class Series:
    name: str
    points: list[tuple[float, float]]
    color: str | None = None
    markers: bool = False  # draw a dot at each point (sparse series such as evaluations)
    dashed: bool = False


@dataclass
class Frame:
    """The plotting area and the data ranges it maps."""

    width: int
    height: int
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    margin: dict = field(default_factory=lambda: {"left": 56, "right": 16, "top": 30, "bottom": 42})

    def x(self, value: float) -> float:
        low, high = self.x_range
        span = self.width - self.margin["left"] - self.margin["right"]
        return self.margin["left"] + (value - low) / (high - low) * span

    def y(self, value: float) -> float:
        low, high = self.y_range
        span = self.height - self.margin["top"] - self.margin["bottom"]
        return self.height - self.margin["bottom"] - (value - low) / (high - low) * span


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks, value = [], first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def _label(value: float) -> str:
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.3g}"


def _data_range(values: list[float], fixed: tuple[float, float] | None) -> tuple[float, float]:
    if fixed is not None:
        return fixed
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return (0.0, 1.0)
    low, high = min(finite), max(finite)
    if high == low:
        pad = abs(low) * 0.1 or 1.0
        return (low - pad, high + pad)
    pad = (high - low) * 0.05
    return (low - pad, high + pad)


def line_chart(series: list[Series], *, title: str, x_label: str = "", y_label: str = "",
               width: int = 480, height: int = 260, y_range: tuple[float, float] | None = None,
               x_range: tuple[float, float] | None = None, reference: float | None = None,
               empty_text: str = "no data yet") -> str:
    """Return an SVG line chart of `series` (x, y points). `reference` draws a dotted horizontal line
    (e.g. chance accuracy 0.5). With no points at all it draws the axes and `empty_text`."""
    points = [p for s in series for p in s.points if math.isfinite(p[1])]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    if reference is not None:
        ys = ys + [reference]
    x_low, x_high = _data_range(xs, x_range)
    if not xs and x_range is None:
        x_low, x_high = 0.0, 1.0
    frame = Frame(width, height, (x_low, x_high), _data_range(ys, y_range))
    if len(series) > 1:
        frame.margin["top"] = 44  # room for the legend row under the title, clear of the lines
    parts = [_open(width, height, title, _describe(series), kind="line"), _axes(frame, x_label, y_label)]
    if reference is not None:
        y = frame.y(reference)
        parts.append(f'<line class="reference" x1="{frame.margin["left"]}" x2="{width - frame.margin["right"]}" '
                     f'y1="{y:.1f}" y2="{y:.1f}" stroke="#777" stroke-dasharray="2 3"/>')
    if not points:
        parts.append(f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle" fill="#666" '
                     f'font-size="13">{escape(empty_text)}</text>')
    for index, s in enumerate(series):
        parts.append(_series(frame, s, s.color or PALETTE[index % len(PALETTE)]))
    parts.append(_legend(series, frame))
    parts.append("</svg>")
    return "".join(parts)


def _open(width: int, height: int, title: str, description: str, *, kind: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-kind="{kind}" role="img" '
            f'viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" font-family="system-ui, sans-serif">'
            f'<title>{escape(title)}</title><desc>{escape(description)}</desc>'
            f'<rect width="{width}" height="{height}" fill="#fff"/>'
            f'<text x="{width / 2:.0f}" y="18" text-anchor="middle" font-size="14" font-weight="600">'
            f'{escape(title)}</text>')


def _describe(series: list[Series], limit: int = 40) -> str:
    """The data in words, for assistive technology: each series with (up to `limit`) points."""
    described = []
    for s in series:
        shown = s.points[-limit:]
        text = ", ".join(f"{_label(x)}: {y:.4g}" for x, y in shown)
        more = f" (last {limit} of {len(s.points)})" if len(s.points) > limit else ""
        described.append(f"{s.name}{more}: {text or 'no points'}")
    return "; ".join(described)


def _axes(frame: Frame, x_label: str, y_label: str) -> str:
    m, w, h = frame.margin, frame.width, frame.height
    out = [f'<g class="axes" font-size="11" fill="#333">',
           f'<line x1="{m["left"]}" y1="{h - m["bottom"]}" x2="{w - m["right"]}" y2="{h - m["bottom"]}" stroke="#333"/>',
           f'<line x1="{m["left"]}" y1="{m["top"]}" x2="{m["left"]}" y2="{h - m["bottom"]}" stroke="#333"/>']
    for tick in nice_ticks(*frame.y_range):
        y = frame.y(tick)
        out.append(f'<line x1="{m["left"]}" x2="{w - m["right"]}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                   f'<text x="{m["left"] - 6}" y="{y + 4:.1f}" text-anchor="end">{_label(tick)}</text>')
    out.append(_x_ticks(frame, grid=False))
    if x_label:
        out.append(f'<text x="{(m["left"] + w - m["right"]) / 2:.0f}" y="{h - 6}" text-anchor="middle">'
                   f'{escape(x_label)}</text>')
    if y_label:
        cy = (m["top"] + h - m["bottom"]) / 2
        out.append(f'<text transform="translate(14 {cy:.0f}) rotate(-90)" text-anchor="middle">{escape(y_label)}</text>')
    out.append("</g>")
    return "".join(out)


def _x_ticks(frame: Frame, *, grid: bool, count: int = 6) -> str:
    """Tick marks and labels under the x axis; with `grid`, light lines up through the plotting area."""
    m, h = frame.margin, frame.height
    top = m["top"] if grid else h - m["bottom"]
    out = []
    for tick in nice_ticks(*frame.x_range, count=count):
        x = frame.x(tick)
        colour = "#ddd" if grid else "#333"
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{h - m["bottom"] + 4}" stroke="{colour}"/>'
                   f'<text x="{x:.1f}" y="{h - m["bottom"] + 16}" text-anchor="middle">{_label(tick)}</text>')
    return "".join(out)


def _series(frame: Frame, s: Series, color: str) -> str:
    finite = [(x, y) for x, y in s.points if math.isfinite(y)]
    if not finite:
        return ""
    coords = " ".join(f"{frame.x(x):.1f},{frame.y(y):.1f}" for x, y in finite)
    dash = ' stroke-dasharray="6 4"' if s.dashed else ""
    out = [f'<g class="series" data-name="{escape(s.name)}" data-points="{len(finite)}">',
           f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2"{dash}/>']
    if s.markers or len(finite) == 1:
        out += [f'<circle cx="{frame.x(x):.1f}" cy="{frame.y(y):.1f}" r="3" fill="{color}"/>' for x, y in finite]
    out.append("</g>")
    return "".join(out)


def _legend(series: list[Series], frame: Frame) -> str:
    if len(series) < 2:
        return ""
    x, top = frame.margin["left"], 26
    out = ['<g class="legend" font-size="11">']
    for index, s in enumerate(series):
        color = s.color or PALETTE[index % len(PALETTE)]
        out.append(f'<rect x="{x}" y="{top}" width="10" height="10" fill="{color}"/>'
                   f'<text x="{x + 14}" y="{top + 9}">{escape(s.name)}</text>')
        x += 14 + 7 * len(s.name) + 16  # about 7 px per character at 11 px
    out.append("</g>")
    return "".join(out)


FOREST_ROW = 22  # px per estimate


def forest(rows: list[tuple[str, dict]], *, title: str, lo: float = 0.0, hi: float = 1.0,
           reference: float | None = 0.5, reference_label: str = "", width: int = 640) -> str:
    """Return an SVG forest plot: one row per (label, figure), a dot at figure["value"] and a bar over
    [figure["ci_low"], figure["ci_high"]] on an x axis from `lo` to `hi` (values outside are drawn at
    the edge, the number beside the row is the true one). Figures without a value are left out.
    `reference` draws a dashed vertical line (e.g. 0.5, no bias) labelled `reference_label`."""
    rows = [(str(label), fig) for label, fig in rows if fig and fig.get("value") is not None]
    n_rows = max(len(rows), 1)
    height = 40 + FOREST_ROW * n_rows + 30
    # y runs from n_rows at the bottom to 0 at the top, so row i sits at i + 0.5 counted from the top
    frame = Frame(width, height, (lo, hi), (n_rows, 0),
                  margin={"left": 170, "right": 70, "top": 40, "bottom": 30})
    parts = [_open(width, height, title, _describe_estimates(rows), kind="forest"),
             '<g class="axes" font-size="11" fill="#333">', _x_ticks(frame, grid=True, count=5), "</g>"]
    if reference is not None and lo <= reference <= hi:
        parts.append(_vertical_reference(frame, reference, reference_label))
    if not rows:
        parts.append(f'<text x="{frame.margin["left"]}" y="{frame.y(0.5) + 4:.1f}" font-size="12" fill="#666">'
                     f'no data</text>')
    parts += [_estimate_row(frame, index, label, fig) for index, (label, fig) in enumerate(rows)]
    parts.append("</svg>")
    return "".join(parts)


def _estimate_row(frame: Frame, index: int, label: str, fig: dict) -> str:
    low, high = frame.x_range
    y, value = frame.y(index + 0.5), fig["value"]
    x = frame.x(_clamp(value, low, high))
    out = [f'<g class="estimate" data-label="{escape(label)}" font-size="12">',
           f'<text x="{frame.margin["left"] - 8}" y="{y + 4:.1f}" text-anchor="end" fill="#333">{escape(label)}</text>']
    if fig.get("ci_low") is not None and fig.get("ci_high") is not None:
        x1, x2 = frame.x(_clamp(fig["ci_low"], low, high)), frame.x(_clamp(fig["ci_high"], low, high))
        out.append(f'<line class="interval" x1="{x1:.1f}" x2="{x2:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="{PALETTE[0]}" stroke-width="2"/>')
    out.append(f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{PALETTE[0]}">'
               f'<title>{escape(_estimate_words(label, fig))}</title></circle>'
               f'<text x="{frame.width - frame.margin["right"] + 6}" y="{y + 4:.1f}" fill="#333">{value:.3f}</text>')
    out.append("</g>")
    return "".join(out)


def _vertical_reference(frame: Frame, value: float, label: str) -> str:
    x, top, bottom = frame.x(value), frame.margin["top"] - 6, frame.height - frame.margin["bottom"]
    out = (f'<line class="reference" x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" '
           f'stroke="{PALETTE[1]}" stroke-dasharray="4 3"/>')
    if label:
        out += f'<text x="{x + 3:.1f}" y="{top - 2}" font-size="11" fill="#333">{escape(label)}</text>'
    return out


def _estimate_words(label: str, fig: dict) -> str:
    interval = ""
    if fig.get("ci_low") is not None and fig.get("ci_high") is not None:
        interval = f", interval {fig['ci_low']:.3f} to {fig['ci_high']:.3f}"
    return f"{label}: {fig['value']:.3f}{interval}, n={fig.get('n', 0)}"


def _describe_estimates(rows: list[tuple[str, dict]], limit: int = 40) -> str:
    if not rows:
        return "no data"
    more = f" (first {limit} of {len(rows)})" if len(rows) > limit else ""
    return "; ".join(_estimate_words(label, fig) for label, fig in rows[:limit]) + more


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def heatmap(names: list[str], cells: dict[tuple[str, str], float], *, title: str,
            empty_text: str = "no pair of raters shares enough comparisons") -> str:
    """Return an SVG heatmap of a symmetric matrix of values in [-1, 1] (Cohen's kappa between raters):
    blue for agreement beyond chance, white for chance, red for less; a cell is empty where `cells`
    has neither (a, b) nor (b, a). Each cell carries its value as a tooltip and in the description."""
    n = len(names)
    size = max(10, min(24, 480 // max(n, 1)))
    left, top = 120, 40
    width, height = max(left + size * n + 20, 600), top + size * n + 110
    values = [(a, b, _pair_value(cells, a, b)) for i, a in enumerate(names) for b in names[i + 1:]]
    described = [f"{a} ~ {b}: {v:.3f}" for a, b, v in values if v is not None]
    parts = [_open(width, height, title, "; ".join(described[:60]) or empty_text, kind="heatmap"),
             '<g class="labels" font-size="11" fill="#333">']
    for i, name in enumerate(names):
        x, bottom = left + size * i + size / 2, top + size * n + 4
        parts.append(f'<text x="{left - 4}" y="{top + size * i + size * 0.7:.1f}" text-anchor="end">{escape(name)}</text>'
                     f'<text transform="translate({x:.1f} {bottom}) rotate(60)">{escape(name)}</text>')
    parts.append("</g>")
    if not n:
        parts.append(f'<text x="8" y="{top + 10}" font-size="12" fill="#666">{escape(empty_text)}</text>')
    parts.append('<g class="cells">')
    for i, name in enumerate(names):
        for j, other in enumerate(names):
            value = _pair_value(cells, name, other)
            if value is not None:
                parts.append(f'<rect class="cell" x="{left + size * j}" y="{top + size * i}" width="{size - 1}" '
                             f'height="{size - 1}" fill="{_diverging_colour(value)}">'
                             f'<title>{escape(name)} ~ {escape(other)}: {value:.3f}</title></rect>')
    parts.append("</g>")
    if n:
        parts.append(f'<text x="8" y="{height - 8}" font-size="11" fill="#333">blue: agreement beyond chance '
                     f'(kappa 1), white: chance (0), red: below chance; hover a cell for its value</text>')
    parts.append("</svg>")
    return "".join(parts)


def _pair_value(cells: dict[tuple[str, str], float], a: str, b: str) -> float | None:
    value = cells.get((a, b))
    return cells.get((b, a)) if value is None else value


def _diverging_colour(value: float) -> str:
    """-1 red, 0 white, +1 blue."""
    v = _clamp(value, -1.0, 1.0)
    if v >= 0:
        r = g = int(255 * (1 - v))
        return f"rgb({r},{g},255)"
    g = b = int(255 * (1 + v))
    return f"rgb(255,{g},{b})"


def reliability_diagram(bins: list[dict], *, title: str, width: int = 420, height: int = 340,
                        x_label: str = "model's P(A preferred)", y_label: str = "share of raters preferring A") -> str:
    """Return an SVG reliability diagram: per probability bin, the mean predicted P(A) against the
    observed share, a dot sized by the bin's count, over the diagonal of perfect calibration.

    `bins` as prefkit.diagnostics.calibration returns them ({bin_low, bin_high, n, mean_predicted,
    share_human_a}); empty bins are not drawn. The <desc> lists every drawn bin with its count.
    """
    shown = [b for b in bins if b.get("n") and b.get("mean_predicted") is not None and b.get("share_human_a") is not None]
    frame = Frame(width, height, (0.0, 1.0), (0.0, 1.0))
    frame.margin["top"] = 44
    diagonal = Series("perfect calibration", [(0.0, 0.0), (1.0, 1.0)], color="#777", dashed=True)
    model = Series("model", [(b["mean_predicted"], b["share_human_a"]) for b in shown], color=PALETTE[0])
    description = "; ".join(f"P(A) {b['bin_low']:g}–{b['bin_high']:g}: mean predicted {b['mean_predicted']:.3f}, "
                            f"observed {b['share_human_a']:.3f}, n={b['n']}" for b in shown) or "no data"
    parts = [_open(width, height, title, description, kind="reliability"), _axes(frame, x_label, y_label),
             _series(frame, diagonal, diagonal.color), _series(frame, model, model.color)]
    largest = max((b["n"] for b in shown), default=1)
    parts.append('<g class="bins">')
    for b in shown:
        radius = 2.5 + 5.5 * math.sqrt(b["n"] / largest)
        tip = f"mean predicted {b['mean_predicted']:.3f}, observed {b['share_human_a']:.3f}, n={b['n']}"
        parts.append(f'<circle cx="{frame.x(b["mean_predicted"]):.1f}" cy="{frame.y(b["share_human_a"]):.1f}" '
                     f'r="{radius:.1f}" fill="{PALETTE[0]}" fill-opacity="0.75"><title>{escape(tip)}</title></circle>')
    parts.append("</g>")
    if not shown:
        parts.append(f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle" fill="#666" '
                     f'font-size="13">no held-out comparisons with votes</text>')
    parts.append(_legend([diagonal, model], frame))
    parts.append("</svg>")
    return "".join(parts)
