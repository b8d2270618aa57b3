from django.contrib import admin

from webapp.comparisons.models import Assignment, Comparison, ImportBatch, Judgment
from webapp.core.admin import ReadOnlyAdmin


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ("id", "project", "file_name", "sha256", "imported_by", "requested_at", "status", "created_count", "existing_count")
    list_filter = ("project", "job__state")
    exclude = ("upload",)


@admin.register(Comparison)
class ComparisonAdmin(ReadOnlyAdmin):
    list_display = ("id", "project", "external_id", "gold", "taken", "judged", "batch")
    list_filter = ("project",)


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ("id", "project", "comparison", "rater", "status", "guideline_version", "served_at", "expires_at")
    list_filter = ("project", "status")


@admin.register(Judgment)
class JudgmentAdmin(ReadOnlyAdmin):
    list_display = ("id", "comparison", "rater", "choice", "strength", "guideline_version", "submitted_at", "supersedes")
    list_filter = ("comparison__project", "choice")
