"""Export pages for data leads: the request form and an export's provenance."""
import json
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from webapp.core.errors import DomainError, NotFound, ValidationFailed
from webapp.core.views import domain_errors_as_pages
from webapp.exports import selectors, services
from webapp.guidelines.models import GuidelineVersion
from webapp.projects.selectors import project_for_lead
from webapp.runs.selectors import job_for_lead

FORM_FIELDS = services.REQUEST_FIELDS + selectors.FILTER_FIELDS
LIST_FIELDS = ("origin", "guideline_versions")  # checkboxes: several values


@login_required
@domain_errors_as_pages
def export_page(request, slug):
    project = project_for_lead(slug=slug, user=request.user)
    values, error, status = {}, None, 200
    if request.method == "POST":
        values = _form_values(request.POST)
        try:
            job = services.export_request(project=project, actor=request.user, values=values)
        except ValidationFailed as failure:
            error, status = failure, 400
        except DomainError as failure:
            error, status = failure, failure.status
        else:
            return redirect("job-detail", job_id=job.pk)
    return render(request, "exports/export_page.html", {
        "project": project, "values": values, "error": error,
        "versions": GuidelineVersion.objects.filter(project=project).order_by("number"),
        "origins": selectors.ORIGINS, "include_choices": selectors.INCLUDE_CHOICES, "rounds": selectors.ROUNDS,
        "recent": project.jobs.filter(kind=services.EXPORT_JOB_KIND)[:10],
    }, status=status)


def _form_values(post) -> dict:
    values = {}
    for name in FORM_FIELDS:
        if name in LIST_FIELDS:
            chosen = post.getlist(name)
            if chosen:
                values[name] = chosen
        elif post.get(name, "").strip():
            values[name] = post[name].strip()
    return values


@login_required
@domain_errors_as_pages
def export_provenance(request, job_id):
    """An export's own provenance: the request, who and when, the manifest, guideline versions,
    and its first rows, each linked to the judgments it came from."""
    job = job_for_lead(job_id=job_id, user=request.user)
    if job.kind != services.EXPORT_JOB_KIND:
        raise NotFound(f"job {job_id} is not an export")
    manifest = job.result.get("manifest", {})
    versions = {v.number: v for v in GuidelineVersion.objects.filter(project=job.project)}
    return render(request, "exports/export_provenance.html", {
        "job": job, "manifest": manifest, "manifest_json": json.dumps(manifest, indent=2, ensure_ascii=False),
        "request_json": json.dumps(job.params, indent=2, ensure_ascii=False),
        "guidelines": [(g, versions.get(g.get("version"))) for g in manifest.get("guideline_versions", [])],
        "sample": _sample_rows(job), "artifacts": job.artifacts.all(),
    })


def _sample_rows(job, limit: int = 20) -> list[dict]:
    """The first rows of the first data file, reduced to what traces them: comparison and judgments."""
    data = next((a for a in job.artifacts.all() if a.name.endswith((".jsonl", ".parquet"))), None)
    if data is None or not Path(data.path).exists():
        return []
    if data.name.endswith(".jsonl"):
        with open(data.path, encoding="utf-8") as handle:
            rows = [json.loads(line) for _, line in zip(range(limit), handle)]
    else:
        import pyarrow.parquet as pq

        table = pq.ParquetFile(data.path).iter_batches(batch_size=limit)
        rows = next(table).to_pylist()[:limit] if data.rows else []
    return [{"comparison_id": row.get("comparison_id"),
             "judgment_ids": row.get("judgment_ids") or ([row["judgment_id"]] if "judgment_id" in row else []),
             "label": row.get("choice") or row.get("agreement")} for row in rows]
