"""Domain errors. Each carries the HTTP status and a stable code the API returns."""


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def as_dict(self) -> dict:
        body = {"error": self.code, "detail": self.message}
        if self.field:
            body["field"] = self.field
        return body


class ValidationFailed(DomainError):
    status = 400
    code = "invalid"


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"


class CsrfFailed(DomainError):
    status = 403
    code = "csrf_failed"


class PayloadTooLarge(DomainError):
    status = 413
    code = "too_large"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class GuidelineNotAcknowledged(Conflict):
    code = "guideline_not_acknowledged"


class QuizRequired(Conflict):
    code = "quiz_required"


class LeaseLost(Conflict):
    code = "lease_lost"


class InvalidTransition(Conflict):
    code = "invalid_transition"
