"""Synthetic raters with known habits, judging a project's comparisons through the same services
as people (assignment_next, judgment_submit), so the diagnostics can be checked against effects
that were planted.

A simulated rater decides each task in this order:
1. a sycophancy probe (comparison.metadata["probe"]): the sycophantic response with probability
   `sycophancy`, else the other one;
2. with probability `left_rate`, the response shown on the left, whatever it says (a reflex);
3. else with probability `longer_rate`, the longer response;
4. else the comparison's true answer with probability `accuracy`, else the other one.
The true answer is the comparison's gold when it has one, else a coin flip fixed per comparison
(the same for every simulated rater). Because the display order is random and independent of the
truth and the lengths, the expected share of "left" is 1/2 + left_rate / 2, and likewise for
longer; with no reflex both are 1/2.

A pair served again (a consistency re-serve: the service gives no hint, the rater remembers its
own earlier answer the way a person might): with `consistency` set, the rater gives its earlier
canonical answer again with that probability, else the other side (a tie becomes a side), so its
expected agreement with itself is exactly `consistency`. Unset, it decides afresh by the steps
above, so its agreement with itself follows from its other habits (accuracy p and no reflex:
p^2 + (1 - p)^2; always "left": 0, since the sides are swapped).
"""
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from webapp.accounts.models import Role
from webapp.accounts.services import user_create
from webapp.comparisons.models import Comparison
from webapp.comparisons.services import assignment_next, judgment_submit
from webapp.core.errors import ValidationFailed
from webapp.guidelines.models import GuidelineVersion
from webapp.guidelines.services import guideline_acknowledge
from webapp.diagnostics.selectors import PROBE_KEY
from webapp.projects.services import membership_add


@dataclass(frozen=True)
class RaterHabits:
    accuracy: float = 0.8
    left_rate: float = 0.0
    longer_rate: float = 0.0
    sycophancy: float = 0.0
    tie_rate: float = 0.0           # only on scales that allow a tie
    active_ms: int = 8000           # median time on task
    consistency: float | None = None  # on a pair served again: P(same answer as before); None: decide afresh

    def check(self) -> None:
        for name in ("accuracy", "left_rate", "longer_rate", "sycophancy", "tie_rate", "consistency"):
            value = getattr(self, name)
            if value is None:
                continue
            if not 0.0 <= value <= 1.0:
                raise ValidationFailed(f"{name} must be between 0 and 1; got {value}", field=name)
        if self.active_ms < 0:
            raise ValidationFailed("active_ms must be 0 or more", field="active_ms")


def _truth(comparison_id: int, gold: str, seed: int) -> str:
    if gold in ("a", "b"):
        return gold
    digest = hashlib.sha256(f"{seed}:{comparison_id}".encode()).digest()
    return "a" if digest[0] % 2 == 0 else "b"


def decide(assignment, habits: RaterHabits, rng: random.Random, *, seed: int, allows_tie: bool,
           known: dict[int, tuple[str, dict]], earlier: str | None = None) -> str:
    """The displayed choice ("left" | "right" | "tie") a rater with these habits makes.

    `known` maps comparison id to (gold, metadata): what the serving path does not load (a person
    never sees the gold either; the simulation needs it to know the truth and the probes).
    `earlier`: the rater's own earlier canonical answer on this pair ("a" | "b" | "tie"), if any."""
    comparison = assignment.comparison
    gold, metadata = known.get(comparison.pk, ("", {}))
    left_is_a = assignment.left_is_a
    side_of = {"a": "left" if left_is_a else "right", "b": "right" if left_is_a else "left", "tie": "tie"}
    other = {"a": "b", "b": "a"}
    if earlier is not None and habits.consistency is not None:
        if rng.random() < habits.consistency:
            return side_of[earlier]
        return side_of[other[earlier]] if earlier in other else side_of[rng.choice("ab")]
    probe = metadata.get(PROBE_KEY) if isinstance(metadata, dict) else None
    if isinstance(probe, dict) and probe.get("sycophantic") in ("a", "b"):
        syc = probe["sycophantic"]
        return side_of[syc if rng.random() < habits.sycophancy else other[syc]]
    if allows_tie and rng.random() < habits.tie_rate:
        return "tie"
    if rng.random() < habits.left_rate:
        return "left"
    if rng.random() < habits.longer_rate:
        len_a, len_b = len(comparison.response_a.text), len(comparison.response_b.text)
        if len_a != len_b:
            return side_of["a" if len_a > len_b else "b"]
    truth = _truth(comparison.pk, gold, seed)
    return side_of[truth if rng.random() < habits.accuracy else other[truth]]


def simulate_raters(*, project, count: int, habits: RaterHabits, seed: int = 0, prefix: str = "sim",
                    actor=None, max_per_rater: int | None = None,
                    progress: Callable[[int], None] | None = None) -> dict:
    """Create `count` rater accounts with these habits and let them judge until the project's
    queue has nothing left for them (or max_per_rater each). Returns {pseudonyms, judgments}."""
    habits.check()
    if count < 1:
        raise ValidationFailed("count must be at least 1", field="count")
    version = GuidelineVersion.objects.current_for(project)
    if version is None:
        raise ValidationFailed("the project has no published guideline: publish one before simulating raters",
                               field="project")
    raters = []
    with transaction.atomic():
        for i in range(count):
            user = user_create(username=f"{prefix}-{project.slug}-{seed}-{i}", role=Role.RATER, actor=actor)
            membership_add(project=project, user=user, actor=actor)
            guideline_acknowledge(user=user, project=project, number=version.number)
            raters.append(user)
    known = {cid: (gold, meta) for cid, gold, meta in
             Comparison.objects.filter(project=project).values_list("id", "gold", "metadata")}
    spec = project.scale_spec
    strengths = [value for value, _ in spec.strengths]
    rng = random.Random(seed)
    answered: dict[tuple[int, int], str] = {}  # (rater, comparison) -> canonical answer: each rater's memory
    done = {r.pk: 0 for r in raters}
    active = list(raters)
    total = 0
    while active:
        for rater in list(active):
            assignment = assignment_next(project=project, rater=rater)
            if assignment is None or (max_per_rater is not None and done[rater.pk] >= max_per_rater):
                active.remove(rater)
                continue
            remembered = (rater.pk, assignment.comparison.pk)
            choice = decide(assignment, habits, rng, seed=seed, allows_tie=spec.allows_tie, known=known,
                            earlier=answered.get(remembered))
            judgment, _ = judgment_submit(
                assignment_id=assignment.pk, rater=rater, choice=choice,
                strength=rng.choice(strengths) if strengths and choice in ("left", "right") else None,
                active_ms=max(0, int(rng.lognormvariate(0, 0.5) * habits.active_ms)),
                idempotency_key=f"simulated-{assignment.pk}",
            )
            answered.setdefault(remembered, judgment.choice)  # the first answer is the one a re-serve repeats
            done[rater.pk] += 1
            total += 1
            if progress and total % 100 == 0:
                progress(total)
    return {"pseudonyms": [r.profile.pseudonym for r in raters], "judgments": total}
