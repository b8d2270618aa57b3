import json

from django.core.management.base import BaseCommand, CommandError

from webapp.core.commands import domain_errors_as_command_errors
from webapp.diagnostics import report as reports
from webapp.diagnostics.selectors import ORIGINS, parse_selection
from webapp.diagnostics.thresholds import saved_thresholds
from webapp.projects.commands import get_project


class Command(BaseCommand):
    help = ("Agreement, rater quality, position/length bias and sycophancy diagnostics of a project's judgments "
            "(every origin unless --origin), raters flagged by the project's saved thresholds (the diagnostics "
            "page's form). --json prints the report the diagnostics page shows; its stable core is documented in "
            "the README.")

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--model", help="a trained reward model's id: add its diagnostics")
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
        with domain_errors_as_command_errors():
            selection = parse_selection({"origin": opts["origin"], "guideline_version": opts["guideline_version"],
                                         "rater": opts["rater"], "since": opts["since"], "until": opts["until"]})
            report = reports.build(project, selection, thresholds=saved_thresholds(project),
                                   n_resamples=opts["resamples"], seed=opts["seed"])
            if opts["model"]:
                report["model"] = self._model_report(project, opts["model"], opts)
        if opts["json"]:
            self.stdout.write(json.dumps(report, indent=2, allow_nan=False))
        elif opts["csv"]:
            self.stdout.write(reports.to_csv(report), ending="")
        else:
            self.stdout.write(summary(report))

    def _model_report(self, project, model_id, opts):
        raise CommandError("reward-model diagnostics (--model) are not available in this build")


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
