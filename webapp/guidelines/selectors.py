from webapp.guidelines import sql as guideline_sql
from webapp.guidelines.models import GuidelineVersion


def current_version_with_ack(*, project_id: int, user) -> GuidelineVersion | None:
    """The project's current version, annotated for `user` (one query) with `acknowledged` and
    `quiz_pending` (the version has an onboarding quiz the user has not passed yet)."""
    return guideline_sql.current_version_for_user(project_id=project_id, user_id=user.pk)
