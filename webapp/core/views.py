"""Shared plumbing for HTML views."""
import functools

from django.http import Http404
from django.shortcuts import render

from webapp.core.errors import Forbidden, NotFound


def domain_errors_as_pages(view):
    """Show Forbidden as a 403 page and NotFound as a 404, so views can call selectors directly."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Forbidden as error:
            return render(request, "forbidden.html", {"detail": error.message}, status=403)
        except NotFound as error:
            raise Http404(error.message) from None

    return wrapper


def bad_request(request, exception=None):
    """handler400: a body over a limit gets the 413 page; other bad requests a readable 400."""
    from django.core.exceptions import RequestDataTooBig

    from webapp.core.uploads import drain

    if isinstance(exception, RequestDataTooBig):
        drain(request)
        return render(request, "too_large.html", {"detail": str(exception)}, status=413)
    return render(request, "bad_request.html", {"detail": str(exception or "")}, status=400)


def too_large_page(request, error):
    """The 413 page for a PayloadTooLarge raised by a page view."""
    return render(request, "too_large.html", {"detail": error.message}, status=413)
