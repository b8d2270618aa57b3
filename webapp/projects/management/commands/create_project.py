from django.core.management.base import BaseCommand

from webapp.core.commands import domain_errors_as_command_errors, get_user
from webapp.projects.models import Scale
from webapp.projects.services import project_create


class Command(BaseCommand):
    help = "Create a preference project."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--overlap", type=int, default=3, help="raters per comparison (default 3)")
        parser.add_argument("--scale", choices=Scale.values, default=Scale.BINARY_TIE)
        parser.add_argument("--allow-both-bad", action="store_true")
        parser.add_argument("--rationale-required", action="store_true")
        parser.add_argument("--lease-minutes", type=int, default=10)
        parser.add_argument("--overlap-counts-external", action="store_true",
                            help="judgments imported from elsewhere count toward the overlap (default: only ours)")
        parser.add_argument("--consistency-fraction", type=float, default=0.0,
                            help="share of next tasks (0 to 0.2) that re-serve a rater's own earlier pair, sides "
                                 "swapped, to measure intra-rater consistency (default 0: off)")
        parser.add_argument("--consistency-min-gap", type=int, default=20,
                            help="re-serve a pair only after this many other judgments of the rater (default 20)")
        parser.add_argument("--description", default="")
        parser.add_argument("--owner", help="username of the lead who owns it (becomes a member)")

    def handle(self, *args, **opts):
        with domain_errors_as_command_errors():
            project = project_create(
                slug=opts["slug"], name=opts["name"], actor=get_user(opts["owner"]), overlap=opts["overlap"],
                scale=opts["scale"], allow_both_bad=opts["allow_both_bad"],
                rationale_required=opts["rationale_required"], lease_minutes=opts["lease_minutes"],
                description=opts["description"], overlap_counts_external=opts["overlap_counts_external"],
                consistency_fraction=opts["consistency_fraction"], consistency_min_gap=opts["consistency_min_gap"],
            )
        self.stdout.write(f"created project {project.slug} (overlap {project.overlap}, scale {project.scale})")
