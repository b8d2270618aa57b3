from webapp.guidelines.models import (
    GuidelineVersion,
)

# Raw SQL: every next-task call passes here (webapp/core/sql.py says why).
_CURRENT_VERSION_FOR_USER = """
    SELECT gv.*,
      EXISTS (SELECT 1 FROM guidelines_acknowledgement a WHERE a.version_id = gv.id AND a.user_id = %s) AS acknowledged,
      (EXISTS (SELECT 1 FROM guidelines_quiz q WHERE q.version_id = gv.id)
       AND NOT EXISTS (SELECT 1 FROM guidelines_quizattempt qa JOIN guidelines_quiz q ON q.id = qa.quiz_id
                       WHERE q.version_id = gv.id AND qa.user_id = %s AND qa.passed)) AS quiz_pending
    FROM guidelines_guidelineversion gv
    WHERE gv.project_id = %s
    ORDER BY gv.number DESC LIMIT 1"""


def current_version_with_ack(*, project_id: int, user) -> GuidelineVersion | None:
    """The project's current version, annotated for `user` (one query) with `acknowledged` and
    `quiz_pending` (the version has an onboarding quiz the user has not passed yet)."""
    found = list(GuidelineVersion.objects.raw(_CURRENT_VERSION_FOR_USER, [user.pk, user.pk, project_id]))
    if not found:
        return None
    version = found[0]
    version.acknowledged, version.quiz_pending = bool(version.acknowledged), bool(version.quiz_pending)
    return version
