"""Shared plumbing for HTML views."""
import functools

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from webapp.core.errors import Forbidden, NotFound, PayloadTooLarge
from webapp.core.uploads import drain, refuse_oversized_upload, use_import_upload_handlers


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

    if isinstance(exception, RequestDataTooBig):
        drain(request)
        return render(request, "too_large.html", {"detail": str(exception)}, status=413)
    return render(request, "bad_request.html", {"detail": str(exception or "")}, status=400)


def too_large_page(request, error):
    """The 413 page for a PayloadTooLarge raised by a page view."""
    return render(request, "too_large.html", {"detail": error.message}, status=413)


def takes_upload(view):
    """A page view whose POST may carry a file, up to WB_MAX_IMPORT_BYTES, streamed to a temporary file.

    Pages take no file parts by default (FILE_UPLOAD_HANDLERS), so a view that does must swap in the
    import handlers before anything reads the body; the CSRF check reads it (request.POST), so it runs
    here, after the swap, instead of in the middleware. Put it under @login_required: a visitor who
    is not logged in goes to the login page whatever the size."""
    checked = csrf_protect(view)

    @csrf_exempt  # not by the middleware: `checked` does it, once the handlers are set
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "POST":
            try:
                refuse_oversized_upload(request)
            except PayloadTooLarge as error:
                return too_large_page(request, error)
            use_import_upload_handlers(request)
        return checked(request, *args, **kwargs)

    return wrapper
