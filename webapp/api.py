"""The JSON API: one NinjaAPI at /api/v1/ mounting each app's `router` (webapp/<app>/api.py).

The routers' schemas validate every request and generate /api/v1/openapi.json, so the
document cannot drift from the code. Adding an app's endpoints is one add_router line.
"""
from ninja import NinjaAPI

from webapp.accounts.services import user_for_token
from webapp.comparisons.api import router as comparisons_router
from webapp.core.api import BearerToken, JsonParser, SessionWithCsrf, body_limits, install_error_handlers
from webapp.exports.api import router as exports_router
from webapp.guidelines.api import router as guidelines_router
from webapp.projects.api import router as projects_router
from webapp.runs.api import router as runs_router

api = NinjaAPI(
    title="Preference Workbench API",
    version="1.0.0",
    description=(
        "Raters fetch tasks and submit pairwise judgments; data leads import comparisons. "
        "Authenticate with `Authorization: Bearer <token>` (tokens from `manage.py create_user --token`) "
        "or a browser session (then send `X-CSRFToken` on POST). Errors are JSON: "
        "`{error, detail, field?}`. Request bodies are limited to WB_MAX_JSON_BODY_BYTES (imports: "
        "WB_MAX_IMPORT_BYTES); over that, 413 `too_large`. Responses never reveal which side is canonical A or B."
    ),
    urls_namespace="api",
    auth=[BearerToken(user_for_token), SessionWithCsrf()],
    parser=JsonParser(),
    docs_url=None,
)
install_error_handlers(api)
api.add_decorator(body_limits, mode="view")

api.add_router("", projects_router)
api.add_router("", guidelines_router)
api.add_router("", comparisons_router)
api.add_router("", runs_router)
api.add_router("", exports_router)
