"""The value rows an export reads and the `exporters` records made of them: one definition for
the ORM path (selectors) and the PostgreSQL path (sql)."""
from exporters import ComparisonRecord, JudgmentRecord
from webapp.accounts.services import pseudonym_for

JUDGMENT_FIELDS = ("id", "comparison_id", "rater_id", "rater_pseudonym", "guideline_version__number",
                    "guideline_version__sha256", "choice", "strength", "display_order", "active_ms", "served_iso",
                    "submitted_iso", "flags", "made_in_round", "origin")
COMPARISON_FIELDS = ("id", "prompt_id", "prompt__messages", "prompt__source", "response_a__text", "response_b__text",
                     "response_a__model_name", "response_b__model_name", "gold", "round", "is_quiz")


def judgment_record(row) -> JudgmentRecord:
    """A JUDGMENT_FIELDS row as the exporters' record."""
    (judgment_id, comparison_id, rater_id, pseudonym, version, sha256, choice, strength, display_order, active_ms, served_at,
     submitted_at, flags, round_, origin) = row
    return JudgmentRecord(
        judgment_id=judgment_id, comparison_id=comparison_id, rater=pseudonym or pseudonym_for(f"user:{rater_id}"), origin=origin,
        guideline_version=version, guideline_sha256=sha256, choice=choice, strength=strength,
        display_order=display_order or None, active_ms=active_ms, served_at=served_at,
        submitted_at=submitted_at, flags=tuple(flags or ()), round=round_,
    )


def comparison_record(row) -> ComparisonRecord:
    """A COMPARISON_FIELDS row as the exporters' record."""
    cid, prompt_id, messages, source, text_a, text_b, model_a, model_b, gold, round_, is_quiz = row
    return ComparisonRecord(
        comparison_id=cid, prompt_id=prompt_id, prompt_messages=messages, response_a=text_a, response_b=text_b,
        model_a=model_a, model_b=model_b, gold=gold, is_quiz=is_quiz, source=source, round=round_,
    )
