"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json.

Hand-written so it documents intent (errors, idempotency, orientation) rather than
whatever a generator can infer; tests check that every API route is described.
"""
from django.http import JsonResponse


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(schema_ref: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
ASSIGNMENT_ID = {"name": "assignment_id", "in": "path", "required": True, "schema": {"type": "integer"}}
UNAUTH = _error("not logged in and no valid bearer token")
SKIP_INVALID = {"name": "skip_invalid", "in": "query", "schema": {"type": "boolean"},
                "description": "import the valid lines and list the rejected ones on the import"}

SPEC = {
    "openapi": "3.1.0",
    "info": {
        "title": "Preference Workbench API",
        "version": "1.0.0",
        "description": (
            "Raters fetch tasks and submit pairwise judgments; data leads import comparisons. "
            "Authenticate with `Authorization: Bearer <token>` (tokens from `manage.py create_user --token`) "
            "or a browser session (then send `X-CSRFToken` on POST). Errors are JSON: "
            "`{error, detail, field?}`. Responses never reveal which side is canonical A or B."
        ),
    },
    "servers": [{"url": "/"}],
    "security": [{"bearer": []}, {"session": []}],
    "paths": {
        "/api/v1/projects": {"get": {
            "summary": "Projects visible to the caller", "operationId": "projectList",
            "responses": {"200": {"description": "the projects and the caller's role"}, "401": UNAUTH},
        }},
        "/api/v1/projects/{slug}/guideline": {"get": {
            "summary": "The project's current guideline version", "operationId": "guidelineCurrent",
            "parameters": [SLUG],
            "responses": {"200": _json("Guideline", "current version"), "401": UNAUTH,
                          "404": _error("unknown project, not a member, or no guideline published")},
        }},
        "/api/v1/projects/{slug}/guideline/acknowledge": {"post": {
            "summary": "Acknowledge the current guideline version", "operationId": "guidelineAcknowledge",
            "parameters": [SLUG],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["version"], "properties": {"version": {"type": "integer"}}}}}},
            "responses": {"200": {"description": "acknowledged"}, "400": _error("no version given"), "401": UNAUTH,
                          "404": _error("unknown project"), "409": _error("that version is not the current one")},
        }},
        "/api/v1/projects/{slug}/assignments/next": {"post": {
            "summary": "Lease the next comparison (or get back your live lease)", "operationId": "assignmentNext",
            "parameters": [SLUG],
            "responses": {"200": _json("Assignment", "a leased task"), "204": {"description": "nothing left for you"},
                          "401": UNAUTH, "404": _error("unknown project"),
                          "409": _error("the current guideline is not acknowledged yet (error: guideline_not_acknowledged)")},
        }},
        "/api/v1/assignments/{assignment_id}/judgment": {"post": {
            "summary": "Submit a judgment; on an already judged assignment, a new key submits a correction",
            "operationId": "judgmentSubmit",
            "parameters": [ASSIGNMENT_ID, {"name": "Idempotency-Key", "in": "header", "required": True,
                                           "schema": {"type": "string", "maxLength": 100}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JudgmentIn"}}}},
            "responses": {"201": _json("JudgmentOut", "stored"),
                          "200": _json("JudgmentOut", "replay of an earlier request with the same Idempotency-Key"),
                          "400": _error("invalid answer for this project's scale"), "401": UNAUTH,
                          "404": _error("no such assignment of yours"),
                          "409": _error("the lease was lost (error: lease_lost), or the key was used for another assignment")},
        }},
        "/api/v1/assignments/{assignment_id}/skip": {"post": {
            "summary": "Give a leased task back, with a reason", "operationId": "assignmentSkip",
            "parameters": [ASSIGNMENT_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["reason"], "properties": {"reason": {"type": "string", "maxLength": 500}}}}}},
            "responses": {"200": {"description": "skipped"}, "400": _error("no reason"), "401": UNAUTH,
                          "404": _error("no such assignment of yours"), "409": _error("the lease was lost")},
        }},
        "/api/v1/projects/{slug}/imports": {"post": {
            "summary": "Import a JSONL file (optionally gzipped) of comparisons; data leads and admins",
            "operationId": "importCreate", "parameters": [SLUG, {"name": "file_name", "in": "query", "schema": {"type": "string"}},
                                                          SKIP_INVALID],
            "requestBody": {"required": True, "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}}},
            "responses": {"202": _json("Import", "queued; poll its url"), "400": _error("empty or too large"),
                          "401": UNAUTH, "403": _error("not a data lead"), "404": _error("unknown project")},
        }},
        "/api/v1/projects/{slug}/judgments/imports": {"post": {
            "summary": "Import judgments made elsewhere (CSV or JSONL, optionally gzipped) onto imported comparisons; "
                       "data leads and admins",
            "operationId": "judgmentImportCreate",
            "parameters": [SLUG, {"name": "file_name", "in": "query", "schema": {"type": "string"}}, SKIP_INVALID,
                           {"name": "source", "in": "query", "schema": {"type": "string", "maxLength": 200}}],
            "requestBody": {"required": True, "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}}},
            "responses": {"202": _json("Import", "queued; poll its url"), "400": _error("empty or too large"),
                          "401": UNAUTH, "403": _error("not a data lead"), "404": _error("unknown project")},
        }},
        "/api/v1/imports/{import_id}": {"get": {
            "summary": "An import's status and counts", "operationId": "importDetail",
            "parameters": [{"name": "import_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {"200": _json("Import", "status"), "401": UNAUTH, "403": _error("not a data lead"),
                          "404": _error("no such import")},
        }},
    },
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
        },
        "schemas": {
            "Error": {"type": "object", "required": ["error", "detail"], "properties": {
                "error": {"type": "string"}, "detail": {"type": "string"}, "field": {"type": "string"}}},
            "Guideline": {"type": "object", "properties": {
                "project": {"type": "string"}, "version": {"type": "integer"}, "sha256": {"type": "string"},
                "markdown": {"type": "string"}, "change_note": {"type": "string"},
                "published_at": {"type": "string", "format": "date-time"}, "acknowledged": {"type": "boolean"}}},
            "Side": {"type": "object", "properties": {
                "html": {"type": "string", "description": "sanitized rendering of the markdown"},
                "text": {"type": "string", "description": "raw untrusted model output: escape before display"}}},
            "Assignment": {"type": "object", "properties": {
                "assignment_id": {"type": "integer"}, "project": {"type": "string"},
                "prompt": {"type": "object", "properties": {"messages": {"type": "array", "items": {"type": "object", "properties": {
                    "role": {"type": "string"}, "content": {"type": "string"}, "html": {"type": "string"}}}}}},
                "left": {"$ref": "#/components/schemas/Side"}, "right": {"$ref": "#/components/schemas/Side"},
                "guideline": {"type": "object", "properties": {"version": {"type": "integer"}, "sha256": {"type": "string"}}},
                "lease_expires_at": {"type": "string", "format": "date-time"},
                "scale": {"type": "object"}, "allow_both_bad": {"type": "boolean"}, "rationale_required": {"type": "boolean"}}},
            "JudgmentIn": {"type": "object", "required": ["choice"], "properties": {
                "choice": {"type": "string", "enum": ["left", "right", "tie", "both_bad"]},
                "strength": {"type": ["integer", "null"], "description": "required with left/right on scales with strengths"},
                "rationale": {"type": "string"},
                "flags": {"type": "array", "items": {"type": "string", "enum": ["unsafe", "cannot_judge"]}},
                "active_ms": {"type": ["integer", "null"], "description": "client-measured active time on the task"}}},
            "JudgmentOut": {"type": "object", "properties": {
                "judgment_id": {"type": "integer"}, "assignment_id": {"type": "integer"},
                "choice": {"type": "string"}, "strength": {"type": ["integer", "null"]},
                "supersedes": {"type": ["integer", "null"]}}},
            "Import": {"type": "object", "properties": {
                "import_id": {"type": "integer"}, "project": {"type": "string"}, "file_name": {"type": "string"},
                "sha256": {"type": "string"}, "status": {"type": "string", "enum": ["pending", "running", "done", "failed"]},
                "format": {"type": "string"}, "created": {"type": "integer"}, "already_present": {"type": "integer"},
                "error": {"type": "string"}, "url": {"type": "string"},
                "job_id": {"type": ["integer", "null"], "description": "the job that runs it: GET /api/v1/jobs/{id}"},
                "attempts": {"type": "integer", "description": "tries so far (a dead worker's import is retried)"}}},
        },
    },
}


def openapi_json(request):
    return JsonResponse(_with_ninja_routes(SPEC))


def _with_ninja_routes(spec: dict) -> dict:
    """Add the operations declared with django-ninja (webapp/ninja_api.py: jobs, exports), whose
    schemas are generated from the code, until the whole API is declared that way."""
    from webapp.ninja_api import api

    generated = api.get_openapi_schema(path_prefix="/api/v1")
    merged = {**spec, "paths": {**spec["paths"], **generated["paths"]},
              "components": {**spec.get("components", {}),
                             "schemas": {**spec.get("components", {}).get("schemas", {}),
                                         **generated.get("components", {}).get("schemas", {})}}}
    return merged
