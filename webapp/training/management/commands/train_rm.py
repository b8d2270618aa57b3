"""manage.py train_rm: the training page from the command line (in-process with a progress bar, or --queue)."""
import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from webapp.core.commands import TerminalProgress, domain_errors_as_command_errors, get_user
from webapp.projects.commands import get_project
from webapp.runs.services import job_run
from webapp.training import services


class Command(BaseCommand):
    help = ("Train a reward model on an export (--export ID) or any TRL-format dataset folder or JSONL file "
            "(--dataset). Runs here with a progress bar; --queue hands it to the workers and prints the job id.")

    def add_arguments(self, parser):
        data = parser.add_mutually_exclusive_group(required=True)
        data.add_argument("--export", type=int, help="an export job id (its folder is the dataset)")
        data.add_argument("--dataset", help="a TRL-format folder (train*/test* files) or a .jsonl/.parquet file")
        parser.add_argument("--project", help="project slug the model is listed under (default: the export's)")
        parser.add_argument("--base", dest="base_model", help="base model folder or cached hub id "
                                                             "(default: the packaged MiniLM)")
        parser.add_argument("--output", type=Path, help="a new or empty folder for the model "
                                                       "(default: rm-<job id> under WB_MODEL_DIR)")
        recipe = parser.add_argument_group("recipe (defaults: rm_training.config.TrainConfig)")
        recipe.add_argument("--max-length", type=int)
        recipe.add_argument("--batch-size", type=int)
        recipe.add_argument("--learning-rate", type=float)
        recipe.add_argument("--epochs", type=float)
        recipe.add_argument("--max-steps", type=int)
        recipe.add_argument("--seed", type=int)
        recipe.add_argument("--eval-fraction", type=float)
        recipe.add_argument("--save-steps", type=int, help="checkpoint every n steps (default: about five per run)")
        recipe.add_argument("--no-margin", dest="use_margin", action="store_false", default=None,
                            help="ignore the dataset's margin column")
        parser.add_argument("--queue", action="store_true", help="run on the workers; print the job id")
        parser.add_argument("--as-user", help="username recorded as the requester (must be a lead or admin)")

    def handle(self, *args, **opts):
        # The progress bar is the output: no per-file loading bars or load reports from transformers.
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        project = get_project(opts["project"]) if opts["project"] else None
        values = {name: opts[name] for name in ("export", "dataset", *services.CONFIG_FIELDS)
                  if opts.get(name) is not None}
        with domain_errors_as_command_errors():
            job = services.training_request(project=project, actor=get_user(opts["as_user"]), values=values,
                                            output=opts["output"], enqueue=opts["queue"])
        if opts["queue"]:
            self.stdout.write(f"training job {job.pk} queued; follow it at /training/{job.pk}/ or GET /api/v1/jobs/{job.pk}")
            return
        bar = TerminalProgress(sys.stderr, unit="steps")
        finished = job_run(job_id=job.pk, observer=bar.update)
        bar.close()
        if finished.state != "succeeded":
            raise CommandError(f"training job {job.pk} {finished.state}: {finished.error} (no model folder was written)")
        result = finished.result
        evaluation = result.get("eval") or {}
        self.stdout.write(f"training job {job.pk} wrote {result['model_dir']} "
                          f"(reward model {finished.reward_model.pk}, {result['counts']['steps']} steps)")
        if evaluation:
            self.stdout.write("eval: " + ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                                                   for k, v in evaluation.items()))

