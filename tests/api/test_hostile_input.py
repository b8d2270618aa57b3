"""Hostile and malformed requests: each gets its 4xx with the error code and field, never a 500,
and nothing is written. The first four rows are the crashes issue 8 found (each was a 500)."""
import json
from dataclasses import dataclass
from dataclasses import field as dataclass_field

import pytest
from django.test import Client

from tests.conftest import acknowledge, comparisons_jsonl
from webapp.audit.models import AuditEvent
from webapp.comparisons import services
from webapp.comparisons.models import Assignment, ImportBatch, Judgment
from webapp.guidelines.models import Acknowledgement

pytestmark = pytest.mark.django_db

IMPORT_LIMIT = 4096  # WB_MAX_IMPORT_BYTES for these tests: small, so oversized uploads stay cheap
JSON_LIMIT = 64 * 1024


@dataclass
class Hostile:
    name: str
    path: str                  # "{a}" is a live assignment of alice's
    body: bytes | dict | None  # a dict is sent as multipart form data
    status: int
    error: str
    field: str | None = None
    who: str = "alice"
    content_type: str = "application/json"
    headers: dict = dataclass_field(default_factory=lambda: {"HTTP_IDEMPOTENCY_KEY": "k-1"})
    method: str = "post"


def judgment(body: str | bytes, status=400, error="invalid", field=None, **options) -> dict:
    return {"path": "/api/v1/assignments/{a}/judgment", "body": body if isinstance(body, bytes) else body.encode(),
            "status": status, "error": error, "field": field, **options}


NESTED = "[" * 5000 + "]" * 5000  # ~10 kB: under the body limit, far over the parser's recursion limit

TABLE = [
    # The four crashes of issue 8 (each returned a 500 with a traceback)
    Hostile("deeply nested JSON body", **judgment(NESTED)),
    Hostile("deeply nested JSON in a field", **judgment('{"choice": "left", "flags": ' + NESTED + "}")),
    Hostile("flags list holding an object", **judgment('{"choice": "left", "flags": [{"unsafe": true}]}', field="flags")),
    Hostile("assignment id over 64 bits", path="/api/v1/assignments/99999999999999999999999/judgment",
            body=b'{"choice": "left"}', status=400, error="invalid", field="assignment_id"),
    Hostile("multipart import without a file part", path="/api/v1/projects/demo/imports", body={"other": "x"},
            status=400, error="invalid", field="file", who="carol", content_type="multipart", headers={}),
    # Wrong types
    Hostile("choice is a number", **judgment('{"choice": 5}', field="choice")),
    Hostile("choice missing (empty body)", **judgment(b"", field="choice")),
    Hostile("strength as a string", **judgment('{"choice": "left", "strength": "3"}', field="strength")),
    Hostile("strength as a boolean", **judgment('{"choice": "left", "strength": true}', field="strength")),
    Hostile("strength as a float", **judgment('{"choice": "left", "strength": 1.5}', field="strength")),
    Hostile("rationale as a number", **judgment('{"choice": "left", "rationale": 12}', field="rationale")),
    Hostile("flags as a string", **judgment('{"choice": "left", "flags": "unsafe"}', field="flags")),
    Hostile("unknown flag", **judgment('{"choice": "left", "flags": ["nice"]}', field="flags")),
    Hostile("active_ms negative", **judgment('{"choice": "left", "active_ms": -1}', field="active_ms")),
    Hostile("body is a JSON array", **judgment('["left"]')),
    Hostile("body is a JSON string", **judgment('"left"')),
    Hostile("body is form-encoded", **judgment("choice=left", content_type="application/x-www-form-urlencoded")),
    Hostile("version as a string", path="/api/v1/projects/demo/guideline/acknowledge", body=b'{"version": "1"}',
            status=400, error="invalid", field="version", headers={}),
    Hostile("skip reason as an object", path="/api/v1/assignments/{a}/skip", body=b'{"reason": {"why": 1}}',
            status=400, error="invalid", field="reason", headers={}),
    # Huge numbers
    Hostile("strength over 64 bits", **judgment('{"choice": "left", "strength": ' + "9" * 40 + "}", field="strength")),
    Hostile("active_ms of 1e400 (infinity)", **judgment('{"choice": "left", "active_ms": 1e400}', field="active_ms")),
    Hostile("version over 64 bits", path="/api/v1/projects/demo/guideline/acknowledge",
            body=('{"version": %d}' % 2**64).encode(), status=400, error="invalid", field="version", headers={}),
    Hostile("import id over 64 bits", path="/api/v1/imports/" + "9" * 30, body=None, status=400, error="invalid",
            field="import_id", who="carol", method="get", headers={}),
    Hostile("negative assignment id in range", path="/api/v1/assignments/0/skip", body=b'{"reason": "x"}',
            status=400, error="invalid", field="assignment_id", headers={}),
    # NUL characters and broken Unicode
    Hostile("NUL in the rationale", **judgment('{"choice": "left", "rationale": "a\\u0000b"}', field="rationale")),
    Hostile("NUL in a skip reason", path="/api/v1/assignments/{a}/skip", body=b'{"reason": "\\u0000"}',
            status=400, error="invalid", field="reason", headers={}),
    Hostile("raw NUL byte in the JSON", **judgment(b'{"choice": "left", "rationale": "a\x00b"}')),
    Hostile("invalid UTF-8", **judgment(b'{"choice": "left", "rationale": "\xff\xfe\xfd"}')),
    Hostile("lone surrogate", **judgment('{"choice": "left", "rationale": "\\ud800"}', field="rationale")),
    Hostile("NUL in the Idempotency-Key", **judgment('{"choice": "left"}', field="Idempotency-Key",
                                                      headers={"HTTP_IDEMPOTENCY_KEY": "k\x01"})),
    # Oversized fields
    Hostile("rationale over 10,000 characters", **judgment(json.dumps({"choice": "left", "rationale": "x" * 10_001}),
                                                           field="rationale")),
    Hostile("skip reason over 500 characters", path="/api/v1/assignments/{a}/skip",
            body=json.dumps({"reason": "x" * 501}).encode(), status=400, error="invalid", field="reason", headers={}),
    Hostile("Idempotency-Key over 100 characters", **judgment('{"choice": "left"}', field="Idempotency-Key",
                                                               headers={"HTTP_IDEMPOTENCY_KEY": "k" * 101})),
    Hostile("import file name over 255 characters", path="/api/v1/projects/demo/imports?file_name=" + "n" * 300,
            body=comparisons_jsonl(1), status=400, error="invalid", field="file_name", who="carol",
            content_type="application/octet-stream", headers={}),
    # Oversized bodies
    Hostile("judgment body over the JSON limit", **judgment(json.dumps({"choice": "left", "rationale": "x" * JSON_LIMIT}),
                                                            status=413, error="too_large")),
    Hostile("1 MB body on next-task", path="/api/v1/projects/demo/assignments/next", body=b" " * 1_000_000,
            status=413, error="too_large", headers={}),
    Hostile("import body over the import limit", path="/api/v1/projects/demo/imports?file_name=big.jsonl",
            body=comparisons_jsonl(200), status=413, error="too_large", who="carol",
            content_type="application/octet-stream", headers={}),
    Hostile("multipart import over the import limit", path="/api/v1/projects/demo/imports",
            body={"file": ("big.jsonl", comparisons_jsonl(200))}, status=413, error="too_large", who="carol",
            content_type="multipart", headers={}),
    Hostile("empty import body", path="/api/v1/projects/demo/imports?file_name=e.jsonl", body=b"", status=400,
            error="invalid", field="file", who="carol", content_type="application/octet-stream", headers={}),
    Hostile("NUL in a judgment import's source (query)", path="/api/v1/projects/demo/judgments/imports?source=a%00b",
            body=b"x", status=400, error="invalid", field="source", who="carol",
            content_type="application/octet-stream", headers={}),
    Hostile("NUL in a judgment import's source (form field)", path="/api/v1/projects/demo/judgments/imports",
            body={"file": ("j.csv", b"x"), "source": "a\x00b"}, status=400, error="invalid", field="source",
            who="carol", content_type="multipart", headers={}),
    Hostile("skip_invalid that is not a boolean", path="/api/v1/projects/demo/imports?skip_invalid=maybe",
            body=comparisons_jsonl(1), status=400, error="invalid", field="skip_invalid", who="carol",
            content_type="application/octet-stream", headers={}),
    Hostile("judgment import without a file part", path="/api/v1/projects/demo/judgments/imports",
            body={"source": "x"}, status=400, error="invalid", field="file", who="carol", content_type="multipart",
            headers={}),
    # Wrong method and unknown addresses stay JSON
    Hostile("GET on a POST-only endpoint", path="/api/v1/assignments/{a}/judgment", body=None, status=405,
            error="method_not_allowed", method="get", headers={}),
    Hostile("unknown API address", path="/api/v1/nothing/here", body=None, status=404, error="not_found",
            method="get", headers={}),
    Hostile("newline in an unknown address", path="/api/v1/projects/a%0Ab/guideline", body=None, status=404,
            error="not_found", method="get", headers={}),
    Hostile("slug with a character no slug has", path="/api/v1/projects/d%C3%A9mo/assignments/next", body=None,
            status=404, error="not_found", headers={}),
]


@pytest.fixture
def lease(world, tokens, settings):
    settings.WB_MAX_IMPORT_BYTES = IMPORT_LIMIT
    acknowledge(world, "alice")
    return services.assignment_next(project=world.project, rater=world.alice)


def written_state() -> tuple:
    return (Judgment.objects.count(), AuditEvent.objects.count(), ImportBatch.objects.count(),
            Acknowledgement.objects.count(), sorted(Assignment.objects.values_list("id", "status")))


def send(client: Client, row: Hostile, token: str, assignment_id: int):
    path = row.path.format(a=assignment_id)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}", **row.headers}
    if row.method == "get":
        return client.get(path, **headers)
    if row.content_type == "multipart":
        files = {k: _file(v) for k, v in row.body.items()}
        return client.post(path, data=files, **headers)
    return client.post(path, data=row.body or b"", content_type=row.content_type, **headers)


def _file(value):
    if isinstance(value, tuple):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return SimpleUploadedFile(value[0], value[1])
    return value


@pytest.mark.parametrize("row", TABLE, ids=[row.name for row in TABLE])
def test_it_refuses_hostile_input_with_a_clear_error_and_writes_nothing(client, tokens, lease, row):
    before = written_state()
    response = send(client, row, tokens[row.who], lease.pk)
    assert response.status_code == row.status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == row.error, body
    assert body.get("field") == row.field, body
    assert body["detail"] and isinstance(body["detail"], str)
    assert written_state() == before


def test_the_same_lease_still_takes_a_good_judgment_after_the_hostile_ones(client, tokens, lease):
    for row in TABLE:
        send(client, row, tokens[row.who], lease.pk)
    good = client.post(f"/api/v1/assignments/{lease.pk}/judgment", data='{"choice": "left", "flags": ["unsafe"]}',
                       content_type="application/json", HTTP_IDEMPOTENCY_KEY="good",
                       HTTP_AUTHORIZATION=f"Bearer {tokens['alice']}")
    assert good.status_code == 201
    assert Judgment.objects.get().flags == ["unsafe"]
