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
