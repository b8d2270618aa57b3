"""Shared fixtures: named personas (healthchecks style) and a small project with comparisons.

alice and bob rate in the same pool, carol is the data lead, dave is an admin,
eve is a rater in no project of theirs (an outsider).
"""
import json
from types import SimpleNamespace

import pytest
from django.db import connection

from webapp.accounts.services import token_create, user_create
from webapp.comparisons.imports import import_file
from webapp.guidelines.services import guideline_acknowledge, guideline_publish
from webapp.projects.services import membership_add, project_create

PASSWORD = "correct-horse-battery"


def pytest_collection_modifyitems(config, items):
    on_postgres = connection.vendor == "postgresql"
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL); runs in the PostgreSQL pass of ./run test")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)


def comparisons_jsonl(n: int, *, start: int = 0, tag: str = "pair") -> bytes:
    lines = [
        json.dumps({
            "prompt": [{"role": "user", "content": f"Question {i}: what is {i} + {i}?"}],
            "response_a": {"text": f"It is **{2 * i}**.", "model": "model-a"},
            "response_b": {"text": f"I think it is {2 * i + 1}.", "model": "model-b"},
            "gold": "a", "id": f"{tag}-{i}",
        })
        for i in range(start, start + n)
    ]
    return ("\n".join(lines) + "\n").encode()


def add_comparisons(project, n: int, *, actor=None, start: int = 0):
    return import_file(project=project, data=comparisons_jsonl(n, start=start), file_name=f"pairs-{start}.jsonl",
                       actor=actor)


def make_world(*, overlap: int = 3, scale: str = "binary_tie", n_comparisons: int = 5, **project_options):
    users = {}
    for name, role in [("alice", "rater"), ("bob", "rater"), ("carol", "lead"), ("dave", "admin"), ("eve", "rater")]:
        users[name] = user_create(username=name, role=role, password=PASSWORD)
    project = project_create(slug="demo", name="Demo project", actor=users["carol"], overlap=overlap, scale=scale,
                             **project_options)
    for name in ("alice", "bob"):
        membership_add(project=project, user=users[name], actor=users["carol"])
    version = guideline_publish(project=project, body_md="# Rules\n\nPick the more helpful answer.",
                                change_note="first", author=users["carol"])
    if n_comparisons:
        add_comparisons(project, n_comparisons, actor=users["carol"])
    return SimpleNamespace(project=project, guideline=version, **users)


def acknowledge(world, *names):
    for name in names:
        guideline_acknowledge(user=getattr(world, name), project=world.project,
                              number=world.project.guideline_versions.order_by("-number").first().number)


def judge_canonical(project, rater, canonical: str):
    """Lease `rater`'s next pair and choose canonical side `canonical` ("a" or "b"); return the lease."""
    from webapp.comparisons import services

    assignment = services.assignment_next(project=project, rater=rater)
    displayed = "left" if (canonical == "a") == assignment.left_is_a else "right"
    services.judgment_submit(assignment_id=assignment.pk, rater=rater, choice=displayed,
                             idempotency_key=f"{rater.pk}-{assignment.pk}-{assignment.round}")
    return assignment


def extra_raters(world, count: int, *, prefix: str = "rater"):
    raters = []
    for i in range(count):
        user = user_create(username=f"{prefix}{i}", role="rater", password=PASSWORD)
        membership_add(project=world.project, user=user, actor=world.carol)
        guideline_acknowledge(user=user, project=world.project, number=world.guideline.number)
        raters.append(user)
    return raters


@pytest.fixture
def world(db):
    return make_world()


@pytest.fixture
def tokens(world):
    return {name: token_create(user=getattr(world, name)) for name in ("alice", "bob", "carol", "dave", "eve")}


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # PBKDF2's deliberate slowness would dominate the suite; hashing is Django's, not ours, to test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker consuming the configured broker (filesystem or Redis) in a thread."""
    from celery.contrib.testing.worker import start_worker

    from webapp.celery import app

    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30) as worker:
        yield worker
