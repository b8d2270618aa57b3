"""A project's rater-data diagnostics report: prefkit.diagnostics over a selection, with the
breakdowns by origin and by guideline version, as one JSON-ready dict (and its CSV form)."""
import csv
import io
from collections.abc import Callable
from dataclasses import asdict

import numpy as np

from prefkit import diagnostics as dg
from webapp.diagnostics import selectors

REPORT_VERSION = 2  # 2: intra_rater from consistency re-serves, an object of figures
FIGURE_KEYS = ("value", "ci_low", "ci_high", "n")


def _breakdown(data: dg.RaterData, n_resamples: int, seed: int) -> dict:
    kw = {"n_resamples": n_resamples, "seed": seed}
    n_r = data.n_raters
    pos = dg.position_bias(data.unit, data.rater, data.choice, data.left_is_a, n_r, **kw)
    length = dg.length_bias(data.unit, data.rater, data.choice, data.len_a, data.len_b, n_r, **kw)
    syc = dg.sycophancy_rates(data.unit, data.rater, data.choice, data.syc_side, data.syc_suite,
                              data.suite_names, n_r, **kw)
    return {"n_judgments": int(len(data.unit)), "agreement": dg.agreement_block(data, **kw),
            "position_bias": {"overall_p_left": pos["overall_p_left"]},
            "length_bias": {"overall_p_longer": length["overall_p_longer"]},
            "sycophancy": {name: {"rate": s["rate"]} for name, s in syc.items()}}


def build(project, selection: selectors.Selection, *, thresholds: dg.Thresholds | None = None,
          n_resamples: int = 1000, seed: int = 0, progress: Callable[[str], None] | None = None) -> dict:
    """Everything the page, the CSV and `manage.py diagnostics --json` show, computed once."""
    step = progress or (lambda _message: None)
    thresholds = thresholds or dg.Thresholds()
    step("reading judgments")
    loaded = selectors.load(project, selection)
    report = {"report_version": REPORT_VERSION, "project": project.slug, "selection": selection.as_dict(),
              "thresholds": asdict(thresholds), "n_resamples": n_resamples, "seed": seed}
    report.update(dg.rater_diagnostics(loaded.data, repeats=loaded.repeats, thresholds=thresholds,
                                       n_resamples=n_resamples, seed=seed, progress=step))
    intra = report["intra_rater"]
    intra["by_guideline_version"] = {_version_label(v): block for v, block in intra["by_guideline_version"].items()}
    step("breakdown by origin")
    report["by_origin"] = {
        origin: _breakdown(loaded.data.subset(loaded.origin == code), n_resamples, seed)
        for code, origin in enumerate(selectors.ORIGINS) if (loaded.origin == code).any()
    }
    step("breakdown by guideline version")
    report["by_guideline_version"] = {
        _version_label(v): _breakdown(loaded.data.subset(loaded.guideline == v), n_resamples, seed)
        for v in np.unique(loaded.guideline)
    }
    return report


def _version_label(number: int) -> str:
    return f"v{number}" if number else "unknown"


def flag_raters(report: dict, thresholds: dg.Thresholds) -> list[dict]:
    """The report's per-rater rows, flagged by `thresholds` (the project's saved ones, which may have
    changed since the report was computed). The "too fast" shares stay the report's: they count
    judgments under the too_fast_ms the report was computed with."""
    return [dict(row, flags=dg.rater_flags(row, thresholds)) for row in report["raters"]]


def figures(report: dict, prefix: str = ""):
    """Every {value, ci_low, ci_high, n} in the report as (path, figure), in report order."""
    if isinstance(report, dict):
        if all(k in report for k in FIGURE_KEYS):
            yield prefix, report
            return
        for key, value in report.items():
            yield from figures(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(report, list):
        for i, item in enumerate(report):
            name = item.get("rater") if isinstance(item, dict) and "rater" in item else (
                f"{item['rater_1']}~{item['rater_2']}" if isinstance(item, dict) and "rater_1" in item else str(i))
            yield from figures(item, f"{prefix}[{name}]")


def to_csv(report: dict) -> str:
    """One row per figure: metric path, value, interval, n (and the binomial p-value where there is one)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["metric", "value", "ci_low", "ci_high", "n", "p_value"])
    for path, fig in figures(report):
        writer.writerow([path, *("" if fig.get(k) is None else fig[k] for k in FIGURE_KEYS),
                         "" if fig.get("p_value") is None else fig["p_value"]])
    return buffer.getvalue()
