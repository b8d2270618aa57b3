from django.contrib import admin

from webapp.core.admin import ReadOnlyAdmin
from webapp.runs.models import Artifact, Job


class ArtifactInline(admin.TabularInline):
    model = Artifact
    extra = 0
    can_delete = False
    readonly_fields = ("name", "path", "size_bytes", "sha256", "rows", "created_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    """Jobs change only through webapp/runs/services.py (cancel from the jobs page or `manage.py job_cancel`)."""

    list_display = ("id", "kind", "project", "state", "attempts", "progress_done", "progress_total", "requested_by",
                    "requested_at", "finished_at")
    list_filter = ("kind", "state", "project")
    inlines = [ArtifactInline]
