"""manage.py score_rm: score pairs with a trained reward model (in-process, or --queue)."""
import json
import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from webapp.core.commands import TerminalProgress, domain_errors_as_command_errors, get_user
from webapp.runs.services import job_run
from webapp.training import services
from webapp.training.models import RewardModel


class Command(BaseCommand):
    help = ("Score a file of pairs with a reward model: one JSON line per pair, in input order, with "
            "reward_chosen, reward_rejected and p_chosen; then the summary (accuracy, mean margin, calibration "
            "error, the model's provenance).")

    def add_arguments(self, parser):
        parser.add_argument("--model", required=True, help="a trained model's id (see the models page) or a model folder")
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--pairs", help="a JSONL/Parquet file or dataset folder of pairs")
        what.add_argument("--held-out", action="store_true", help="the test split of the model's export")
        parser.add_argument("--output", type=Path, help="where the JSON lines go (default: the job's folder "
                                                       "under WB_SCORE_DIR)")
        parser.add_argument("--quantize", choices=["int8"], help="int8: score with int8 Linear layers on the CPU "
                                                                "(faster; rewards move slightly, see the README)")
        parser.add_argument("--queue", action="store_true", help="run on the workers; print the job id")
        parser.add_argument("--as-user", help="username recorded as the requester (must be a lead or admin)")

    def handle(self, *args, **opts):
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        model, model_path = None, None
        if opts["model"].isdigit():
            model = RewardModel.objects.filter(pk=int(opts["model"])).first()
            if model is None:
                raise CommandError(f"no reward model {opts['model']} (give a model id from the models page, or a folder)")
        else:
            model_path = opts["model"]
        with domain_errors_as_command_errors():
            job = services.scoring_request(actor=get_user(opts["as_user"]), model=model, model_path=model_path,
                                           pairs=opts["pairs"], held_out=opts["held_out"], output=opts["output"],
                                           quantize=opts["quantize"], enqueue=opts["queue"])
        if opts["queue"]:
            self.stdout.write(f"scoring job {job.pk} queued; follow it at /scores/{job.pk}/ or GET /api/v1/jobs/{job.pk}")
            return
        bar = TerminalProgress(sys.stderr, unit="pairs")
        finished = job_run(job_id=job.pk, observer=bar.update)
        bar.close()
        if finished.state != "succeeded":
            raise CommandError(f"scoring job {job.pk} {finished.state}: {finished.error}")
        self.stdout.write(f"scoring job {job.pk} wrote {finished.result['output']}")
        self.stdout.write(json.dumps({"summary": finished.result["summary"]}, indent=2))
