"""The diagnostics page of a project: the latest report in plots and tables, recompute as a job,
download as JSON or CSV, the rater thresholds saved per project, the consistency re-serve settings,
and the flagged raters (by the saved thresholds) sent to the export form's excluded raters. Leads
also upload their own probe suites here and mix probes into the rater queue."""
import json
import math
from dataclasses import asdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from prefkit import plots
from prefkit.probes import BUILT_IN
from webapp.core.api import checked_text
from webapp.core.errors import DomainError, NotFound, ValidationFailed
from webapp.core.uploads import uploaded_file
from webapp.core.views import domain_errors_as_pages, takes_upload
from webapp.diagnostics import probes as project_probes, report as reports, services
from webapp.diagnostics.selectors import ORIGINS
from webapp.diagnostics.thresholds import THRESHOLD_RANGES, saved_thresholds
from webapp.guidelines.models import GuidelineVersion
from webapp.projects.models import MAX_CONSISTENCY_FRACTION
from webapp.projects.selectors import project_for_lead
from webapp.projects.services import project_settings_change
from webapp.runs.models import Job
from webapp.runs.selectors import job_for_lead

FORM_FIELDS = services.SELECTION_FIELDS + ("n_resamples",)
THRESHOLD_FIELDS = tuple(THRESHOLD_RANGES)
CONSISTENCY_FIELDS = {"consistency_fraction": float, "consistency_min_gap": int}
HEATMAP_RATERS = 30
PER_RATER_ROWS = 40


@login_required
@domain_errors_as_pages
def diagnostics_page(request, slug):
    project = project_for_lead(slug=slug, user=request.user)
    if request.method != "POST":
        return _page(request, project)
    values = _posted(request, FORM_FIELDS)
    try:
        job = services.diagnostics_request(project=project, actor=request.user, values=values)
    except DomainError as failure:
        return _page(request, project, error=failure, values=values)
    return redirect("job-detail", job_id=job.pk)


@login_required
@require_POST
@domain_errors_as_pages
def thresholds_page(request, slug):
    """Save the project's rater thresholds (the form on the diagnostics page)."""
    project = project_for_lead(slug=slug, user=request.user)
    values = _posted(request, THRESHOLD_FIELDS)
    try:
        changed = services.thresholds_save(project=project, actor=request.user, values=values)
    except DomainError as failure:
        return _page(request, project, threshold_error=failure, threshold_values=values)
    messages.success(request, f"Saved the rater thresholds ({', '.join(changed)} changed)." if changed
                     else "The rater thresholds were already these.")
    return redirect(reverse("diagnostics-page", args=[slug]) + "#thresholds")


@login_required
@require_POST
@domain_errors_as_pages
def consistency_page(request, slug):
    """Change the project's consistency re-serves (share of tasks, minimum gap): project settings."""
    project = project_for_lead(slug=slug, user=request.user)
    values = _posted(request, tuple(CONSISTENCY_FIELDS))
    try:
        changes = {name: _number(values.get(name, ""), name, kind) for name, kind in CONSISTENCY_FIELDS.items()}
        project_settings_change(project=project, actor=request.user, **changes)
    except DomainError as failure:
        return _page(request, project, consistency_error=failure, consistency_values=values)
    messages.success(request, "Saved the consistency re-serves." if project.consistency_fraction
                     else "Consistency re-serves are off.")
    return redirect(reverse("diagnostics-page", args=[slug]) + "#consistency")


def _posted(request, fields) -> dict:
    return {k: request.POST[k].strip() for k in fields if request.POST.get(k, "").strip()}


def _number(raw: str, name: str, kind):
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value):
        words = "a whole number" if kind is int else "a number"
        raise ValidationFailed(f"{name} must be {words}; got {raw!r}", field=name)
    return value


def _page(request, project, *, error=None, values=None, threshold_error=None, threshold_values=None,
          consistency_error=None, consistency_values=None, probe_error=None):
    """The page; with an error (and the values as they were posted) after a refused form, status 400."""
    failure = error or threshold_error or consistency_error or probe_error
    job = _report_job(project, request.GET.get("job"))
    report = job.result["report"] if job else None
    thresholds = saved_thresholds(project)
    context = {"project": project, "job": job, "report": report, "error": error, "values": values or {},
               "origins": ORIGINS, "versions": GuidelineVersion.objects.filter(project=project).order_by("number"),
               "thresholds": {**asdict(thresholds), **(threshold_values or {})}, "threshold_error": threshold_error,
               "consistency": {**{name: getattr(project, name) for name in CONSISTENCY_FIELDS},
                               **(consistency_values or {})},
               "consistency_error": consistency_error, "max_consistency_fraction": MAX_CONSISTENCY_FRACTION,
               "recent": Job.objects.filter(project=project, kind=services.DIAGNOSTICS_JOB_KIND)
                                    .order_by("-requested_at")[:10],
               "suites": project_probes.suite_rows(project), "built_in": BUILT_IN, "probe_error": probe_error}
    if report:
        context.update(_figures(project, report, thresholds))
    status = 200 if failure is None else (400 if isinstance(failure, ValidationFailed) else failure.status)
    return render(request, "diagnostics/diagnostics_page.html", context, status=status)


@login_required
@takes_upload
@domain_errors_as_pages
def probe_upload(request, slug):
    """POST a probe suite file (and optionally queue it); a GET goes to the diagnostics page."""
    if request.method != "POST":
        return redirect("diagnostics-page", slug=slug)
    project = project_for_lead(slug=slug, user=request.user)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ValidationFailed("choose a probe suite file to upload", field="file")
        seed = _seed(request.POST.get("seed"))
        with uploaded_file(upload).buffer() as data:
            outcome = services.upload_probe_suite(
                project=project, actor=request.user, data=data, file_name=checked_text(upload.name, "file"),
                into_queue=bool(request.POST.get("into_queue")), seed=seed)
    except DomainError as failure:
        return _page(request, project, probe_error=failure)
    suite = outcome.suite
    message = f"Probe suite {suite.name}: {suite.item_count} items, version {suite.version} ({outcome.outcome})."
    if outcome.queued:
        message += _queued_message(outcome.queued)
    messages.success(request, message)
    return redirect(reverse("diagnostics-page", args=[slug]) + "#probes")


@login_required
@domain_errors_as_pages
def probe_queue(request, slug):
    """Mix a suite the project has (shipped or uploaded) into the rater queue."""
    project = project_for_lead(slug=slug, user=request.user)
    if request.method != "POST":
        return redirect("diagnostics-page", slug=slug)
    try:
        queued = services.probes_queue(project=project, actor=request.user, suite_name=request.POST.get("suite", ""),
                                       seed=_seed(request.POST.get("seed")))
    except DomainError as failure:
        return _page(request, project, probe_error=failure)
    messages.success(request, f"Probe suite {queued.suite}." + _queued_message(queued))
    return redirect(reverse("diagnostics-page", args=[slug]) + "#probes")


def _seed(value) -> int:
    if value in (None, ""):
        return 0
    try:
        return int(value)
    except ValueError:
        raise ValidationFailed("seed must be a whole number", field="seed") from None


def _queued_message(queued) -> str:
    return (f" Queued with seed {queued.seed}: {queued.added} new probe comparisons, "
            f"{queued.already_queued} already in the queue.")


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


def _figures(project, report: dict, thresholds) -> dict:
    """What the page draws of a report; raters are flagged by the saved `thresholds`."""
    agreement = report["agreement"]
    raters = sorted(reports.flag_raters(report, thresholds), key=lambda r: -r["n_judgments"])
    flagged = [r for r in raters if r["flags"]]
    intra = _intra_rater(report)
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
                 ("Agrees with themselves on a re-served pair (sides swapped)", intra["agreement"]),
                 ("… same side, where both answers took one", intra["agreement_decided"]),
                 ("… one answer a tie or both bad, the other a side", intra["tie_changes"])]
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
        "consistency_plot": _forest(
            [(r["rater"], r["intra_rater"]["agreement"]) for r in raters if r.get("intra_rater", {}).get("agreement")]
            [:PER_RATER_ROWS], title="Agreement with themselves on re-served pairs, per rater (95 % Wilson)",
            reference=thresholds.min_self_agreement, reference_label="threshold"),
        "consistency_by_version": list(intra.get("by_guideline_version", {}).items()),
        "intra": intra,
        "raters": raters,
        "flagged": flagged,
        "thresholds_differ": report.get("thresholds") != asdict(thresholds),
        "too_fast_ms_differs": report.get("thresholds", {}).get("too_fast_ms") != thresholds.too_fast_ms,
        "exclude_url": (reverse("export-page", args=[project.slug]) + "?"
                        + urlencode({"exclude_raters": ",".join(r["rater"] for r in flagged)})) if flagged else None,
    }


def _intra_rater(report: dict) -> dict:
    """The report's intra-rater block; a report from before the re-serves had one figure there."""
    intra = report.get("intra_rater") or {}
    if "agreement" in intra:
        return intra
    empty = {"value": None, "ci_low": None, "ci_high": None, "n": 0}
    return {"agreement": intra or empty, "agreement_decided": empty, "tie_changes": empty}


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
