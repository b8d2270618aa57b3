"""Two uploads of one new probe suite at once (a double-clicked form): the second waits for the first
and finds its suite, instead of failing on the unique name. Real threads, own connections, committed
data; on SQLite the IMMEDIATE transactions serialize them, on PostgreSQL the project row lock does."""
import threading

import pytest
from django.db import connections, transaction

from tests.conftest import make_world
from tests.diagnostics.test_probes import suite_file
from webapp.diagnostics.models import ProbeSuite
from webapp.diagnostics.services import upload_probe_suite

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_second_first_upload_of_the_same_suite_waits_and_finds_it_unchanged():
    world = make_world(n_comparisons=0)
    data = suite_file(n=3)
    first_uploaded, outcomes, errors = threading.Event(), {}, []

    def first():
        try:
            with transaction.atomic():  # holds its uncommitted suite while the second upload starts
                outcomes["first"] = upload_probe_suite(project=world.project, actor=world.carol, data=data,
                                                       file_name="mine.jsonl").outcome
                first_uploaded.set()
                threading.Event().wait(0.5)
        except Exception as error:  # surfaced below: a thread must not fail silently
            errors.append(error)
        finally:
            first_uploaded.set()
            connections.close_all()

    def second():
        try:
            first_uploaded.wait(30)
            outcomes["second"] = upload_probe_suite(project=world.project, actor=world.carol, data=data,
                                                    file_name="mine.jsonl").outcome
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert outcomes == {"first": "created", "second": "unchanged"}
    assert ProbeSuite.objects.filter(project=world.project, name="mine").count() == 1
