"""The value rows an export reads and the `exporters` records made of them: one definition for
the ORM path (selectors) and the PostgreSQL path (sql)."""
from exporters import ComparisonRecord, JudgmentRecord
from webapp.accounts.services import pseudonym_for

JUDGMENT_FIELDS = ("id", "comparison_id", "rater_id", "rater_pseudonym", "guideline_version__number",
                    "guideline_version__sha256", "choice", "strength", "display_order", "active_ms", "served_iso",
                    "submitted_iso", "flags", "made_in_round", "origin", "repeat")
# In ComparisonRecord's field order, so a row becomes a record in one call.
COMPARISON_FIELDS = ("id", "prompt_id", "prompt__messages", "response_a__text", "response_b__text",
                     "response_a__model_name", "response_b__model_name", "gold", "is_quiz", "prompt__source", "round")


def judgment_record(row) -> JudgmentRecord:
    """A JUDGMENT_FIELDS row as the exporters' record."""
    (judgment_id, comparison_id, rater_id, pseudonym, version, sha256, choice, strength, display_order, active_ms, served_at,
     submitted_at, flags, round_, origin, repeat) = row
    return JudgmentRecord(
        judgment_id=judgment_id, comparison_id=comparison_id, rater=pseudonym or pseudonym_for(f"user:{rater_id}"), origin=origin,
        guideline_version=version, guideline_sha256=sha256, choice=choice, strength=strength,
        display_order=display_order or None, active_ms=active_ms, served_at=served_at,
        submitted_at=submitted_at, flags=tuple(flags or ()), round=round_, repeat=repeat,
    )


comparison_record = ComparisonRecord._make  # a COMPARISON_FIELDS row as the exporters' record
