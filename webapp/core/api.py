"""Pieces every app's API router shares: auth, the JSON parser, the error shape and handlers,
and field types that keep hostile values out before any service sees them.

Each app with endpoints exposes `router = ninja.Router()` in `webapp/<app>/api.py`; the one
NinjaAPI (webapp/api.py) mounts them at /api/v1/ and installs what is defined here:

    router = Router(tags=["runs"])

    @router.get("/jobs/{int:job_id}", response={200: JobOut, **error_responses(403, 404)})
    def job_detail(request, job_id: Annotated[RowId, Path()]):
        user = request.auth           # the caller (bearer token or session), already checked
        ...                           # raise DomainError subclasses: they become {"error", "detail", "field"}

Bodies are JSON objects of at most WB_MAX_JSON_BODY_BYTES unless the view is @accepts_upload.
"""
import functools
import json
from collections.abc import Callable
from typing import Annotated

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt
from ninja import Path, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import APIKeyCookie, HttpBearer
from pydantic import AfterValidator, Field

from webapp.core.errors import (
    CsrfFailed,
    DomainError,
    PayloadTooLarge,
    Unauthenticated,
    ValidationFailed,
)
from webapp.core.uploads import (
    content_length,
    megabytes,
    refuse_if_larger,
    refuse_oversized_upload,
    use_import_upload_handlers,
)

INT64_MAX = 2**63 - 1
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ErrorOut(Schema):
    """Every API error: a stable code, a sentence for people, and the field it is about if any."""

    error: str
    detail: str
    field: str | None = None


def json_error(status: int, code: str, detail: str, field: str | None = None) -> JsonResponse:
    body = {"error": code, "detail": detail}
    if field:
        body["field"] = field
    return JsonResponse(body, status=status)


# --- field types ----------------------------------------------------------------------------
def storable_text(value: str) -> str:
    """`value`, or ValueError when a database could not store it."""
    # PostgreSQL text cannot hold NUL, and a lone surrogate (JSON allows "\ud800") cannot be
    # encoded as UTF-8: either would fail in the database driver, after validation.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no unpaired surrogates)") from None
    return value


def checked_text(value: str, field: str, *, max_length: int | None = None) -> str:
    """The rules of `Text` for values no schema covers (form fields, file names): ValidationFailed."""
    try:
        storable_text(value)
    except ValueError as error:
        raise ValidationFailed(f"{field}: {error}", field=field) from None
    if max_length is not None and len(value) > max_length:
        raise ValidationFailed(f"{field}: at most {max_length} characters", field=field)
    return value


def Text(max_length: int, **field) -> type:  # noqa: N802 (a type factory, used like a type)
    """A JSON string the database can store: no NUL, no lone surrogate, at most `max_length` chars."""
    return Annotated[str, Field(max_length=max_length, **field), AfterValidator(storable_text)]


# Ids in paths: never beyond what a 64-bit column holds (SQLite raises OverflowError on larger
# ones). Whole numbers in bodies are StrictInt (JSON integers, not true/false, "3" or 3.0) with
# bounds of their own.
RowId = Annotated[int, Field(ge=1, le=INT64_MAX)]
# What Django's <slug:…> converter matches (anything else never reaches a view).
SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"
SlugPath = Annotated[str, Path(pattern=SLUG_PATTERN, max_length=64, description="the project's slug")]


# --- auth -----------------------------------------------------------------------------------
class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`; a present but wrong header is refused, never ignored."""

    def __init__(self, lookup: Callable[[str], object | None]):
        self.lookup = lookup
        super().__init__()

    def __call__(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None  # maybe a browser session
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise Unauthenticated("use 'Authorization: Bearer <token>'")
        return self.authenticate(request, raw.strip())

    def authenticate(self, request, token):
        user = self.lookup(token)
        if user is None:
            raise Unauthenticated("the token is unknown or revoked")
        return user


class SessionWithCsrf(APIKeyCookie):
    """A logged-in browser session; writes need the CSRF token (X-CSRFToken), as on the pages.
    Token clients are not browsers and carry no ambient credentials, so CSRF applies here only."""

    param_name = "sessionid"

    def _get_key(self, request):
        return None  # the session middleware has read the cookie already

    def __call__(self, request):
        if not request.user.is_authenticated:
            return None
        if request.method not in SAFE_METHODS and _csrf_failure(request) is not None:
            raise CsrfFailed("CSRF check failed: send the X-CSRFToken header")
        return request.user

    def authenticate(self, request, key):  # unused: __call__ decides
        return None


def _csrf_failure(request):
    check = CsrfViewMiddleware(lambda req: HttpResponse())
    check.process_request(request)
    return check.process_view(request, None, (), {})


# --- request bodies -------------------------------------------------------------------------
def accepts_upload(view):
    """Mark an operation that takes an import file: its body may be up to the import limit and
    is streamed to disk; every other operation's body is limited to WB_MAX_JSON_BODY_BYTES."""
    view.accepts_upload = True
    return view


def body_limits(run):
    """API-wide view decorator: refuse an over-limit body from its Content-Length, before the
    body is read, before auth and validation."""
    operation = run.__self__
    upload = getattr(operation.view_func, "accepts_upload", False)

    @functools.wraps(run)
    def checked(request, *args, **kwargs):
        try:
            if upload:
                refuse_oversized_upload(request)
                use_import_upload_handlers(request)
            else:
                refuse_if_larger(request, settings.WB_MAX_JSON_BODY_BYTES, what="the request body",
                                 setting="WB_MAX_JSON_BODY_BYTES")
        except PayloadTooLarge as error:
            return operation.api.on_exception(request, error)
        if not upload and content_length(request) == 0:
            # An empty body is an empty object, so a missing field is named (as before ninja).
            request._body = b"{}"
        return run(request, *args, **kwargs)

    return checked


class JsonParser(Parser):
    """JSON bodies (their size is checked by body_limits); anything unparsable is a 400, never a 500."""

    def parse_body(self, request):
        try:
            body = json.loads(request.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValidationFailed(f"the request body is not valid JSON: {error}") from None
        except RecursionError:
            raise ValidationFailed("the request body is nested too deeply") from None
        if not isinstance(body, dict):
            raise ValidationFailed("the request body must be a JSON object")
        return body


# --- errors ---------------------------------------------------------------------------------
_SOURCES = {"body", "path", "query", "header", "cookie", "form", "file"}


def _validation_field(loc: tuple, body_params: set[str]) -> str | None:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    if parts and parts[0] in body_params:
        parts = parts[1:]
    return ".".join(parts) or None


def validation_error_response(api, request, exc: ValidationError) -> HttpResponse:
    first = exc.errors[0]
    field = _validation_field(tuple(first.get("loc", ())), {"payload"})
    message = first.get("msg", "invalid value")
    detail = f"{field}: {message}" if field else f"the request body: {message}"
    return json_error(400, "invalid", detail, field)


def install_error_handlers(api) -> None:
    """Every error leaves the API as {"error", "detail", "field"?} with its status."""
    api.add_exception_handler(DomainError, lambda request, exc: JsonResponse(exc.as_dict(), status=exc.status))
    api.add_exception_handler(ValidationError, lambda request, exc: validation_error_response(api, request, exc))
    api.add_exception_handler(AuthenticationError, lambda request, exc: json_error(
        401, "unauthenticated", "log in or send 'Authorization: Bearer <token>'"))
    api.add_exception_handler(HttpError, _http_error)
    api.add_exception_handler(Http404, lambda request, exc: json_error(404, "not_found", "no such resource"))
    api.add_exception_handler(RequestDataTooBig, lambda request, exc: json_error(
        413, PayloadTooLarge.code, f"the request body is too large: {exc}"))


def _http_error(request, exc: HttpError) -> JsonResponse:
    # ninja wraps what the body parser raises ("Cannot parse request body"): keep our message.
    cause = exc.__cause__
    if isinstance(cause, DomainError):
        return JsonResponse(cause.as_dict(), status=cause.status)
    return json_error(exc.status_code, "http_error", str(exc))


# Any operation can answer these: invalid parameters or body, no valid credentials, a body over
# its limit (body_limits wraps every operation).
COMMON_ERRORS = (400, 401, 413)


def error_responses(*statuses: int) -> dict:
    """Response declarations for an operation's error statuses (COMMON_ERRORS included)."""
    return {status: ErrorOut for status in sorted({*COMMON_ERRORS, *statuses})}


__all__ = ["ErrorOut", "SlugPath", "Text", "checked_text", "storable_text", "RowId", "BearerToken", "SessionWithCsrf", "JsonParser", "accepts_upload",
           "body_limits", "install_error_handlers", "error_responses", "json_error", "api_not_found", "megabytes"]


@csrf_exempt  # like every API view: session writes are checked by SessionWithCsrf, not here
def api_not_found(request, unmatched=""):
    """Any /api/ address no route matches: the API's JSON 404, not the site's HTML page."""
    return json_error(404, "not_found", f"no API endpoint at {request.path}")
