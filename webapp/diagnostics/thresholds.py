"""A project's rater-quality thresholds (prefkit.diagnostics.Thresholds): read from the form, the
saved row, a job's params or command options, checked field by field, and the saved ones read back.
Saving is services.thresholds_save (audited)."""
import math
from dataclasses import asdict

from prefkit import diagnostics as dg
from webapp.core.errors import ValidationFailed
from webapp.diagnostics.models import RaterThresholds

# What each threshold may be: (lowest, highest, what it is, in words for the error).
THRESHOLD_RANGES = {
    "min_loo_agreement": (0.0, 1.0, "a share between 0 and 1"),
    "min_gold_accuracy": (0.0, 1.0, "a share between 0 and 1"),
    "max_too_fast_share": (0.0, 1.0, "a share between 0 and 1"),
    "max_position_bias": (0.5, 1.0, "a share between 0.5 (flag any lean) and 1 (never flag)"),
    "too_fast_ms": (0.0, 3_600_000.0, "milliseconds between 0 and 3600000"),
    "min_judgments": (1, 1_000_000, "a whole number of judgments, 1 or more"),
    "min_self_agreement": (0.0, 1.0, "a share between 0 and 1"),
}


def thresholds_from(values: dict) -> dg.Thresholds:
    """The lead's thresholds from a form, saved values, job params or command options (defaults
    for the rest); a value of the wrong type or out of range is refused naming its field."""
    defaults = asdict(dg.Thresholds())
    out = {}
    for name, default in defaults.items():
        raw = values.get(name)
        if raw in (None, ""):
            out[name] = default
            continue
        low, high, words = THRESHOLD_RANGES[name]
        try:
            value = type(default)(raw)
        except (TypeError, ValueError):
            raise ValidationFailed(f"{name} must be {words}; got {raw!r}", field=name) from None
        if not (math.isfinite(value) and low <= value <= high):
            raise ValidationFailed(f"{name} must be {words}; got {raw!r}", field=name)
        out[name] = value
    return dg.Thresholds(**out)


def saved_thresholds(project) -> dg.Thresholds:
    """The project's saved thresholds (services.thresholds_save), else the defaults."""
    saved = RaterThresholds.objects.filter(project=project).values_list("values", flat=True).first()
    return thresholds_from(saved or {})
