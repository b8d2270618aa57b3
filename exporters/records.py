"""The plain records the webapp hands to the exporters, and the export request.

This module is the contract between the web application (which selects judgments
with its filters and drops superseded ones) and the exporters (which aggregate,
format and write them). Nothing here imports Django.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

FORMATS = ("trl-standard", "trl-conversational", "trl-implicit", "raw")
AGGREGATIONS = ("none", "majority", "dawid-skene")
TIE_POLICIES = ("drop", "keep")
FILE_FORMATS = ("jsonl", "parquet", "hf")
SCALES = ("binary", "binary_tie", "four_level", "seven_point")
CHOICES = ("a", "b", "tie", "both_bad")
ORIGINS = ("here", "import", "external")


# The two records are NamedTuples, not dataclasses: an export makes one per judgment (a million for
# a large export), and a frozen dataclass's __init__ cost 1.4 us where a tuple costs 0.15-0.25 us.
# Immutable, named fields, `_replace` for a changed copy.
class ComparisonRecord(NamedTuple):
    comparison_id: int
    prompt_id: int
    prompt_messages: list[dict]      # [{"role": "user"|"assistant"|"system", "content": str}], ends with a user turn
    response_a: str
    response_b: str
    model_a: str                     # "" when unknown
    model_b: str
    gold: str                        # "", "a", "b" or "tie"
    is_quiz: bool
    source: str                      # prompt source ("" when unknown)
    round: int                       # the comparison's current round


class JudgmentRecord(NamedTuple):
    judgment_id: int
    comparison_id: int
    rater: str                       # stable pseudonymous id (external raters included); never a username
    origin: str                      # "here" | "import" | "external"
    guideline_version: int | None    # None when made elsewhere and unknown
    guideline_sha256: str | None
    choice: str                      # canonical: "a" | "b" | "tie" | "both_bad"
    strength: int | None
    display_order: str | None        # "AB" = A was shown on the left, "BA", None when unknown
    active_ms: int | None
    served_at: str | None            # ISO 8601 UTC
    submitted_at: str | None
    flags: tuple[str, ...]
    round: int                       # round the judgment was made in
    repeat: bool = False             # made on a consistency re-serve of the rater's own judged pair


class ExportError(ValueError):
    """A request or input the exporters cannot honour; `field` names the request field it is about."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class ExportRequest:
    format: str          # "trl-standard" | "trl-conversational" | "trl-implicit" | "raw"
    aggregate: str       # "none" | "majority" | "dawid-skene"
    ties: str            # "drop" | "keep"
    file_format: str     # "jsonl" | "parquet" | "hf"
    scale: str           # the project's strength scale: "binary" | "binary_tie" | "four_level" | "seven_point"
    margins: dict[int, float] | None = None   # strength -> margin; None = documented default for the scale
    test_fraction: float = 0.0
    seed: int = 0
    filters: dict = field(default_factory=dict)  # echoed into the manifest; selection itself is done by the webapp

    def validate(self) -> None:
        """Raise ExportError naming the first field that is not acceptable."""
        for name, allowed in (("format", FORMATS), ("aggregate", AGGREGATIONS), ("ties", TIE_POLICIES),
                              ("file_format", FILE_FORMATS), ("scale", SCALES)):
            value = getattr(self, name)
            if value not in allowed:
                raise ExportError(f"{name} must be one of {', '.join(allowed)}; got {value!r}", field=name)
        if self.format == "raw" and self.aggregate != "none":
            raise ExportError("the raw format has one row per judgment: use aggregate 'none'", field="aggregate")
        if not isinstance(self.test_fraction, (int, float)) or not 0.0 <= self.test_fraction < 1.0:
            raise ExportError(f"test_fraction must be in [0, 1); got {self.test_fraction!r}", field="test_fraction")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ExportError(f"seed must be an integer; got {self.seed!r}", field="seed")
        if self.margins is not None:
            if not isinstance(self.margins, dict):
                raise ExportError("margins must map strength (int) to margin (float)", field="margins")
            for key, value in self.margins.items():
                if isinstance(key, bool) or not isinstance(key, int):
                    raise ExportError(f"margins keys must be integer strengths; got {key!r}", field="margins")
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                    raise ExportError(f"margin for strength {key} must be a number; got {value!r}",
                                      field="margins")
