"""Hand-written SQL of the projects app: the membership check every rater call makes (why: webapp/core/sql.py)."""
from webapp.core import sql
from webapp.projects.models import Project

_PROJECT_FOR_MEMBER = f"""
    SELECT {sql.model_columns(Project, "p")} FROM projects_project p
    WHERE p.slug = %s
      AND (%s OR EXISTS (SELECT 1 FROM projects_membership m WHERE m.project_id = p.id AND m.user_id = %s))"""


def project_for_member(*, slug: str, user_id: int, is_admin: bool) -> Project | None:
    row = sql.one(_PROJECT_FOR_MEMBER, [slug, is_admin, user_id])
    return None if row is None else sql.model_instance(Project, row)
