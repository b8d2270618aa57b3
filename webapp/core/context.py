"""Request-scoped facts (request id, client IP) that audit events pick up without plumbing."""
import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str = ""


_current = contextvars.ContextVar("wb_request_context", default=RequestContext())


def current() -> RequestContext:
    return _current.get()


def set_current(ctx: RequestContext) -> contextvars.Token:
    return _current.set(ctx)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)
