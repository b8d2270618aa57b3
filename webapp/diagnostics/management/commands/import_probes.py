from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from prefkit import probes
from webapp.comparisons.uploads import check_size
from webapp.core.commands import domain_errors_as_command_errors, get_user
from webapp.diagnostics.services import probes_queue, upload_probe_suite
from webapp.projects.commands import get_project


class Command(BaseCommand):
    help = ("Upload a sycophancy probe suite (JSON Lines, the format in prefkit/probes.py and fixtures/probes/"
            "README.md) as the project's suite of that name, replacing an earlier upload of the same name; a "
            "name of a shipped suite (opinion, answer, pushback, feedback) takes its place for this project. "
            "--into-queue also mixes its items into the rater queue as probe comparisons. --built-in NAME "
            "queues a shipped suite without uploading anything.")

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, nargs="?", help="the suite file (.jsonl or .jsonl.gz)")
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--built-in", choices=probes.BUILT_IN, help="queue this shipped suite (with --into-queue)")
        parser.add_argument("--into-queue", action="store_true",
                            help="add each item as a comparison of the project (metadata.probe), sides randomised "
                                 "by --seed; items already queued are left alone")
        parser.add_argument("--seed", type=int, default=0, help="decides which side is sycophantic (default 0)")
        parser.add_argument("--as-user", help="username recorded as the uploader (a lead or admin)")

    def handle(self, *args, **opts):
        project, actor, path = get_project(opts["project"]), get_user(opts["as_user"]), opts["path"]
        if (path is None) == (opts["built_in"] is None):
            raise CommandError("give either a suite FILE or --built-in NAME")
        with domain_errors_as_command_errors():
            if opts["built_in"]:
                if not opts["into_queue"]:
                    raise CommandError("--built-in only queues a shipped suite: add --into-queue")
                self._report_queued(probes_queue(project=project, actor=actor, suite_name=opts["built_in"],
                                                 seed=opts["seed"]))
                return
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            check_size(path.stat().st_size, path.name)
            upload = upload_probe_suite(project=project, actor=actor, data=path.read_bytes(), file_name=path.name,
                                        into_queue=opts["into_queue"], seed=opts["seed"])
        suite = upload.suite
        note = " (replaces the shipped suite of that name for this project)" if suite.overrides_built_in else ""
        self.stdout.write(f"probe suite {suite.name}: {suite.item_count} items, version {suite.version}, "
                          f"{upload.outcome}{note}; sha256 {suite.sha256}")
        if upload.queued:
            self._report_queued(upload.queued)

    def _report_queued(self, queued) -> None:
        batch = f", import batch #{queued.batch_id}" if queued.batch_id else ""
        self.stdout.write(f"queued probe suite {queued.suite} (seed {queued.seed}): {queued.added} new comparisons, "
                          f"{queued.already_queued} already queued{batch}")
