"""Plumbing for the JSON API: bearer-token or session auth, JSON bodies, domain errors as JSON."""
import functools
import json

from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from webapp.accounts.services import user_for_token
from webapp.core.errors import DomainError, ValidationFailed


def json_error(status: int, code: str, detail: str, field: str | None = None) -> JsonResponse:
    body = {"error": code, "detail": detail}
    if field:
        body["field"] = field
    return JsonResponse(body, status=status)


def _session_csrf_failure(request):
    # Token clients are not browsers and carry no ambient credentials, so CSRF applies to sessions only.
    check = CsrfViewMiddleware(lambda req: HttpResponse())
    check.process_request(request)
    return check.process_view(request, None, (), {})


def _authenticate(request):
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            return None, json_error(401, "unauthenticated", "use 'Authorization: Bearer <token>'")
        user = user_for_token(raw.strip())
        if user is None:
            return None, json_error(401, "unauthenticated", "the token is unknown or revoked")
        return user, None
    if request.user.is_authenticated:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            failure = _session_csrf_failure(request)
            if failure is not None:
                return None, json_error(403, "csrf_failed", "CSRF check failed: send the X-CSRFToken header")
        return request.user, None
    return None, json_error(401, "unauthenticated", "log in or send 'Authorization: Bearer <token>'")


def api_view(methods: tuple[str, ...]):
    """Wrap a view `(request, user, **kwargs) -> HttpResponse | dict` for the JSON API."""

    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request, **kwargs):
            if request.method not in methods:
                return json_error(405, "method_not_allowed", f"use {' or '.join(methods)}")
            user, failure = _authenticate(request)
            if failure is not None:
                return failure
            try:
                result = view(request, user, **kwargs)
            except DomainError as error:
                return JsonResponse(error.as_dict(), status=error.status)
            return JsonResponse(result) if isinstance(result, dict) else result

        return wrapper

    return decorate


def json_body(request) -> dict:
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValidationFailed(f"the request body is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise ValidationFailed("the request body must be a JSON object")
    return body
