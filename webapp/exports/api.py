"""JSON API for exports: POST /api/v1/projects/{slug}/exports (the names of the command's flags)."""
from typing import Literal

from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from webapp.exports import services
from webapp.projects.selectors import project_for_lead
from webapp.core.api import SlugPath, error_responses
from webapp.runs.api import JobOut, job_payload

router = Router(tags=["exports"])


class ExportIn(Schema):
    model_config = ConfigDict(extra="forbid")

    format: Literal["trl-standard", "trl-conversational", "trl-implicit", "raw"]
    aggregate: Literal["none", "majority", "dawid-skene"] = "none"
    ties: Literal["drop", "keep"] = "drop"
    file_format: Literal["jsonl", "parquet", "hf"] = "jsonl"
    test_fraction: float = 0.0
    seed: int = 0
    margins: dict[int, float] | None = None
    origin: list[Literal["here", "import", "external"]] | None = None
    guideline_versions: list[int] | None = None
    since: str | None = None
    until: str | None = None
    exclude_raters: list[str] | None = None
    min_judgments: int | None = None
    gold: Literal["any", "with", "without"] | None = None
    quiz: Literal["any", "with", "without"] | None = None
    rounds: Literal["current", "all"] | None = None
    probes: Literal["any", "with", "without"] | None = None
    repeats: Literal["any", "with", "without"] | None = Field(
        None, description="judgments made on consistency re-serves: without (the default), any, or only those")


@router.post("/projects/{slug}/exports", response={202: JobOut, **error_responses(403, 404)},
             summary="Request an export; it runs as a job (poll GET /api/v1/jobs/{id})")
def export_create(request, slug: SlugPath, payload: ExportIn):
    project = project_for_lead(slug=slug, user=request.auth)
    values = payload.model_dump(exclude_none=True)
    job = services.export_request(project=project, actor=request.auth, values=values)
    return Status(202, job_payload(job))
