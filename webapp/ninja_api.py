"""The django-ninja API that mounts each app's `router` at /api/v1/ (routes not declared here fall
through to the hand-written views in webapp/urls.py). Errors keep the API's one JSON shape:
{"error": code, "detail": message, "field"?: name}."""
from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError

from webapp.accounts.api_auth import _authenticate, json_error
from webapp.core.errors import DomainError


class TokenOrSession:
    """Bearer token, or the browser session (with its CSRF check on writes)."""

    def __call__(self, request: HttpRequest):
        user, failure = _authenticate(request)
        if failure is not None:
            request._wb_auth_failure = failure
            return None
        return user


api = NinjaAPI(title="Preference Workbench jobs API", version="1", urls_namespace="wb-ninja",
               openapi_url="/jobs-openapi.json", docs_url=None, auth=TokenOrSession())


@api.exception_handler(DomainError)
def _domain_error(request, error: DomainError):
    return json_error(error.status, error.code, error.message, error.field)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, error):
    failure = getattr(request, "_wb_auth_failure", None)
    return failure or json_error(401, "unauthenticated", "log in or send 'Authorization: Bearer <token>'")


@api.exception_handler(NinjaValidationError)
def _invalid(request, error: NinjaValidationError):
    first = error.errors[0] if error.errors else {}
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "payload", "query", "path")]
    field = ".".join(location) or None
    return json_error(400, "invalid", f"{field or 'request'}: {first.get('msg', 'invalid value')}", field)


def _mount():
    from webapp.exports.api import router as exports_router
    from webapp.runs.api import router as runs_router

    api.add_router("/", runs_router)
    api.add_router("/", exports_router)


_mount()
