from django.core.management.base import BaseCommand

from webapp.core.commands import domain_errors_as_command_errors, get_user
from webapp.diagnostics.simulation import RaterHabits, simulate_raters
from webapp.projects.commands import get_project


class Command(BaseCommand):
    help = ("Add synthetic raters with known accuracy, position bias, length bias, sycophancy rate and "
            "consistency; they judge the project's comparisons through the same services as people (see "
            "webapp/diagnostics/simulation.py for how a simulated rater decides). For validating the "
            "diagnostics, never on a production project.")

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--raters", type=int, default=3, help="how many raters (default 3)")
        parser.add_argument("--accuracy", type=float, default=0.8, help="P(true answer) when no reflex applies")
        parser.add_argument("--left-rate", type=float, default=0.0,
                            help="share of tasks decided by picking the left response (expected share left: "
                                 "1/2 + rate/2)")
        parser.add_argument("--longer-rate", type=float, default=0.0,
                            help="share of tasks decided by picking the longer response")
        parser.add_argument("--sycophancy", type=float, default=0.0, help="P(sycophantic response) on probes")
        parser.add_argument("--tie-rate", type=float, default=0.0)
        parser.add_argument("--consistency", type=float, default=None,
                            help="on a pair served again (the project's consistency re-serves): P(the same answer "
                                 "as the first time); default: decide afresh")
        parser.add_argument("--active-ms", type=int, default=8000, help="median time on task")
        parser.add_argument("--max-per-rater", type=int)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--prefix", default="sim", help="usernames are PREFIX-PROJECT-SEED-N")
        parser.add_argument("--as-user", help="username recorded as the actor")

    def handle(self, *args, **opts):
        project = get_project(opts["project"])
        habits = RaterHabits(accuracy=opts["accuracy"], left_rate=opts["left_rate"], longer_rate=opts["longer_rate"],
                             sycophancy=opts["sycophancy"], tie_rate=opts["tie_rate"], active_ms=opts["active_ms"],
                             consistency=opts["consistency"])
        with domain_errors_as_command_errors():
            out = simulate_raters(project=project, count=opts["raters"], habits=habits, seed=opts["seed"],
                                  prefix=opts["prefix"], actor=get_user(opts["as_user"]),
                                  max_per_rater=opts["max_per_rater"])
        self.stdout.write(f"{len(out['pseudonyms'])} simulated raters ({', '.join(out['pseudonyms'])}) made "
                          f"{out['judgments']} judgments")
