"""The diagnostics page of a project: the latest report in plots and tables, recompute as a job,
download as JSON or CSV, and send flagged raters to the export form's excluded raters."""
import json

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from prefkit import plots
from webapp.core.errors import DomainError, NotFound, ValidationFailed
from webapp.core.views import domain_errors_as_pages
from webapp.diagnostics import report as reports, services
from webapp.diagnostics.selectors import ORIGINS
from webapp.guidelines.models import GuidelineVersion
from webapp.projects.selectors import project_for_lead
from webapp.runs.models import Job
from webapp.runs.selectors import job_for_lead

FORM_FIELDS = services.SELECTION_FIELDS + ("n_resamples",) + tuple(reports.thresholds_from({}).__dataclass_fields__)
HEATMAP_RATERS = 30
PER_RATER_ROWS = 40


@login_required
@domain_errors_as_pages
def diagnostics_page(request, slug):
    project = project_for_lead(slug=slug, user=request.user)
    error, status, values = None, 200, {}
    if request.method == "POST":
        values = {k: request.POST[k].strip() for k in FORM_FIELDS if request.POST.get(k, "").strip()}
        try:
            job = services.diagnostics_request(project=project, actor=request.user, values=values)
        except ValidationFailed as failure:
            error, status = failure, 400
        except DomainError as failure:
            error, status = failure, failure.status
        else:
            return redirect("job-detail", job_id=job.pk)
    job = _report_job(project, request.GET.get("job"))
    report = job.result["report"] if job else None
    context = {"project": project, "job": job, "report": report, "error": error, "values": values,
               "origins": ORIGINS, "versions": GuidelineVersion.objects.filter(project=project).order_by("number"),
               "thresholds": reports.thresholds_from({}),
               "recent": Job.objects.filter(project=project, kind=services.DIAGNOSTICS_JOB_KIND)
                                    .order_by("-requested_at")[:10]}
    if report:
        context.update(_figures(project, report))
    return render(request, "diagnostics/diagnostics_page.html", context, status=status)


def _report_job(project, job_id):
    if not job_id:
        return services.latest_report_job(project)
    try:
        job = Job.objects.filter(pk=int(job_id), project=project, kind=services.DIAGNOSTICS_JOB_KIND,
                                 state=Job.State.SUCCEEDED).first()
    except ValueError:
        job = None
    if job is None:
        raise NotFound(f"no finished diagnostics job {job_id} in this project")
    return job


def _forest(rows: list[tuple[str, dict]], **options) -> str:
    return mark_safe(plots.forest(rows, **options))  # prefkit.plots escapes every text it draws


def _figures(project, report: dict) -> dict:
    agreement = report["agreement"]
    raters = sorted(report["raters"], key=lambda r: -r["n_judgments"])
    flagged = [r for r in report["raters"] if r["flags"]]
    by_version = report.get("by_guideline_version", {})
    by_origin = report.get("by_origin", {})
    return {
        "core": [("Raw pairwise agreement", agreement["raw_pairwise"]),
                 ("Raw pairwise agreement, no ties", agreement["raw_pairwise_no_ties"]),
                 ("Krippendorff's alpha (nominal)", agreement["krippendorff_alpha_nominal"]),
                 ("Krippendorff's alpha (interval, signed strength)", agreement["krippendorff_alpha_interval"]),
                 ("Fleiss' kappa", agreement["fleiss_kappa"]),
                 ("Agreement with the leave-one-out majority", report["rater_quality"]["loo_majority"]),
                 ("Gold accuracy", report["rater_quality"]["gold_accuracy"]),
                 ("Share chose the left response", report["position_bias"]["overall_p_left"]),
                 ("Share chose the longer response", report["length_bias"]["overall_p_longer"]),
                 ("Intra-rater consistency", report["intra_rater"])]
                + [(f"Sycophancy: {name}", s["rate"]) for name, s in report["sycophancy"].items()],
        "heatmap": _heatmap(report, raters),
        "position_plot": _forest([(r["rater"], r["p_left"]) for r in raters[:PER_RATER_ROWS]],
                                 title="Share of choices for the left response, per rater (95 % Wilson)",
                                 reference=0.5, reference_label="no bias"),
        "quality_plot": _forest([(r["rater"], r["loo_majority"]) for r in raters[:PER_RATER_ROWS]],
                                title="Agreement with the majority of the others, per rater",
                                reference=None),
        "trend_plots": [
            _forest([(v, b["agreement"]["krippendorff_alpha_nominal"]) for v, b in by_version.items()],
                    title="Krippendorff's alpha per guideline version", lo=-0.2, hi=1.0, reference=0.0),
            _forest([(v, b["agreement"]["raw_pairwise"]) for v, b in by_version.items()],
                    title="Raw pairwise agreement per guideline version", reference=None),
            _forest([(v, b["position_bias"]["overall_p_left"]) for v, b in by_version.items()],
                    title="Share chose left per guideline version", reference=0.5),
        ],
        "origin_plot": _forest([(o, b["agreement"]["krippendorff_alpha_nominal"]) for o, b in by_origin.items()],
                               title="Krippendorff's alpha by origin", lo=-0.2, hi=1.0, reference=0.0),
        "sycophancy_plot": _forest([(name, s["rate"]) for name, s in report["sycophancy"].items()],
                                   title="Share preferring the sycophantic response, per probe suite",
                                   reference=0.5),
        "raters": raters,
        "flagged": flagged,
        "exclude_url": (reverse("export-page", args=[project.slug]) + "?"
                        + urlencode({"exclude_raters": ",".join(r["rater"] for r in flagged)})) if flagged else None,
    }


def _heatmap(report: dict, raters: list[dict]):
    pairs = report["cohen_kappa"]
    involved = {p["rater_1"] for p in pairs} | {p["rater_2"] for p in pairs}
    names = [r["rater"] for r in raters if r["rater"] in involved][:HEATMAP_RATERS]
    keep = set(names)
    cells = {(p["rater_1"], p["rater_2"]): p["value"] for p in pairs
             if p["value"] is not None and p["rater_1"] in keep and p["rater_2"] in keep}
    return mark_safe(plots.heatmap(names, cells,  # escaped by prefkit.plots
                                   title="Cohen's kappa between raters who share enough comparisons"))


@login_required
@domain_errors_as_pages
def diagnostics_download(request, slug, job_id, fmt):
    project = project_for_lead(slug=slug, user=request.user)
    job = job_for_lead(job_id=job_id, user=request.user)
    if job.project_id != project.pk or job.kind != services.DIAGNOSTICS_JOB_KIND or "report" not in job.result:
        raise NotFound(f"no diagnostics report {job_id} in this project")
    report = job.result["report"]
    if fmt == "json":
        body, content_type = json.dumps(report, indent=2), "application/json"
    else:
        body, content_type = reports.to_csv(report), "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="diagnostics-{project.slug}-{job.pk}.{fmt}"'
    return response
