"""Exports: validate a lead's request, run it as a job (selector -> exporters.write_export)."""
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import transaction

from exporters import ExportError, ExportRequest, write_export
from webapp.accounts.models import Role
from webapp.core.errors import Forbidden, ValidationFailed
from webapp.exports import selectors
from webapp.projects.selectors import role_of
from webapp.runs.models import Job
from webapp.runs.services import ArtifactFile, JobOutcome, job_create, written_by

EXPORT_JOB_KIND = "export"
REQUEST_FIELDS = ("format", "aggregate", "ties", "file_format", "margins", "test_fraction", "seed")
DEFAULTS = {"aggregate": "none", "ties": "drop", "file_format": "jsonl", "test_fraction": 0.0, "seed": 0,
            "margins": None}


def parse_export(values: dict, *, project) -> tuple[ExportRequest, selectors.ExportFilters]:
    """Read an export request (the form, the API body and the command share the names);
    raise ValidationFailed naming the field."""
    if not values.get("format"):
        raise ValidationFailed("format is required: trl-standard, trl-conversational, trl-implicit or raw",
                               field="format")
    known = set(REQUEST_FIELDS) | set(selectors.FILTER_FIELDS) | {"output"}
    for name in values:
        if name not in known:
            raise ValidationFailed(f"unknown field {name!r}", field=name)
    filters = selectors.parse_filters({k: v for k, v in values.items() if k in selectors.FILTER_FIELDS},
                                      project=project)
    options = {**DEFAULTS, **{k: v for k, v in values.items() if k in REQUEST_FIELDS and v not in (None, "")}}
    request = ExportRequest(
        format=options["format"], aggregate=options["aggregate"], ties=options["ties"],
        file_format=options["file_format"], scale=project.scale, margins=_margins(options["margins"]),
        test_fraction=_number(options["test_fraction"], "test_fraction", float),
        seed=_number(options["seed"], "seed", int), filters=filters.as_dict(),
    )
    try:
        request.validate()
    except ExportError as error:
        raise ValidationFailed(str(error), field=error.field) from None
    if request.format != "raw" and request.aggregate == "none" and request.ties == "keep":
        # write_export refuses this too; say so before a job is queued
        raise ValidationFailed("a TRL format cannot write a single tie judgment as chosen/rejected: use ties "
                               "'drop', an aggregation (majority, dawid-skene), or the raw format", field="ties")
    return request, filters


@transaction.atomic
def export_request(*, project, actor, values: dict, output: Path | None = None, enqueue: bool = True) -> Job:
    """Validate and record an export job (audited as export.requested). Nothing is written before
    the request is known good: bad fields, a selection of nothing, a non-empty output folder."""
    # actor None: the operator at the server's command line, who can read the database anyway.
    if actor is not None and role_of(actor) not in (Role.LEAD, Role.ADMIN):
        raise Forbidden("only data leads and admins can export judgments")
    request, filters = parse_export(values, project=project)
    judgments, comparisons = selectors.selection_counts(project, filters)
    if judgments == 0:
        raise ValidationFailed("the filters select no judgments: nothing to export", field="filters")
    if output is not None:
        output = _check_output(Path(output))
    params = {"request": _request_params(request), "filters": filters.as_dict(),
              "output": str(output) if output else None,
              "selected": {"judgments": judgments, "comparisons": comparisons}}
    return job_create(kind=EXPORT_JOB_KIND, project=project, actor=actor, params=params, enqueue=enqueue)


def export_job_run(job: Job, ctx) -> JobOutcome:
    """Run an export job: stream the selection into write_export, record the files it wrote."""
    project = job.project
    filters = selectors.parse_filters(job.params["filters"], project=project)
    request = ExportRequest(**{**job.params["request"], "margins": _margins(job.params["request"]["margins"]),
                               "filters": filters.as_dict()})
    out_dir = export_dir(job)
    _remove_leftovers(job)
    total = job.params.get("selected", {}).get("judgments")

    def progress(done: int, total_: int | None, message: str) -> None:
        ctx.progress(done, total_ or total, message)

    manifest = write_export(selectors.export_groups(project, filters), request, out_dir, progress=progress,
                            total_judgments=total, provenance=_provenance(job, project, filters),
                            partial_tag=_partial_tag(job))
    return JobOutcome(artifacts=_artifacts(out_dir, manifest), result={"manifest": manifest})


def export_job_cleanup(job: Job) -> None:
    """A cancelled or failed export leaves no files: write_export removes its own partial output
    when it stops; this removes a complete folder whose job was cancelled in the last moment, and
    the partial folder of an attempt whose worker was killed (the sweeper then failed the job)."""
    _remove_leftovers(job)


def _remove_leftovers(job: Job) -> None:
    """What an earlier attempt of this job left: its finished folder (killed before the job was
    marked done, or cancelled at the end) or write_export's temporary sibling (killed mid-write).

    Only what this job wrote: a folder the lead chose was empty when the export was requested, but
    files may have arrived there since, and another export may be writing beside it."""
    out_dir = export_dir(job)
    if out_dir.exists() and _may_remove(job, out_dir):
        shutil.rmtree(out_dir)
    for partial in out_dir.parent.glob(f".{out_dir.name}.partial-{_partial_tag(job)}-*"):
        shutil.rmtree(partial, ignore_errors=True)


def _partial_tag(job: Job) -> str:
    return f"job{job.pk}"


def _may_remove(job: Job, out_dir: Path) -> bool:
    """Whether out_dir is this job's to remove: its own folder in WB_EXPORT_DIR, or a finished export
    it wrote in the folder the lead chose (the manifest names the job)."""
    return job.params.get("output") is None or written_by(job, out_dir / "manifest.json", "export_job")


def export_dir(job: Job) -> Path:
    output = job.params.get("output")
    return Path(output) if output else Path(settings.WB_EXPORT_DIR) / f"export-{job.pk}"


def _artifacts(out_dir: Path, manifest: dict) -> list[ArtifactFile]:
    rows = _rows_by_file(manifest)
    return [ArtifactFile(name=path.relative_to(out_dir).as_posix(), path=path,
                         rows=rows.get(path.relative_to(out_dir).as_posix()))
            for path in sorted(out_dir.rglob("*")) if path.is_file()]


def _rows_by_file(manifest: dict) -> dict[str, int]:
    files = manifest.get("files") or {}
    if isinstance(files, dict):
        items = files.items()
    else:
        items = ((entry.get("name") or entry.get("path"), entry) for entry in files if isinstance(entry, dict))
    return {name: entry["rows"] for name, entry in items if isinstance(entry, dict) and "rows" in entry}


def _provenance(job: Job, project, filters) -> dict:
    return {
        "export_job": job.pk, "project": project.slug, "project_name": project.name,
        "requested_by": job.requested_by.get_username() if job.requested_by else None,
        "requested_at": job.requested_at.isoformat(), "code_version": code_version(),
        "guideline_versions": selectors.guideline_versions_used(project, filters),
    }


@lru_cache(maxsize=1)
def code_version() -> str:
    """The git commit of the running code (with -dirty), else the package version."""
    root = Path(__file__).resolve().parents[2]
    try:
        described = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=root, capture_output=True,
                                   text=True, timeout=5, check=True).stdout.strip()
        return f"git {described}"
    except (OSError, subprocess.SubprocessError):
        from importlib.metadata import PackageNotFoundError, version

        try:
            return f"preference-workbench {version('preference-workbench')}"
        except PackageNotFoundError:
            return "unknown"


def _request_params(request: ExportRequest) -> dict:
    return {"format": request.format, "aggregate": request.aggregate, "ties": request.ties,
            "file_format": request.file_format, "scale": request.scale,
            "margins": {str(k): v for k, v in request.margins.items()} if request.margins else None,
            "test_fraction": request.test_fraction, "seed": request.seed}


def _margins(value) -> dict[int, float] | None:
    if value in (None, "", {}):
        return None
    if isinstance(value, str):  # "1:0.5,2:1.0" from the form or the command line
        try:
            value = dict(part.split(":", 1) for part in value.replace(" ", "").split(",") if part)
        except ValueError:
            raise ValidationFailed("margins: write strength:margin pairs, e.g. 1:0.5,2:1,3:2", field="margins") from None
    if not isinstance(value, dict):
        raise ValidationFailed("margins must map strength to margin", field="margins")
    try:
        return {int(k): float(v) for k, v in value.items()}
    except (TypeError, ValueError):
        raise ValidationFailed(f"margins must map whole-number strengths to numbers; got {value!r}",
                               field="margins") from None


def _number(value, name: str, kind):
    if isinstance(value, bool):
        raise ValidationFailed(f"{name} must be a number; got {value!r}", field=name)
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{name} must be a {'whole ' if kind is int else ''}number; got {value!r}",
                               field=name) from None
    if kind is int and isinstance(value, float) and value != number:
        raise ValidationFailed(f"{name} must be a whole number; got {value!r}", field=name)
    return number


def _check_output(output: Path) -> Path:
    output = output.expanduser().resolve()
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise ValidationFailed(f"output: {output} exists and is not an empty folder; choose a new path",
                               field="output")
    if not output.parent.exists():
        raise ValidationFailed(f"output: the folder {output.parent} does not exist", field="output")
    return output
