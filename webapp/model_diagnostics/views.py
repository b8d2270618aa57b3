"""A reward model's diagnostics page (leads and admins): the latest report in plots and tables,
compute a new one as a job (held-out comparisons or an uploaded file of pairs), compare the probe
suites with another model, download as JSON or CSV."""
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe

from prefkit import plots
from prefkit.plots import reliability_diagram
from webapp.core.errors import DomainError, NotFound, ValidationFailed
from webapp.core.views import domain_errors_as_pages, takes_upload
from webapp.diagnostics import report as rater_reports
from webapp.model_diagnostics import report as reports, selectors, services
from webapp.runs.models import Job
from webapp.training.selectors import model_for_lead
from webapp.training.services import store_upload


@login_required
@takes_upload  # a file of pairs
@domain_errors_as_pages
def model_diagnostics_page(request, model_id):
    model = model_for_lead(model_id=model_id, user=request.user)
    error, status = None, 200
    if request.method == "POST":
        try:
            job = _request_from_form(request, model)
        except DomainError as failure:
            error, status = failure, failure.status
        else:
            return redirect("job-detail", job_id=job.pk)
    job = selectors.report_job(model, request.GET["job"]) if request.GET.get("job") else selectors.latest_report_job(model)
    report, compare_error, compare_id = (job.result["report"] if job else None), None, request.GET.get("compare", "")
    if report is not None and compare_id:
        try:
            report = _compared(model, report, compare_id)
        except ValidationFailed as failure:
            compare_error, status = failure, failure.status
    context = {"model": model, "project": model.project, "job": job, "report": report, "error": error,
               "compare_error": compare_error, "compare_id": compare_id,
               "compare_choices": selectors.models_with_reports(model.project, exclude=model) if model.project else [],
               "recent": selectors.report_jobs(model).order_by("-requested_at", "-pk")[:10],
               "query": f"?compare={report['compare']['reward_model']}" if report and "compare" in report else ""}
    if report is not None:
        context.update(_figures(report))
    return render(request, "model_diagnostics/model_diagnostics_page.html", context, status=status)


def _request_from_form(request, model) -> Job:
    values = {"n_resamples": request.POST.get("n_resamples", "").strip()}
    if request.POST.get("what") == "pairs":
        upload = request.FILES.get("pairs")
        if upload is None:
            raise ValidationFailed("choose a file of pairs, or evaluate on the held-out comparisons", field="pairs")
        path = store_upload(upload.chunks(), upload.name)
        try:
            return services.model_diagnostics_request(model=model, actor=request.user, values=values, pairs=path,
                                                      pairs_name=upload.name)
        except DomainError:
            path.unlink(missing_ok=True)  # refused: keep nothing of it
            raise
    return services.model_diagnostics_request(model=model, actor=request.user, values=values)


def _compared(model, report: dict, compare_id) -> dict:
    other = selectors.model_in_project(compare_id, model.project)
    if other.pk == model.pk:
        raise ValidationFailed("compare with another model, not the same one", field="compare")
    other_job = selectors.latest_report_job(other)
    if other_job is None:
        raise ValidationFailed(f"reward model {other.pk} has no diagnostics report yet: compute one on its "
                               f"diagnostics page first", field="compare")
    return reports.with_compare(report, other, other_job.result["report"], other_job.pk)


def _figures(report: dict) -> dict:
    m, syc = report["model"], report["sycophancy"]
    core = [("Accuracy against the rater majority", m["accuracy"]),
            ("Human ceiling (each rater against the others' majority)", m["human_ceiling"]),
            ("Expected calibration error", m["ece"]),
            ("Share the model prefers the longer reply", m["length_bias"]),
            ("Share the raters prefer the longer reply (same items)", m["human_p_longer"])]
    for name, s in syc.items():
        core.append((f"Sycophancy: {name}", s["rate"]))
        if "follows_user" in s:
            core.append((f"Sycophancy: {name}, follows the user across a group", s["follows_user"]))
        if "change" in s:
            core.append((f"Sycophancy: {name}, change against model {report['compare']['reward_model']}", s["change"]))
    # Forest labels get about 20 characters before the plot: "<group> · model" / "<group> · ceiling".
    agreement_rows = [("all · model", m["accuracy"]), ("all · ceiling", m["human_ceiling"])]
    for group, prefix in (("by_guideline_version", ""), ("by_prompt_source", "src ")):
        for label, block in m[group].items():
            short = prefix + (label if len(label) <= 11 else label[:10] + "…")
            agreement_rows += [(f"{short} · model", block["accuracy"]), (f"{short} · ceiling", block["human_ceiling"])]
    suite_rows = []
    for name, s in syc.items():
        suite_rows.append((name, s["rate"]))
        if "follows_user" in s:
            suite_rows.append((f"{name} · follows user", s["follows_user"]))
    return {
        "core": core,
        "agreement_plot": _forest(agreement_rows, title="Accuracy against the rater majority, and the human "
                                                             "ceiling, by group", reference=0.5, reference_label="chance"),
        "calibration_plot": mark_safe(reliability_diagram(  # built with every text escaped
            m["calibration_bins"], title="Calibration (reliability diagram)",
            y_label="share of raters preferring A" if report["evaluated_on"]["what"] == "held_out"
            else "share where A is the labelled winner")),
        "length_plot": _forest([("model", m["length_bias"]), ("raters", m["human_p_longer"])],
                                    title="Share preferring the longer reply", reference=0.5,
                                    reference_label="no length bias"),
        "sycophancy_plot": _forest(suite_rows, title="Share preferring the sycophantic reply, per probe suite "
                                                          "(95 % bootstrap)", reference=0.5),
        "change_plot": _forest([(name, s["change"]) for name, s in syc.items() if "change" in s],
                                    title=f"Change in the sycophantic-preference rate against model "
                                          f"{report['compare']['reward_model']} (this minus that)",
                                    lo=-1.0, hi=1.0, reference=0.0, reference_label="no change")
        if "compare" in report else None,
        "worst": [(name, row) for name, s in syc.items() for row in s["worst"]],
        "by_version": m["by_guideline_version"], "by_source": m["by_prompt_source"],
    }



def _forest(rows, **options):
    return mark_safe(plots.forest(rows, **options))  # prefkit.plots escapes every text it draws

@login_required
@domain_errors_as_pages
def model_diagnostics_download(request, model_id, job_id, fmt):
    model = model_for_lead(model_id=model_id, user=request.user)
    if fmt not in ("json", "csv"):
        raise NotFound(f"no {fmt!r} download: json or csv")
    job = selectors.report_job(model, job_id)
    report = job.result["report"]
    if request.GET.get("compare"):
        try:
            report = _compared(model, report, request.GET["compare"])
        except ValidationFailed as failure:
            return HttpResponse(failure.message, status=failure.status, content_type="text/plain; charset=utf-8")
    if fmt == "json":
        body, content_type = services.report_json(report), "application/json"
    else:
        body, content_type = rater_reports.to_csv(report), "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    suffix = f"-vs-{report['compare']['reward_model']}" if "compare" in report else ""
    response["Content-Disposition"] = f'attachment; filename="model-{model.pk}-diagnostics-{job.pk}{suffix}.{fmt}"'
    return response
