from django.contrib import admin

from webapp.core.admin import ReadOnlyAdmin
from webapp.guidelines.models import Acknowledgement, GuidelineVersion


@admin.register(GuidelineVersion)
class GuidelineVersionAdmin(ReadOnlyAdmin):
    """Read-only: versions are published with the service (publish page or command), never edited."""

    list_display = ("project", "number", "sha256", "author", "published_at", "change_note")
    list_filter = ("project",)
    readonly_fields = ("project", "number", "body_md", "sha256", "change_note", "author", "published_at")


@admin.register(Acknowledgement)
class AcknowledgementAdmin(ReadOnlyAdmin):
    list_display = ("user", "version", "at")
    list_filter = ("version__project",)
