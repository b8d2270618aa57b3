from webapp.accounts.models import Role
from webapp.core.errors import Forbidden, NotFound
from webapp.projects import sql as project_sql
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


def project_for_member(*, slug: str, user) -> Project:
    """The project if `user` belongs to it (admins belong everywhere); 404 otherwise, so
    outsiders cannot even learn which slugs exist."""
    project = project_sql.project_for_member(slug=slug, user_id=user.pk, is_admin=role_of(user) == Role.ADMIN)
    if project is None:
        raise NotFound(f"no project {slug!r} of yours")
    return project


def project_for_lead(*, slug: str, user) -> Project:
    project = project_for_member(slug=slug, user=user)
    if role_of(user) not in (Role.LEAD, Role.ADMIN):
        raise Forbidden("only data leads and admins can do this")
    return project
