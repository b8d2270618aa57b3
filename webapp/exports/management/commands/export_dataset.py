"""manage.py export_dataset: the export page and API from the command line."""
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from webapp.core.commands import TerminalProgress, domain_errors_as_command_errors, get_user
from webapp.projects.commands import get_project
from webapp.exports import selectors, services
from webapp.runs.services import job_run


class Command(BaseCommand):
    help = ("Export a project's judgments as a TRL-ready or raw dataset. Runs here with a progress bar; "
            "--queue hands it to the workers and prints the job id.")

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--format", required=True, choices=["trl-standard", "trl-conversational",
                                                                 "trl-implicit", "raw"])
        parser.add_argument("--aggregate", default="none", choices=["none", "majority", "dawid-skene"])
        parser.add_argument("--ties", default="drop", choices=["drop", "keep"])
        parser.add_argument("--file-format", default="jsonl", choices=["jsonl", "parquet", "hf"])
        parser.add_argument("--output", type=Path, help="a new or empty folder (default: the job's folder under "
                                                       "WB_EXPORT_DIR)")
        parser.add_argument("--test-fraction", type=float, default=0.0, help="share of prompts in the test split")
        parser.add_argument("--seed", type=int, default=0, help="seed of the train/test split")
        parser.add_argument("--margins", help="strength:margin pairs, e.g. 1:0.5,2:1,3:2 (default: the scale's)")
        filters = parser.add_argument_group("which judgments")
        filters.add_argument("--origin", help="comma-separated: here, import, external (default: all)")
        filters.add_argument("--guideline-versions", help="comma-separated version numbers (default: all)")
        filters.add_argument("--since", help="submitted on or after (ISO date or datetime)")
        filters.add_argument("--until", help="submitted on or before (a date includes the whole day)")
        filters.add_argument("--exclude-raters", help="comma-separated rater pseudonyms to leave out")
        filters.add_argument("--min-judgments", type=int, help="only comparisons with at least n judgments")
        filters.add_argument("--gold", choices=selectors.INCLUDE_CHOICES, help="gold items: any, with (only), without")
        filters.add_argument("--quiz", choices=selectors.INCLUDE_CHOICES, help="quiz items: any, with (only), without")
        filters.add_argument("--rounds", choices=selectors.ROUNDS, help="current round only, or all rounds (default)")
        filters.add_argument("--probes", choices=selectors.INCLUDE_CHOICES,
                             help="sycophancy probe comparisons: without (default), with (only), any")
        filters.add_argument("--repeats", choices=selectors.INCLUDE_CHOICES,
                             help="judgments made on consistency re-serves: without (default), any, with (only)")
        parser.add_argument("--queue", action="store_true", help="run on the workers; print the job id")
        parser.add_argument("--as-user", help="username recorded as the requester (must be a lead or admin)")

    def handle(self, *args, **opts):
        project = get_project(opts["project"])
        names = services.REQUEST_FIELDS + selectors.FILTER_FIELDS
        values = {name: opts[name] for name in names if opts.get(name) is not None}
        with domain_errors_as_command_errors():
            job = services.export_request(project=project, actor=get_user(opts["as_user"]), values=values,
                                          output=opts["output"], enqueue=opts["queue"])
        if opts["queue"]:
            self.stdout.write(f"export job {job.pk} queued; follow it with GET /api/v1/jobs/{job.pk} or /jobs/{job.pk}/")
            return
        bar = TerminalProgress(sys.stderr, "judgments")
        finished = job_run(job_id=job.pk, observer=bar.update)
        bar.close()
        if finished.state != "succeeded":
            raise CommandError(f"export job {job.pk} {finished.state}: {finished.error} (nothing was written)")
        folder = services.export_dir(finished)
        counts = finished.result.get("manifest", {}).get("counts", {})
        self.stdout.write(f"export job {job.pk} wrote {folder}: " + ", ".join(
            f"{a.name} ({a.size_bytes} bytes)" for a in finished.artifacts.all()))
        if counts:
            self.stdout.write("counts: " + ", ".join(f"{k} {v}" for k, v in counts.items() if not isinstance(v, dict)))

