from webapp.accounts.models import Role
from webapp.core import sql
from webapp.core.errors import Forbidden, NotFound
from webapp.projects.models import Project


def role_of(user) -> str:
    profile = getattr(user, "profile", None)
    if profile is None:
        return Role.ADMIN if user.is_superuser else Role.RATER
    return profile.role


def projects_visible_to(user):
    if role_of(user) == Role.ADMIN:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user)


# Raw SQL: every next-task call passes here (webapp/core/sql.py says why).
_PROJECT_FOR_MEMBER = f"""
    SELECT {sql.model_columns(Project, "p")} FROM projects_project p
    WHERE p.slug = %s
      AND (%s OR EXISTS (SELECT 1 FROM projects_membership m WHERE m.project_id = p.id AND m.user_id = %s))"""


def project_for_member(*, slug: str, user) -> Project:
    """The project if `user` belongs to it (admins belong everywhere); 404 otherwise, so
    outsiders cannot even learn which slugs exist."""
    row = sql.one(_PROJECT_FOR_MEMBER, [slug, role_of(user) == Role.ADMIN, user.pk])
    if row is None:
        raise NotFound(f"no project {slug!r} of yours")
    return sql.model_instance(Project, row)


def project_for_lead(*, slug: str, user) -> Project:
    project = project_for_member(slug=slug, user=user)
    if role_of(user) not in (Role.LEAD, Role.ADMIN):
        raise Forbidden("only data leads and admins can do this")
    return project
