"""Queries over many comparisons and judgments (reads only)."""
from dataclasses import dataclass

import datetime as dt

from django.db.models import Count, Exists, F, Max, OuterRef, Q

from webapp.comparisons.models import Assignment, Comparison, Judgment


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
        Judgment.objects.filter(superseded_by__isnull=True, repeat=False)  # corrections replace what they supersede
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


def project_progress(project, *, now: dt.datetime) -> dict:
    """Counts for the lead page: comparisons in all, started, complete (k judgments), rounds, the share
    complete in percent, and the judgments submitted since midnight UTC of `now`."""
    totals = Comparison.objects.filter(project=project).aggregate(
        total=Count("id"), complete=Count("id", filter=Q(judged__gte=project.overlap)),
        started=Count("id", filter=Q(judged__gt=0)), rounds=Max("round"),
    )
    totals["percent"] = round(100 * totals["complete"] / totals["total"]) if totals["total"] else 0
    totals["judgments_today"] = Judgment.objects.filter(
        comparison__project=project, submitted_at__gte=start_of_day(now)).count()
    return totals


# The task page asks after every judgment; past this many open pairs it says "1000+" instead of counting
# them all, so a huge project costs each rater a bounded query.
REMAINING_CAP = 1000


def rater_progress(*, project, rater, now: dt.datetime) -> dict:
    """What the task page shows a rater: pairs judged today (UTC) and in all, and how many more they
    could be served now: open pairs they have not had in their round, plus their live lease
    (`remaining`, counted up to REMAINING_CAP; `remaining_text` says "1000+" beyond)."""
    judged = Assignment.objects.filter(project=project, rater=rater, status=Assignment.Status.SUBMITTED).aggregate(
        total=Count("id"), today=Count("id", filter=Q(finished_at__gte=start_of_day(now))))
    # The same candidates assignment_next picks from: a free slot, and no assignment of theirs in this round.
    had = Assignment.objects.filter(rater=rater, comparison=OuterRef("pk"), round=OuterRef("round"),
                                    repeat_of__isnull=True)  # as the serving query: the partial unique index
    open_pairs = (Comparison.objects.filter(project=project, taken__lt=project.overlap).exclude(Exists(had))
                  .order_by()[:REMAINING_CAP + 1].count())
    leased = Assignment.objects.filter(project=project, rater=rater, status=Assignment.Status.LEASED,
                                       expires_at__gt=now).count()
    remaining = min(open_pairs + leased, REMAINING_CAP)
    text = f"{REMAINING_CAP}+" if open_pairs > REMAINING_CAP else str(remaining)
    return {"today": judged["today"], "total": judged["total"], "remaining": remaining, "remaining_text": text}


def start_of_day(moment: dt.datetime) -> dt.datetime:
    """Midnight UTC of the day `moment` falls in (the app's clock and pages are in UTC)."""
    return moment.astimezone(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
