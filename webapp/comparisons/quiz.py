"""Onboarding quizzes: known-answer comparisons a rater must get right before real tasks."""
import random
from dataclasses import dataclass

from django.db import transaction

from webapp.audit.services import audit_record
from webapp.comparisons.models import Comparison
from webapp.comparisons.services import canonical_choice
from webapp.core import clock
from webapp.core.errors import Conflict, ValidationFailed
from webapp.guidelines.models import Quiz, QuizAttempt, QuizItem

MAX_ITEMS = 50


@transaction.atomic
def quiz_set(*, version, comparison_ids: list[int], threshold: float, actor) -> Quiz:
    """Attach a quiz to a guideline version. Fixed once set, like the version itself."""
    if Quiz.objects.filter(version=version).exists():
        raise Conflict(f"guideline v{version.number} already has a quiz; publish a new version to change it")
    if not 0 < threshold <= 1:
        raise ValidationFailed("threshold is the fraction to get right: more than 0, at most 1", field="threshold")
    ids = list(dict.fromkeys(comparison_ids))
    if not 1 <= len(ids) <= MAX_ITEMS:
        raise ValidationFailed(f"a quiz has 1 to {MAX_ITEMS} comparisons", field="comparisons")
    found = {c.pk: c for c in Comparison.objects.filter(pk__in=ids, project_id=version.project_id)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationFailed(f"comparisons {missing} are not in this project", field="comparisons")
    no_gold = [i for i in ids if not found[i].gold]
    if no_gold:
        raise ValidationFailed(f"comparisons {no_gold} have no known answer (gold)", field="comparisons")
    quiz = Quiz.objects.create(version=version, threshold=threshold, created_by=actor, created_at=clock.now())
    QuizItem.objects.bulk_create([QuizItem(quiz=quiz, comparison_id=i, position=n) for n, i in enumerate(ids)])
    audit_record(actor=actor, action="quiz.set", obj=quiz, project_id=version.project_id,
                 payload={"version": version.number, "comparison_ids": ids, "threshold": threshold})
    return quiz


@dataclass(frozen=True)
class QuizQuestion:
    comparison: Comparison
    left_is_a: bool

    @property
    def left(self):
        return self.comparison.response_a if self.left_is_a else self.comparison.response_b

    @property
    def right(self):
        return self.comparison.response_b if self.left_is_a else self.comparison.response_a


def quiz_questions(*, quiz: Quiz, user) -> list[QuizQuestion]:
    """The items as `user` sees them: the side order is stable per user, so a reload shows the same page."""
    items = quiz.items.select_related("comparison__prompt", "comparison__response_a", "comparison__response_b")
    return [
        QuizQuestion(item.comparison, random.Random(f"{quiz.pk}:{user.pk}:{item.comparison_id}").random() < 0.5)
        for item in items
    ]


@transaction.atomic
def quiz_attempt_submit(*, quiz: Quiz, user, answers: dict[int, str]) -> QuizAttempt:
    """Grade one attempt against the known answers and record it."""
    graded = []
    for question in quiz_questions(quiz=quiz, user=user):
        displayed = answers.get(question.comparison.pk)
        if displayed not in ("left", "right", "tie"):
            raise ValidationFailed(f"answer every question (comparison {question.comparison.pk} has no answer)",
                                   field=f"answer_{question.comparison.pk}")
        choice = canonical_choice(displayed, question.left_is_a)
        graded.append({"comparison_id": question.comparison.pk, "displayed": displayed, "choice": choice,
                       "gold": question.comparison.gold, "correct": choice == question.comparison.gold})
    score = sum(g["correct"] for g in graded) / len(graded)
    attempt = QuizAttempt.objects.create(quiz=quiz, user=user, answers=graded, score=score,
                                         passed=score >= quiz.threshold, submitted_at=clock.now())
    audit_record(actor=user, action="quiz.attempted", obj=attempt, project_id=quiz.version.project_id,
                 payload={"version": quiz.version.number, "score": score, "passed": attempt.passed})
    return attempt
