"""Hand-written SQL of the guidelines app: the gate every next-task call passes (why: webapp/core/sql.py)."""
from webapp.core import sql
from webapp.guidelines.models import GuidelineVersion

# The gating rule, as SQL that other hot-path queries may wrap (comparisons' next-task gate does):
# a project's current version (id, number, sha256) with, for one user, whether they acknowledged
# it and whether an onboarding quiz on it still waits for them. Params: current_version_status_params().
CURRENT_VERSION_STATUS_SQL = """
    SELECT gv.id, gv.number, gv.sha256,
      EXISTS (SELECT 1 FROM guidelines_acknowledgement a WHERE a.version_id = gv.id AND a.user_id = %s) AS acknowledged,
      (EXISTS (SELECT 1 FROM guidelines_quiz q WHERE q.version_id = gv.id)
       AND NOT EXISTS (SELECT 1 FROM guidelines_quizattempt qa JOIN guidelines_quiz q ON q.id = qa.quiz_id
                       WHERE q.version_id = gv.id AND qa.user_id = %s AND qa.passed)) AS quiz_pending
    FROM guidelines_guidelineversion gv
    WHERE gv.project_id = %s
    ORDER BY gv.number DESC LIMIT 1"""

_CURRENT_VERSION_FOR_USER = f"""
    SELECT {sql.model_columns(GuidelineVersion, "gv")}, s.acknowledged, s.quiz_pending
    FROM ({CURRENT_VERSION_STATUS_SQL}) s JOIN guidelines_guidelineversion gv ON gv.id = s.id"""


def current_version_status_params(*, user_id: int, project_id: int) -> list:
    return [user_id, user_id, project_id]


def current_version_for_user(*, project_id: int, user_id: int) -> GuidelineVersion | None:
    """The project's current version with `acknowledged` and `quiz_pending` set for the user."""
    row = sql.one(_CURRENT_VERSION_FOR_USER, current_version_status_params(user_id=user_id, project_id=project_id))
    if row is None:
        return None
    # model_columns lead the row in field order (what model_instance reads); the two flags follow.
    version = sql.model_instance(GuidelineVersion, row)
    version.acknowledged, version.quiz_pending = bool(row[-2]), bool(row[-1])
    return version
