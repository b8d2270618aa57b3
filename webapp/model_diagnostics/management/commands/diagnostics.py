"""manage.py diagnostics: a project's rater-data diagnostics, or with --model a reward model's
(the same reports as the diagnostics pages). It lives in the top app because --model reads both."""
import json
import os
import sys

from django.core.management.base import BaseCommand, CommandError

from webapp.core.commands import TerminalProgress, domain_errors_as_command_errors, get_user
from webapp.diagnostics import report as reports
from webapp.diagnostics.selectors import ORIGINS, parse_selection
from webapp.diagnostics.thresholds import saved_thresholds
from webapp.model_diagnostics import report as model_reports, selectors as model_selectors, services as model_services
from webapp.projects.commands import get_project
from webapp.runs.services import job_run


class Command(BaseCommand):
    help = ("Agreement, rater quality, position/length bias and sycophancy diagnostics of a project's judgments "
            "(every origin unless --origin); with --model ID those of a trained reward model instead (accuracy "
            "against the raters next to the human ceiling, calibration, length bias, sycophancy probe suites), "
            "computed here with a progress bar or on the workers with --queue. --json prints the report the "
            "diagnostics page downloads; its stable core is documented in the README.")

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--model", help="a trained reward model's id: that model's diagnostics")
        parser.add_argument("--compare", help="with --model: another model of the project; adds the change per "
                                              "probe suite (its latest report, computed first if it has none)")
        parser.add_argument("--pairs", help="with --model: evaluate on this file of pairs instead of the held-out "
                                            "comparisons (accuracy against its chosen label, no human ceiling)")
        parser.add_argument("--queue", action="store_true", help="with --model: run on the workers; print the job id")
        parser.add_argument("--as-user", help="with --model: username recorded as the requester (a lead or admin)")
        parser.add_argument("--json", action="store_true", help="print the whole report as JSON")
        parser.add_argument("--csv", action="store_true", help="print every figure as CSV")
        parser.add_argument("--origin", choices=ORIGINS)
        parser.add_argument("--guideline-version", type=int)
        parser.add_argument("--rater", help="a rater's pseudonym")
        parser.add_argument("--since", help="ISO 8601: judgments submitted at or after")
        parser.add_argument("--until", help="ISO 8601: judgments submitted before")
        parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default 1000)")
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, **opts):
        project = get_project(opts["project"])
        if opts["resamples"] < 0:
            raise CommandError("--resamples must be 0 or more")
        model_only = [f"--{name.replace('_', '-')}" for name in ("compare", "pairs", "queue", "as_user") if opts[name]]
        if model_only and not opts["model"]:
            raise CommandError(f"{', '.join(model_only)} only go with --model")
        if opts["model"]:
            report = self._model_report(project, opts)
            if report is None:
                return
        else:
            with domain_errors_as_command_errors():
                selection = parse_selection({"origin": opts["origin"], "guideline_version": opts["guideline_version"],
                                             "rater": opts["rater"], "since": opts["since"], "until": opts["until"]})
                report = reports.build(project, selection, thresholds=saved_thresholds(project),
                                       n_resamples=opts["resamples"], seed=opts["seed"])
        if opts["json"]:
            self.stdout.write(model_services.report_json(report) if opts["model"]
                              else json.dumps(report, indent=2, allow_nan=False))
        elif opts["csv"]:
            self.stdout.write(reports.to_csv(report), ending="")
        else:
            self.stdout.write(model_summary(report) if opts["model"] else summary(report))

    def _model_report(self, project, opts) -> dict | None:
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        filters = [f"--{name.replace('_', '-')}" for name in ("origin", "guideline_version", "rater", "since", "until")
                   if opts[name] is not None]
        if filters:
            raise CommandError(f"{', '.join(filters)} select judgments for the rater report; a model's report reads "
                               f"its held-out comparisons (see the README)")
        actor = get_user(opts["as_user"])
        values = {"n_resamples": opts["resamples"]}
        with domain_errors_as_command_errors():
            model = model_selectors.model_in_project(opts["model"], project)
            other = model_selectors.model_in_project(opts["compare"], project) if opts["compare"] else None
            if other is not None and other.pk == model.pk:
                raise CommandError("--compare names the same model as --model")
            job = model_services.model_diagnostics_request(model=model, actor=actor, values=values, pairs=opts["pairs"],
                                                           enqueue=opts["queue"])
        if opts["queue"]:
            self.stdout.write(f"model diagnostics job {job.pk} queued; follow it at /jobs/{job.pk}/ or "
                              f"GET /api/v1/jobs/{job.pk}; the report: /models/{model.pk}/diagnostics/?job={job.pk}")
            return None
        report = self._run(job)
        if other is not None:
            other_job = model_selectors.latest_report_job(other)
            if other_job is None:
                with domain_errors_as_command_errors():
                    other_job = model_services.model_diagnostics_request(model=other, actor=actor, values=values,
                                                                         enqueue=False)
                self._run(other_job)
                other_job.refresh_from_db()
            report = model_reports.with_compare(report, other, other_job.result["report"], other_job.pk)
        return report

    def _run(self, job) -> dict:
        bar = TerminalProgress(sys.stderr, unit="pairs")
        finished = job_run(job_id=job.pk, observer=bar.update)
        bar.close()
        if finished.state != "succeeded":
            raise CommandError(f"model diagnostics job {job.pk} {finished.state}: {finished.error}")
        return finished.result["report"]


def _fmt(fig: dict) -> str:
    if fig["value"] is None:
        return f"n/a (n={fig['n']})"
    interval = "" if fig["ci_low"] is None else f" [{fig['ci_low']:.3f}, {fig['ci_high']:.3f}]"
    return f"{fig['value']:.3f}{interval} (n={fig['n']})"


def summary(report: dict) -> str:
    a = report["agreement"]
    lines = [f"{report['project']}: {report['n_judgments']} judgments on {report['n_comparisons']} comparisons "
             f"by {report['n_raters']} raters",
             f"  raw pairwise agreement      {_fmt(a['raw_pairwise'])}",
             f"    without ties              {_fmt(a['raw_pairwise_no_ties'])}",
             f"  Krippendorff alpha nominal  {_fmt(a['krippendorff_alpha_nominal'])}",
             f"  Krippendorff alpha interval {_fmt(a['krippendorff_alpha_interval'])}",
             f"  Fleiss kappa                {_fmt(a['fleiss_kappa'])}",
             f"  share chose left            {_fmt(report['position_bias']['overall_p_left'])}",
             f"  share chose longer          {_fmt(report['length_bias']['overall_p_longer'])}",
             f"  agrees with self (re-serve) {_fmt(report['intra_rater']['agreement'])}"]
    for name, suite in report["sycophancy"].items():
        lines.append(f"  sycophancy {name:<16} {_fmt(suite['rate'])}")
    flagged = [r for r in report["raters"] if r["flags"]]
    lines.append(f"  flagged raters: {', '.join(r['rater'] + ' (' + ', '.join(r['flags']) + ')' for r in flagged) or 'none'}")
    return "\n".join(lines) + "\n"


def model_summary(report: dict) -> str:
    m, evaluated = report["model"], report["evaluated_on"]
    what = (f"{evaluated['n_comparisons']} held-out comparisons ({evaluated['description']})"
            if evaluated["what"] == "held_out" else f"{evaluated['n_pairs']} pairs of {evaluated['file']}")
    lines = [f"reward model {report['reward_model']['id']} of {report['project']} on {what}",
             f"  accuracy vs rater majority  {_fmt(m['accuracy'])}",
             f"  human ceiling               {_fmt(m['human_ceiling'])}",
             f"  calibration error (ECE)     {_fmt(m['ece'])}",
             f"  prefers the longer reply    {_fmt(m['length_bias'])}",
             f"  raters prefer the longer    {_fmt(m['human_p_longer'])}"]
    for warning in evaluated.get("warnings", []):
        lines.append(f"  warning: {warning}")
    for name, suite in report["sycophancy"].items():
        lines.append(f"  sycophancy {name:<16} {_fmt(suite['rate'])}")
        if "follows_user" in suite:
            lines.append(f"    follows the user           {_fmt(suite['follows_user'])}")
        if "change" in suite:
            lines.append(f"    change vs model {report['compare']['reward_model']:<10} {_fmt(suite['change'])}")
    return "\n".join(lines) + "\n"
