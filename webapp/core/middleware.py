import uuid

from webapp.core import context


def client_ip(request) -> str:
    # Behind a proxy, set the proxy to overwrite REMOTE_ADDR (gunicorn --forwarded-allow-ips);
    # trusting X-Forwarded-For blindly would let clients forge their audit IP.
    return request.META.get("REMOTE_ADDR", "")


class RequestContextMiddleware:
    """Give every request an id (echoed as X-Request-ID) and expose it to audit events."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming[:64] if incoming.isascii() and incoming.isprintable() and incoming else uuid.uuid4().hex
        request.request_id = request_id
        token = context.set_current(context.RequestContext(request_id=request_id, ip=client_ip(request)))
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["X-Request-ID"] = request_id
        return response
