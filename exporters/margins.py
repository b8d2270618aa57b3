"""Strength -> margin for TRL's RewardTrainer (loss = -logsigmoid(r_chosen - r_rejected - margin)).

Defaults follow Llama 2's "small margin" recipe, scaled to [0, 1]: the weakest "better" gets no
margin, the strongest gets 1.0. A judgment without a strength (binary scales, or imported without
one) gets 0.0, which is the plain Bradley-Terry loss. A request may pass its own mapping.
"""
from __future__ import annotations

from exporters.records import ExportError

# The strengths each scale asks for (webapp/projects/models.py SCALE_SPECS), weakest first.
SCALE_STRENGTHS: dict[str, tuple[int, ...]] = {
    "binary": (),
    "binary_tie": (),
    "four_level": (1, 2, 3, 4),   # negligibly / slightly / better / significantly better
    "seven_point": (1, 2, 3),     # slightly / better / much better, on either side of the middle tie
}

DEFAULT_MARGINS: dict[str, dict[int, float]] = {
    "binary": {},
    "binary_tie": {},
    "four_level": {1: 0.0, 2: 1 / 3, 3: 2 / 3, 4: 1.0},
    "seven_point": {1: 1 / 3, 2: 2 / 3, 3: 1.0},
}

NO_STRENGTH_MARGIN = 0.0


def resolve_margins(scale: str, margins: dict[int, float] | None) -> dict[int, float]:
    """The mapping an export uses: the request's own, checked against the scale, or the default."""
    if margins is None:
        return dict(DEFAULT_MARGINS[scale])
    missing = [s for s in SCALE_STRENGTHS[scale] if s not in margins]
    if missing:
        raise ExportError(f"margins must give a margin for every strength of the {scale} scale; "
                          f"missing {missing}", field="margins")
    return {int(k): float(v) for k, v in sorted(margins.items())}


def margin_for(strength: int | None, mapping: dict[int, float], judgment_id: int, scale: str) -> float:
    if strength is None or not mapping:  # a strengthless scale ignores a strength an import carried
        return NO_STRENGTH_MARGIN
    try:
        return mapping[strength]
    except KeyError:
        raise ExportError(f"judgment {judgment_id} has strength {strength}, which the {scale} scale's "
                          f"margin mapping does not cover ({sorted(mapping) or 'no strengths'})",
                          field="margins") from None
