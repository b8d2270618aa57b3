"""Provenance pages for data leads and admins: a judgment or comparison traced to its sources."""
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from webapp.comparisons.provenance import comparison_provenance, judgment_provenance
from webapp.core.errors import NotFound
from webapp.core.rendering import pygments_css


@require_GET
@login_required
def judgment_page(request, judgment_id):
    try:
        provenance = judgment_provenance(judgment_id=judgment_id, viewer=request.user)
    except NotFound:
        raise Http404("no such judgment in your projects") from None
    return render(request, "comparisons/judgment_provenance.html", {
        "p": provenance, "comparison": provenance.comparison, "pygments_css": pygments_css(),
        # Left first, as the rater saw them.
        "responses": sorted(provenance.comparison.responses, key=lambda response: not response.shown_left),
    })


@require_GET
@login_required
def comparison_page(request, comparison_id):
    try:
        provenance = comparison_provenance(comparison_id=comparison_id, viewer=request.user)
    except NotFound:
        raise Http404("no such comparison in your projects") from None
    return render(request, "comparisons/comparison_provenance.html", {
        "p": provenance, "comparison": provenance.comparison, "pygments_css": pygments_css(),
        "responses": provenance.comparison.responses,
    })
