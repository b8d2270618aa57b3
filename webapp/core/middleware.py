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


class MethodNotAllowedMiddleware:
    """Turn Django's and ninja's blank 405s into the API's JSON error or a page with a way on."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 405 or response.get("Content-Type", "").startswith("application/json"):
            return response
        allowed = response.get("Allow", "")
        if request.path.startswith("/api/"):
            from webapp.core.api import json_error

            replacement = json_error(405, "method_not_allowed", f"use {allowed.replace(', ', ' or ')}")
        else:
            from django.shortcuts import render

            replacement = render(request, "method_not_allowed.html", {"allowed": allowed}, status=405)
        replacement["Allow"] = allowed
        return replacement
