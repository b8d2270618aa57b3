"""Load the demo: two projects of real public data, guideline v1 and v2, and a user per role."""
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from webapp.accounts.services import user_create
from webapp.comparisons.imports import import_file
from webapp.guidelines.services import guideline_acknowledge, guideline_publish
from webapp.projects.models import Project
from webapp.projects.services import membership_add, project_create

FIXTURES = settings.BASE_DIR / "fixtures"
DEMO_PASSWORD = "workbench-demo"
DEMO_USERS = [("alice", "rater"), ("bob", "rater"), ("carol", "lead"), ("dave", "admin")]


class Command(BaseCommand):
    help = "Create demo users (alice, bob: raters; carol: lead; dave: admin) and demo projects. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEMO_PASSWORD)
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="where the server will listen (printed)")

    @transaction.atomic
    def handle(self, *args, **opts):
        User = get_user_model()
        users = {}
        for name, role in DEMO_USERS:
            users[name] = User.objects.filter(username=name).first() or user_create(
                username=name, role=role, password=opts["password"], demo_password=True)
        if not Project.objects.filter(slug="hh-helpful").exists():
            self._seed_hh(users)
        if not Project.objects.filter(slug="llmfao").exists():
            self._seed_llmfao(users)
        self.stdout.write(f"demo ready. Log in at {opts['url']} with:")
        for name, role in DEMO_USERS:
            self.stdout.write(f"  {role:6} {name:6} password: {opts['password']}")

    def _seed_hh(self, users):
        project = project_create(
            slug="hh-helpful", name="HH-RLHF helpfulness (demo)", actor=users["carol"], overlap=3,
            scale="four_level", allow_both_bad=True, lease_minutes=10,
            description="Real Anthropic HH-RLHF helpful-online test pairs (MIT). Content warning: some requests are offensive.",
        )
        for name in ("alice", "bob", "dave"):
            membership_add(project=project, user=users[name], actor=users["carol"])
        for fixture in ("hh_rlhf_demo.jsonl", "xss_demo.jsonl"):
            import_file(project=project, data=(FIXTURES / fixture).read_bytes(), file_name=fixture, actor=users["carol"])
        guidelines = FIXTURES / "guidelines"
        guideline_publish(project=project, body_md=(guidelines / "v1.md").read_text(encoding="utf-8"),
                          change_note="First version", author=users["carol"])
        # alice read v1; v2 then asks her (and everyone) to read again before the next task.
        guideline_acknowledge(user=users["alice"], project=project, number=1)
        guideline_publish(project=project, body_md=(guidelines / "v2.md").read_text(encoding="utf-8"),
                          change_note="Adds sycophancy, 'both bad' and flags", author=users["carol"])

    def _seed_llmfao(self, users):
        project = project_create(
            slug="llmfao", name="LLMFAO crowd pairs (demo)", actor=users["carol"], overlap=3, scale="binary_tie",
            description="Pairs from the LLMFAO crowdsourced benchmark (CC BY 4.0).",
        )
        for name in ("alice", "bob"):
            membership_add(project=project, user=users[name], actor=users["carol"])
        import_file(project=project, data=(FIXTURES / "llmfao_demo.jsonl").read_bytes(),
                    file_name="llmfao_demo.jsonl", actor=users["carol"])
        guideline_publish(project=project, body_md=(FIXTURES / "guidelines" / "v1.md").read_text(encoding="utf-8"),
                          change_note="First version", author=users["carol"])
