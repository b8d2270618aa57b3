"""/api/v1/projects: the caller's projects."""
from ninja import Router, Schema

from webapp.core.api import error_responses
from webapp.projects.selectors import projects_visible_to, role_of

router = Router(tags=["projects"])


class ProjectOut(Schema):
    slug: str
    name: str
    overlap: int
    scale: str


class ProjectListOut(Schema):
    projects: list[ProjectOut]
    role: str


@router.get("/projects", response={200: ProjectListOut, **error_responses(401)}, operation_id="projectList",
            summary="Projects visible to the caller, and the caller's role")
def project_list(request):
    user = request.auth
    return {"projects": [
        {"slug": p.slug, "name": p.name, "overlap": p.overlap, "scale": p.scale}
        for p in projects_visible_to(user).order_by("slug")
    ], "role": role_of(user)}
