from django.db.models import Exists, OuterRef

from webapp.guidelines.models import (
    Acknowledgement,
    GuidelineVersion,
    Quiz,
    QuizAttempt,
)


def current_version_with_ack(*, project_id: int, user) -> GuidelineVersion | None:
    """The project's current version, annotated for `user` (one query) with `acknowledged` and
    `quiz_pending` (the version has an onboarding quiz the user has not passed yet)."""
    acked = Acknowledgement.objects.filter(version=OuterRef("pk"), user=user)
    has_quiz = Quiz.objects.filter(version=OuterRef("pk"))
    passed = QuizAttempt.objects.filter(quiz__version=OuterRef("pk"), user=user, passed=True)
    return (
        GuidelineVersion.objects.filter(project_id=project_id)
        .annotate(acknowledged=Exists(acked), quiz_pending=Exists(has_quiz) & ~Exists(passed))
        .order_by("-number")
        .first()
    )
