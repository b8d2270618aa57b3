"""The audit page shows each event's payload as labelled fields, not as a JSON string."""
import pytest
from django.test import Client

from tests.conftest import PASSWORD
from webapp.audit.services import audit_record
from webapp.lead.audit_views import payload_fields

pytestmark = pytest.mark.django_db


def test_payload_values_read_as_words():
    assert payload_fields({"file_name": "pairs.jsonl", "size_bytes": 120, "passed": False, "note": None,
                           "comparison_ids": [3, 8], "nested": {"b": 1, "a": [1]}}) == [
        ("comparison ids", "3, 8"), ("file name", "pairs.jsonl"), ("nested", '{"a": [1], "b": 1}'),
        ("note", "—"), ("passed", "no"), ("size bytes", "120")]
    assert payload_fields([1, 2]) == [("value", "1, 2")]
    assert payload_fields({}) == []


def test_the_audit_page_lists_payload_fields(world):
    audit_record(actor=world.carol, action="test.payload", project_id=world.project.pk,
                 payload={"file_name": "<b>pairs</b>.jsonl", "threshold": 0.8, "comparison_ids": [3, 8]})
    client = Client()
    assert client.login(username="dave", password=PASSWORD)
    body = client.get("/audit/", {"action": "test.payload"}).content.decode()
    assert ('<dl class="payload"><div><dt>comparison ids</dt><dd>3, 8</dd></div>'
            '<div><dt>file name</dt><dd>&lt;b&gt;pairs&lt;/b&gt;.jsonl</dd></div>'
            '<div><dt>threshold</dt><dd>0.8</dd></div></dl>') in body
    assert "&quot;file_name&quot;" not in body  # no JSON text
