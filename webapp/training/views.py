"""Training and scoring pages for data leads: the form, the live run, the models and their provenance."""
import json
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from rm_training.config import TrainConfig, default_base_model
from webapp.core.errors import DomainError, NotFound, ValidationFailed
from webapp.core.views import domain_errors_as_pages, takes_upload
from webapp.projects.selectors import project_for_lead
from webapp.runs.selectors import job_for_lead, job_status
from webapp.training import selectors, services
from webapp.training.charts import training_charts

FORM_FIELDS = ("export",) + tuple(services.CONFIG_FIELDS)


@login_required
@domain_errors_as_pages
def train_page(request, slug):
    project = project_for_lead(slug=slug, user=request.user)
    values, error, status = {"use_margin": True}, None, 200
    if request.method == "POST":
        values = {name: request.POST[name].strip() for name in FORM_FIELDS
                  if name != "use_margin" and request.POST.get(name, "").strip()}
        values["use_margin"] = request.POST.get("use_margin") == "on"
        try:
            job = services.training_request(project=project, actor=request.user, values=values)
        except DomainError as failure:
            error, status = failure, failure.status
        else:
            return redirect("training-detail", job_id=job.pk)
    return render(request, "training/train_page.html", {
        "project": project, "values": values, "error": error, "exports": selectors.exports_to_train_on(project),
        "defaults": TrainConfig(dataset="", base_model=default_base_model()),
        "recent": project.jobs.filter(kind=services.TRAINING_JOB_KIND)[:10],
    }, status=status)


def _charts(job) -> dict[str, str]:
    return training_charts(selectors.curve_points(job), job.progress_total)


@login_required
@domain_errors_as_pages
def training_detail(request, job_id):
    job = _job_of_kind(job_id, request.user, services.TRAINING_JOB_KIND)
    charts = _charts(job)
    return render(request, "training/training_detail.html", {
        "job": job, "status": job_status(job), "model": getattr(job, "reward_model", None),
        "loss_svg": mark_safe(charts["loss"]), "accuracy_svg": mark_safe(charts["accuracy"]),  # built escaped
        "config_json": json.dumps(job.params, indent=2, ensure_ascii=False),
    })


@login_required
@domain_errors_as_pages
def training_charts_json(request, job_id):
    """What the training page polls: the job's status and both charts, redrawn from the logs so far."""
    job = _job_of_kind(job_id, request.user, services.TRAINING_JOB_KIND)
    model = getattr(job, "reward_model", None)
    return JsonResponse({**_charts(job), "finished": job.is_finished, "state": job.state,
                         "model_url": f"/models/{model.pk}/" if model else None})


def _job_of_kind(job_id, user, kind):
    job = job_for_lead(job_id=job_id, user=user)
    if job.kind != kind:
        raise NotFound(f"job {job_id} is not a {kind} job")
    return job


@login_required
@domain_errors_as_pages
def models_page(request, slug):
    project = project_for_lead(slug=slug, user=request.user)
    return render(request, "training/models_page.html", {
        "project": project, "models": selectors.models_for_project(project),
    })


@login_required
@domain_errors_as_pages
def model_detail(request, model_id, *, error=None, status=200):
    model = selectors.model_for_lead(model_id=model_id, user=request.user)
    charts = training_charts({"loss": [], **selectors.curve_points(model.job)}, model.counts.get("steps"))
    scorings = model.job.project.jobs.filter(kind=services.SCORING_JOB_KIND, params__model_id=model.pk)[:20] \
        if model.project else []
    card = Path(model.path) / "README.md"
    return render(request, "training/model_detail.html", {
        "model": model, "error": error, "scorings": scorings,
        "loss_svg": mark_safe(charts["loss"]), "accuracy_svg": mark_safe(charts["accuracy"]),
        "card": card.read_text(encoding="utf-8") if card.is_file() else None,
        "export_manifest": model.export_job.result.get("manifest", {}) if model.export_job else {},
    }, status=status)


@login_required
@require_POST
@takes_upload  # a file of pairs
@domain_errors_as_pages
def score_submit(request, model_id):
    model = selectors.model_for_lead(model_id=model_id, user=request.user)
    upload = request.FILES.get("pairs")
    quantize = request.POST.get("quantize") or None
    try:
        if request.POST.get("what") == "held_out":
            job = services.scoring_request(actor=request.user, model=model, held_out=True, quantize=quantize)
        elif upload is None:
            raise ValidationFailed("choose a file of pairs to score, or the held-out comparisons", field="pairs")
        else:
            job = _score_upload(request, model, upload, quantize)
    except DomainError as failure:
        return model_detail(request, model_id=model_id, error=failure, status=failure.status)
    return redirect("score-detail", job_id=job.pk)


def _score_upload(request, model, upload, quantize):
    path = services.store_upload(upload.chunks(), upload.name)
    try:
        return services.scoring_request(actor=request.user, model=model, pairs=path, quantize=quantize)
    except DomainError:
        path.unlink(missing_ok=True)  # refused: keep nothing of it
        raise


@login_required
@domain_errors_as_pages
def score_detail(request, job_id):
    job = _job_of_kind(job_id, request.user, services.SCORING_JOB_KIND)
    model = None
    if job.params.get("model_id"):
        model = selectors.RewardModel.objects.filter(pk=job.params["model_id"]).first()
    rows = []
    output = Path(job.result.get("output", ""))
    if job.state == "succeeded" and output.is_file():
        with open(output, encoding="utf-8") as handle:
            rows = [json.loads(line) for _, line in zip(range(20), handle)]
    return render(request, "training/score_detail.html", {
        "job": job, "status": job_status(job), "model": model, "summary": job.result.get("summary", {}),
        "rows": rows,
        "provenance_json": json.dumps(job.result.get("summary", {}).get("model_provenance", {}), indent=2,
                                      ensure_ascii=False),
    })
