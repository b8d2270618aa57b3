"""Provenance pages for data leads and admins: a judgment or comparison traced to its sources."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from webapp.comparisons.provenance import (
    batch_judgments,
    batch_provenance,
    comparison_provenance,
    judgment_provenance,
)
from prefkit.rendering import pygments_css
from webapp.core.views import domain_errors_as_pages


@require_GET
@login_required
@domain_errors_as_pages
def judgment_page(request, judgment_id):
    provenance = judgment_provenance(judgment_id=judgment_id, viewer=request.user)
    return render(request, "comparisons/judgment_provenance.html", {
        "p": provenance, "comparison": provenance.comparison, "pygments_css": pygments_css(),
        # Left first, as the rater saw them.
        "responses": sorted(provenance.comparison.responses, key=lambda response: not response.shown_left),
    })


@require_GET
@login_required
@domain_errors_as_pages
def comparison_page(request, comparison_id):
    provenance = comparison_provenance(comparison_id=comparison_id, viewer=request.user)
    return render(request, "comparisons/comparison_provenance.html", {
        "p": provenance, "comparison": provenance.comparison, "pygments_css": pygments_css(),
        "responses": provenance.comparison.responses,
    })


@require_GET
@login_required
@domain_errors_as_pages
def import_batch_page(request, batch_id):
    facts, slug = batch_provenance(batch_id=batch_id, viewer=request.user)
    return render(request, "comparisons/import_batch.html",
                  {"b": facts, "slug": slug, "judgments": batch_judgments(batch_id=batch_id)})
