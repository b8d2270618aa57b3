"""/api/v1/projects/{slug}/guideline: read and acknowledge the current guideline version."""
from typing import Annotated

from ninja import Field, Router, Schema
from pydantic import StrictInt

from webapp.core.api import INT64_MAX, SlugPath, error_responses
from webapp.core.errors import NotFound
from webapp.guidelines import services
from webapp.guidelines.selectors import current_version_with_ack
from webapp.projects.selectors import project_for_member

router = Router(tags=["guidelines"])


class GuidelineOut(Schema):
    project: str
    version: int
    sha256: str
    markdown: str
    change_note: str
    published_at: str = Field(json_schema_extra={"format": "date-time"})
    acknowledged: bool


class AcknowledgeIn(Schema):
    version: Annotated[StrictInt, Field(ge=1, le=INT64_MAX, description="the version number you read")]


class AcknowledgeOut(Schema):
    project: str
    version: int
    acknowledged_at: str = Field(json_schema_extra={"format": "date-time"})


@router.get("/projects/{slug:slug}/guideline", response={200: GuidelineOut, **error_responses(401, 404)},
            operation_id="guidelineCurrent", summary="The project's current guideline version",
            description="404: unknown project, not a member, or no guideline published yet.")
def guideline_current(request, slug: SlugPath):
    user = request.auth
    project = project_for_member(slug=slug, user=user)
    version = current_version_with_ack(project_id=project.pk, user=user)
    if version is None:
        raise NotFound("this project has no published guideline yet")
    return {
        "project": project.slug, "version": version.number, "sha256": version.sha256,
        "markdown": version.body_md, "change_note": version.change_note,
        "published_at": version.published_at.isoformat(), "acknowledged": version.acknowledged,
    }


@router.post("/projects/{slug:slug}/guideline/acknowledge",
             response={200: AcknowledgeOut, **error_responses(400, 401, 403, 404, 409, 413)},
             operation_id="guidelineAcknowledge", summary="Acknowledge the current guideline version",
             description="409 when that version is not the current one.")
def guideline_acknowledge(request, slug: SlugPath, payload: AcknowledgeIn):
    user = request.auth
    project = project_for_member(slug=slug, user=user)
    ack = services.guideline_acknowledge(user=user, project=project, number=payload.version)
    return {"project": project.slug, "version": payload.version, "acknowledged_at": ack.at.isoformat()}
