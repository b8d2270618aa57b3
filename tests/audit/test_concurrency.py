"""Audit appends racing in real threads (own connections, committed data) keep one unbroken chain.

On PostgreSQL the advisory lock serializes appends; on SQLite the IMMEDIATE transaction does.
"""
import threading

import pytest
from django.db import connections, transaction

from webapp.audit.models import AuditEvent
from webapp.audit.services import audit_record, audit_verify

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8
EVENTS_PER_THREAD = 20


def test_it_keeps_one_unbroken_chain_under_concurrent_appends():
    barrier = threading.Barrier(THREADS)
    errors = []

    def append_many(worker: int):
        try:
            barrier.wait()
            for i in range(EVENTS_PER_THREAD):
                with transaction.atomic():
                    audit_record(actor=None, action="test.concurrent", object_type="test.worker",
                                 object_id=str(worker), payload={"worker": worker, "i": i})
        except Exception as error:  # surfaced below: a thread must not fail silently
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append_many, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    assert not errors, errors

    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, THREADS * EVENTS_PER_THREAD + 1))
    report = audit_verify()
    assert report.ok, report.problem
    assert report.checked == THREADS * EVENTS_PER_THREAD
    written = set(AuditEvent.objects.values_list("payload__worker", "payload__i"))
    assert written == {(w, i) for w in range(THREADS) for i in range(EVENTS_PER_THREAD)}
