from webapp.accounts.api_auth import api_view, json_body
from webapp.core.errors import NotFound, ValidationFailed
from webapp.guidelines import services
from webapp.guidelines.selectors import current_version_with_ack
from webapp.projects.selectors import project_for_member


@api_view(("GET",))
def guideline_current(request, user, slug):
    project = project_for_member(slug=slug, user=user)
    version = current_version_with_ack(project_id=project.pk, user=user)
    if version is None:
        raise NotFound("this project has no published guideline yet")
    return {
        "project": project.slug, "version": version.number, "sha256": version.sha256,
        "markdown": version.body_md, "change_note": version.change_note,
        "published_at": version.published_at.isoformat(), "acknowledged": version.acknowledged,
    }


@api_view(("POST",))
def guideline_acknowledge(request, user, slug):
    project = project_for_member(slug=slug, user=user)
    number = json_body(request).get("version")
    if not isinstance(number, int) or isinstance(number, bool):
        raise ValidationFailed("send the version number you read, e.g. {\"version\": 2}", field="version")
    ack = services.guideline_acknowledge(user=user, project=project, number=number)
    return {"project": project.slug, "version": number, "acknowledged_at": ack.at.isoformat()}
