"""Queries over many comparisons and judgments (reads only)."""
from dataclasses import dataclass

from django.db.models import Count, F, Max, Q

from webapp.comparisons.models import Comparison, Judgment


@dataclass(frozen=True)
class RequeueCandidate:
    comparison_id: int
    round: int
    versions: tuple[int, ...]      # guideline version numbers its current-round judgments were made under
    choices: tuple[str, ...]       # their canonical choices
    disagree: bool


def requeue_candidates(*, project, current_version_number: int, disagreeing_only: bool = False) -> list[RequeueCandidate]:
    """Comparisons whose current-round judgments include some made under an older guideline version."""
    rows = (
        Judgment.objects.filter(superseded_by__isnull=True)  # corrections replace what they supersede
        .filter(comparison__project=project, assignment__round=F("comparison__round"))
        .values("comparison_id", "comparison__round", "guideline_version__number", "choice")
        .order_by("comparison_id", "id")
    )
    grouped: dict[int, dict] = {}
    for row in rows:
        entry = grouped.setdefault(row["comparison_id"], {"round": row["comparison__round"], "versions": [], "choices": []})
        entry["versions"].append(row["guideline_version__number"])
        entry["choices"].append(row["choice"])
    candidates = [
        RequeueCandidate(cid, e["round"], tuple(e["versions"]), tuple(e["choices"]), len(set(e["choices"])) > 1)
        for cid, e in grouped.items()
        if min(e["versions"]) < current_version_number
    ]
    return [c for c in candidates if c.disagree] if disagreeing_only else candidates


def project_progress(project) -> dict:
    """Counts for the lead page: comparisons in all, started, complete (k judgments), rounds."""
    return Comparison.objects.filter(project=project).aggregate(
        total=Count("id"), complete=Count("id", filter=Q(judged__gte=project.overlap)),
        started=Count("id", filter=Q(judged__gt=0)), rounds=Max("round"),
    )
